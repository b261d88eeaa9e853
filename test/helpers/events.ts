import { RequestError, type ChatClient } from '../../src/client/client.js';
import type { ServerEvent } from '../../src/protocol/events.js';
import type { TestServer } from './server.js';

/** Records every event a client receives from now on. */
export function collect(client: ChatClient): ServerEvent[] {
  const events: ServerEvent[] = [];
  client.on('event', (event) => events.push(event));
  return events;
}

/**
 * Connects and logs in with events recorded from before the login reply, since the server
 * sends restored rooms and missed messages right after it.
 */
export async function connectRecording(
  server: TestServer,
  nick: string,
  password?: string,
): Promise<{ client: ChatClient; events: ServerEvent[] }> {
  const client = await server.open();
  const events = collect(client);
  await client.login(nick, password);
  // A round trip: everything sent before its reply (the login backlog) has arrived.
  await client.request('ping');
  return { client, events };
}

/** The error a request fails with (the test fails if it succeeds). */
export async function failure(promise: Promise<unknown>): Promise<RequestError> {
  const outcome = await promise.then(
    (data) => ({ ok: true as const, data }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  if (outcome.ok) throw new Error(`Expected an error, got ${JSON.stringify(outcome.data)}`);
  if (!(outcome.error instanceof RequestError)) throw outcome.error;
  return outcome.error;
}

export const PASSWORD = 'a-long-enough-password-42';

/** Makes `nick` an account and leaves; returns nothing (log in again with PASSWORD). */
export async function makeAccount(server: TestServer, nick: string): Promise<void> {
  const client = await server.connect(nick);
  await client.request('register', { password: PASSWORD });
  await client.quit();
}

export function ofKind<N extends ServerEvent['ev']>(
  events: readonly ServerEvent[],
  ev: N,
): Extract<ServerEvent, { ev: N }>[] {
  return events.filter((event): event is Extract<ServerEvent, { ev: N }> => event.ev === ev);
}

/**
 * Waits until `check` holds, asking every `everyMs`; fails naming `what` after
 * `timeoutMs`. Resolves how long it took.
 */
export async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  everyMs = 50,
): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  return Date.now() - started;
}

/** A promise and the function that settles it: a test holds something at it, then opens it. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}
