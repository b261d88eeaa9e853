import { setTimeout as sleep } from 'node:timers/promises';
import type { Telemetry } from '../telemetry/telemetry.js';
import type { Store } from './store.js';

/** Milliseconds a call takes, drawn uniformly from [minMs, maxMs] for each call. */
export interface LatencyRange {
  readonly minMs: number;
  readonly maxMs: number;
}

/** The environment variable that makes every test server wrap its store (`MIN:MAX`, ms). */
export const STORE_LATENCY_ENV = 'CONFAB_TEST_STORE_LATENCY';

/** Reads `MIN:MAX` (or a single `MS`); undefined when unset or empty. */
export function parseStoreLatency(value: string | undefined): LatencyRange | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*(?::\s*(\d+(?:\.\d+)?)\s*)?$/.exec(value);
  if (!match)
    throw new Error(`${STORE_LATENCY_ENV} must be MIN:MAX in milliseconds, not "${value}"`);
  const minMs = Number(match[1]);
  const maxMs = match[2] === undefined ? minMs : Number(match[2]);
  if (maxMs < minMs)
    throw new Error(`${STORE_LATENCY_ENV}: MAX (${maxMs}) is below MIN (${minMs})`);
  return { minMs, maxMs };
}

/** Every sub-store of `Store`: a new one fails to compile until it is listed here. */
const SUB_STORES: Record<Exclude<keyof Store, 'close' | 'instrument' | 'ping' | 'blobs'>, true> = {
  messages: true,
  accounts: true,
  rooms: true,
  blocks: true,
  inbox: true,
  presence: true,
  files: true,
  moderation: true,
  settings: true,
  audit: true,
  loginGuard: true,
  cases: true,
  idBlocks: true,
};

/**
 * A store whose every call answers late, as a networked database does: each call takes a
 * time drawn from `range`, and the operation itself runs at a random instant within it.
 * So two calls made in one order may reach the backend, and resolve, in either order, and
 * a read may see writes made after it was called. Callers that rely on anything the store
 * contract (src/store/store.ts) does not promise fail under it; tests run with it through
 * `CONFAB_TEST_STORE_LATENCY`.
 */
export function withLatency(
  inner: Store,
  range: LatencyRange,
  random: () => number = Math.random,
): Store {
  const inFlight = new Set<Promise<unknown>>();
  const late = <T>(operation: () => Promise<T>): Promise<T> => {
    const total = range.minMs + random() * (range.maxMs - range.minMs);
    const before = total * random();
    const call = (async () => {
      await sleep(before);
      try {
        return await operation();
      } finally {
        await sleep(total - before);
      }
    })();
    inFlight.add(call);
    const settled = () => inFlight.delete(call);
    call.then(settled, settled);
    return call;
  };
  const wrapped = {} as Record<string, unknown>;
  for (const name of Object.keys(SUB_STORES) as Array<keyof typeof SUB_STORES>)
    wrapped[name] = delayed(inner[name], late);
  // Calls answer in any order here, appends included: the store promises no order.
  const messages = wrapped.messages as Store['messages'];
  // The listener form answers late as well: as the promise form, through the same delay.
  const appendThen: Store['messages']['appendThen'] = (message, listener) => {
    messages.append(message).then(
      (stored) => listener.committed(stored),
      (error: unknown) => listener.failed(error as Error),
    );
  };
  wrapped.messages = new Proxy(messages, {
    get: (target, property) =>
      property === 'appendsInOrder'
        ? false
        : property === 'appendThen'
          ? appendThen
          : Reflect.get(target, property, target),
  });
  // File bytes are not rows: the core's ordering never depends on them.
  if (inner.blobs) wrapped.blobs = inner.blobs;
  wrapped.instrument = (telemetry: Telemetry) => inner.instrument(telemetry);
  wrapped.ping = () => late(() => inner.ping());
  wrapped.close = async () => {
    // Calls still waiting to reach the backend run first, as they would over a network.
    while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    await inner.close();
  };
  return wrapped as unknown as Store;
}

function delayed<T extends object>(
  inner: T,
  late: <R>(operation: () => Promise<R>) => Promise<R>,
): T {
  const methods = new Map<PropertyKey, unknown>();
  return new Proxy(inner, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      let method = methods.get(property);
      if (!method) {
        method = (...args: unknown[]) =>
          late(async () => (value as (...a: unknown[]) => unknown).apply(target, args));
        methods.set(property, method);
      }
      return method;
    },
  });
}
