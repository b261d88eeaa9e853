import type { ClientSpec, SenderPlan } from './ipc.js';
import { Generator, ServerProcess, sourceAddress, type Collected } from './harness.js';
import { nowMicros } from './lean-client.js';
import { LatencyHistogram } from './stats.js';

/** Settings shared by every scenario of one run. */
export interface RunContext {
  readonly quick: boolean;
  readonly workers: number;
  readonly profileDir: string | undefined;
  /** Only these room / group sizes (`--size`), when given. */
  readonly sizes: readonly number[] | undefined;
  log(message: string): void;
}

export interface Row {
  readonly metric: string;
  readonly value: string;
  readonly target?: string;
  readonly met?: boolean;
}

export interface ScenarioResult {
  readonly name: string;
  readonly title: string;
  readonly rows: Row[];
  readonly notes: string[];
}

export function sizesFor(ctx: RunContext, all: readonly number[]): number[] {
  return ctx.sizes ? all.filter((size) => ctx.sizes!.includes(size)) : [...all];
}

/** How many source addresses (127.0.0.1 … 127.0.0.N) clients are spread over. */
export const SOURCE_ADDRESSES = 10;

export function clientSpecs(count: number, prefix: string, offset = 0): ClientSpec[] {
  return Array.from({ length: count }, (_, i) => ({
    index: offset + i,
    nick: `${prefix}${offset + i}`,
    localAddress: sourceAddress(offset + i, SOURCE_ADDRESSES),
  }));
}

/** Starts a server and a generator, runs `body`, and always stops both. */
export async function withRig<T>(
  ctx: RunContext,
  parameters: Readonly<Record<string, string | number>>,
  body: (server: ServerProcess, generator: Generator) => Promise<T>,
  kind: 'confab' | 'floor' = 'confab',
): Promise<T> {
  const server = await ServerProcess.start({
    parameters,
    kind,
    ...(ctx.profileDir !== undefined && { profileDir: ctx.profileDir }),
  });
  if (server.skipped.length > 0)
    ctx.log(`  (parameters not in this build, skipped: ${server.skipped.join(', ')})`);
  const generator = Generator.start(ctx.workers);
  try {
    return await body(server, generator);
  } finally {
    await generator.stop();
    await server.stop();
  }
}

/** Waits until the server's CPU has been quiet for a moment (presence notices drained). */
export async function settle(server: ServerProcess, maxMs = 120_000): Promise<void> {
  const deadline = performance.now() + maxMs;
  let previous = await server.stats();
  let at = performance.now();
  while (performance.now() < deadline) {
    await sleep(500);
    const current = await server.stats();
    const now = performance.now();
    const busy = (current.cpuMicros - previous.cpuMicros) / 1000 / (now - at);
    if (busy < 0.05) return;
    previous = current;
    at = now;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface LoadOutcome {
  readonly acked: number;
  readonly failed: number;
  readonly firstError: string | undefined;
  readonly expected: number;
  readonly received: number;
  readonly violations: number;
  /** Senders whose messages some receiver did not see to the end. */
  readonly incompleteSenders: number;
  readonly deliveriesPerSecond: number;
  readonly messagesPerSecond: number;
  readonly storedDelta: number;
  readonly latency: LatencyHistogram;
  readonly serverCpu: number;
  readonly generatorCpu: number;
  /** CPU time per delivery, in µs: unlike rates, barely affected by other load on the machine. */
  readonly serverMicrosPerDelivery: number;
  /** The server's main thread (its event loop) alone, when known. */
  readonly serverMainThreadMicrosPerDelivery: number | undefined;
  readonly generatorMicrosPerDelivery: number;
  readonly seconds: number;
}

/**
 * Runs senders for `durationMs`, waits for every delivery (bounded), and checks the counts:
 * each acknowledged message must reach each of its `recipients` exactly once, in order.
 */
export async function runLoad(
  server: ServerProcess,
  generator: Generator,
  plans: readonly SenderPlan[],
  durationMs: number,
  recipients: number,
): Promise<LoadOutcome> {
  generator.reset();
  const serverBefore = await server.stats();
  const generatorBefore = await generator.collect();
  const startedAt = nowMicros();
  const wallStart = performance.now();
  const loaded = await generator.load(plans, durationMs);
  const acked = loaded.senders.reduce((sum, sender) => sum + sender.acked, 0);
  const failed = loaded.senders.reduce((sum, sender) => sum + sender.failed, 0);
  const expected = acked * recipients;
  let collected: Collected = await generator.collect();
  const drainDeadline = performance.now() + 30_000;
  while (collected.received < expected && performance.now() < drainDeadline) {
    await sleep(100);
    collected = await generator.collect();
  }
  const wallSeconds = (performance.now() - wallStart) / 1000;
  const serverAfter = await server.stats();
  const ackedBySender = new Map(loaded.senders.map((sender) => [sender.senderNo, sender.acked]));
  let incompleteSenders = 0;
  for (const [senderNo, senderAcked] of ackedBySender) {
    if (senderAcked === 0) continue;
    const seen = collected.seen.get(senderNo);
    if (!seen || seen.receivers !== recipients || seen.minLast !== senderAcked) incompleteSenders++;
  }
  const activeSeconds = Math.max(collected.lastAt - startedAt, 1) / 1e6;
  return {
    acked,
    failed,
    firstError: loaded.firstError,
    expected,
    received: collected.received,
    violations: collected.violations,
    incompleteSenders,
    deliveriesPerSecond: collected.received / activeSeconds,
    messagesPerSecond: acked / activeSeconds,
    storedDelta: serverAfter.storedMessages - serverBefore.storedMessages,
    latency: LatencyHistogram.from(collected.histograms),
    serverCpu: (serverAfter.cpuMicros - serverBefore.cpuMicros) / 1e6 / wallSeconds,
    generatorCpu: (collected.cpuMicros - generatorBefore.cpuMicros) / 1e6 / wallSeconds,
    serverMicrosPerDelivery:
      (serverAfter.cpuMicros - serverBefore.cpuMicros) / Math.max(1, collected.received),
    serverMainThreadMicrosPerDelivery:
      serverAfter.mainThreadCpuMicros === undefined ||
      serverBefore.mainThreadCpuMicros === undefined
        ? undefined
        : (serverAfter.mainThreadCpuMicros - serverBefore.mainThreadCpuMicros) /
          Math.max(1, collected.received),
    generatorMicrosPerDelivery:
      (collected.cpuMicros - generatorBefore.cpuMicros) / Math.max(1, collected.received),
    seconds: activeSeconds,
  };
}

/** "0 lost, 0 duplicated" only when every count agrees; otherwise what went wrong. */
export function integrity(outcome: LoadOutcome): { text: string; ok: boolean } {
  const ok =
    outcome.failed === 0 &&
    outcome.received === outcome.expected &&
    outcome.violations === 0 &&
    outcome.incompleteSenders === 0 &&
    outcome.storedDelta === outcome.acked;
  const text = ok
    ? `0 lost, 0 duplicated (${outcome.received.toLocaleString('en-US')} deliveries, ${outcome.acked.toLocaleString('en-US')} stored)`
    : `expected ${outcome.expected} got ${outcome.received}; ${outcome.violations} out of sequence; ` +
      `${outcome.incompleteSenders} senders incomplete; ${outcome.failed} refused` +
      (outcome.firstError ? ` (${outcome.firstError.slice(0, 120)})` : '') +
      `; stored ${outcome.storedDelta} of ${outcome.acked}`;
  return { text, ok };
}

export function percent(fraction: number): string {
  return `${Math.round(fraction * 100)}%`;
}
