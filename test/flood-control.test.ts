import { afterEach, describe, expect, it } from 'vitest';
import { RequestError, type ChatClient } from '../src/client/client.js';
import { RateLimiter } from '../src/core/limits/rate-limiter.js';
import { startTestServer, TEST_ADMIN_PASSWORD, type TestServer } from './helpers/server.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.dispose();
  server = undefined;
});

type Outcome = 'ok' | string;

/** Sends `count` requests at once and reports each one's outcome, in request order. */
async function burst(
  client: ChatClient,
  count: number,
  errors: RequestError[] = [],
): Promise<Outcome[]> {
  const requests = Array.from({ length: count }, () =>
    client.request('ping').then(
      () => 'ok',
      (error: unknown) => {
        if (!(error instanceof RequestError)) return 'closed';
        errors.push(error);
        return error.code;
      },
    ),
  );
  return Promise.all(requests);
}

describe('rate limiter', () => {
  it('allows a burst, delays up to the backlog, then refuses, and refills with time', () => {
    const limiter = new RateLimiter();
    const limits = { burst: 3, perSecond: 10 };
    const kinds = Array.from({ length: 7 }, () => limiter.take(1000, limits, 2).kind);
    expect(kinds).toEqual(['now', 'now', 'now', 'later', 'later', 'refused', 'refused']);
    expect(limiter.isIdle(1000)).toBe(false);
    // 3 + 2 tokens taken at t=1000; after 500 ms (5 intervals) the bucket is full again.
    expect(limiter.isIdle(1500)).toBe(true);
    expect(limiter.take(1500, limits, 2).kind).toBe('now');
  });

  it('tells a delayed action how long to wait', () => {
    const limiter = new RateLimiter();
    const limits = { burst: 1, perSecond: 4 };
    expect(limiter.take(0, limits, 1)).toEqual({ kind: 'now' });
    expect(limiter.take(0, limits, 1)).toEqual({ kind: 'later', delayMs: 250 });
    expect(limiter.take(0, limits, 1)).toEqual({ kind: 'refused', retryAfterMs: 250 });
  });
});

describe('flood control', () => {
  it('delays requests past the burst, then refuses them with rate_limited, in order', async () => {
    server = await startTestServer({ set: { 'flood.burst': 3, 'flood.perSecond': 5 } });
    const alice = await server.connect('alice');
    const errors: RequestError[] = [];
    const outcomes = await burst(alice, 8, errors);
    // 3 at once, 3 more delayed behind the refill, 2 refused.
    expect(outcomes).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'rate_limited', 'rate_limited']);
    const retryAfterMs = errors[0]!.details?.retryAfterMs;
    expect(retryAfterMs).toEqual(expect.any(Number));
    // Waiting as told is enough to be served again; the connection stayed open.
    await new Promise((resolve) => setTimeout(resolve, (retryAfterMs as number) + 50));
    await expect(alice.request('ping')).resolves.toEqual({});
    expect(alice.isClosed).toBe(false);
  });

  it('disconnects a session that keeps flooding, and others see it leave', async () => {
    server = await startTestServer({ set: { 'flood.burst': 3, 'flood.perSecond': 5 } });
    const bob = await server.connect('bob');
    const flooder = await server.connect('flooder');
    const left = bob.waitFor((e) => e.ev === 'offline' && e.nick === 'flooder');
    const outcomes = await burst(flooder, 20);
    expect(outcomes.slice(0, 6)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'ok']);
    expect(outcomes.slice(6, 9)).toEqual(['rate_limited', 'rate_limited', 'rate_limited']);
    expect(outcomes.slice(9).every((outcome) => outcome === 'closed')).toBe(true);
    expect((await flooder.closed()).code).toBe('flooding');
    expect(await left).toMatchObject({ reason: 'dropped' });
    // The flood cost nobody else anything.
    await expect(bob.request('who')).resolves.toMatchObject({ users: [{ nick: 'bob' }] });
  });

  it('lets an admin exempt a session, and only an admin', async () => {
    server = await startTestServer({ set: { 'flood.burst': 3, 'flood.perSecond': 5 } });
    const bot = await server.connect('bot');
    const admin = await server.connect('admin', TEST_ADMIN_PASSWORD);
    const denied = (await bot
      .request('exempt', { nick: 'bot' })
      .catch((e: unknown) => e)) as RequestError;
    expect(denied.code).toBe('not_authorized');
    await expect(admin.request('exempt', { nick: 'Bot' })).resolves.toEqual({
      nick: 'bot',
      exempt: true,
    });
    expect(await burst(bot, 40)).toEqual(Array<string>(40).fill('ok'));
    await admin.request('unexempt', { nick: 'bot' });
    // Flood control is back: the same burst is cut short again.
    const outcomes = await burst(bot, 8);
    expect(outcomes).toContain('rate_limited');
    const unknown = (await admin
      .request('exempt', { nick: 'nobody' })
      .catch((e: unknown) => e)) as RequestError;
    expect(unknown.code).toBe('unknown_user');
  });

  it('is raised by parameters', async () => {
    server = await startTestServer({ set: { 'flood.burst': 100, 'flood.perSecond': 100 } });
    const alice = await server.connect('alice');
    expect(await burst(alice, 100)).toEqual(Array<string>(100).fill('ok'));
  });
});
