import { RequestError, type ChatClient } from '../../src/client/client.js';
import type { Clock } from '../../src/core/clock.js';
import { systemClock } from '../../src/core/clock.js';
import type { ServerEvent } from '../../src/protocol/events.js';
import { TEST_ADMIN_PASSWORD, type TestServer } from '../helpers/server.js';

export function loginAdmin(server: TestServer): Promise<ChatClient> {
  return server.connect('admin', TEST_ADMIN_PASSWORD);
}

/** The error code a request fails with (fails the test if it succeeds). */
export async function errorOf(request: Promise<unknown>): Promise<RequestError> {
  const outcome = await request.then(
    (data) => new Error(`expected an error, got ${JSON.stringify(data)}`),
    (error: unknown) => error,
  );
  if (!(outcome instanceof RequestError)) throw outcome;
  return outcome;
}

export function collect(client: ChatClient): ServerEvent[] {
  const events: ServerEvent[] = [];
  client.on('event', (event) => events.push(event));
  return events;
}

/** Real time plus an offset the test can move forward (ban expiry without waiting). */
export class OffsetClock implements Clock {
  offsetMs = 0;
  now = () => Date.now() + this.offsetMs;
  setTimeout = systemClock.setTimeout;
  clearTimeout = systemClock.clearTimeout;
}
