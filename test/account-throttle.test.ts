import { afterEach, describe, expect, it } from 'vitest';
import { RequestError, type ChatClient } from '../src/client/client.js';
import {
  NAME_FREE_FAILURES,
  NAME_MAX_DELAY_MS,
  NAME_WINDOW_MS,
  nameThrottledUntil,
} from '../src/core/accounts/lockout.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const PASSWORD = 'correct horse battery';
const WRONG = 'not the password at all';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.dispose();
  server = undefined;
});

async function outcome(promise: Promise<unknown>): Promise<RequestError | 'ok'> {
  return promise.then(
    () => 'ok' as const,
    (error: unknown) => {
      expect(error).toBeInstanceOf(RequestError);
      return error as RequestError;
    },
  );
}

describe('the per-name delay (pure rule)', () => {
  const at = (failures: number, lastAt = 10_000, windowStart = 0) =>
    nameThrottledUntil({ failures, windowStart, lastAt }, 100, lastAt);
  it('is free for the first failures, then doubles up to a minute, then stops at the cap', () => {
    expect(at(NAME_FREE_FAILURES - 1)).toBe(0);
    expect(at(NAME_FREE_FAILURES) - 10_000).toBe(1000);
    expect(at(NAME_FREE_FAILURES + 1) - 10_000).toBe(2000);
    expect(at(NAME_FREE_FAILURES + 5) - 10_000).toBe(32_000);
    expect(at(NAME_FREE_FAILURES + 6) - 10_000).toBe(NAME_MAX_DELAY_MS);
    expect(at(99) - 10_000).toBe(NAME_MAX_DELAY_MS);
    expect(at(100)).toBe(NAME_WINDOW_MS);
    // At most 100 failed attempts an hour (ASVS 2.2.1), whatever the delays.
    let failures = 0;
    let now = 0;
    while (now < NAME_WINDOW_MS) {
      const until = nameThrottledUntil({ failures, windowStart: 0, lastAt: now }, 100, now);
      if (until >= NAME_WINDOW_MS) break;
      now = Math.max(now, until);
      failures++;
    }
    expect(failures).toBeLessThanOrEqual(100);
    // Over when the window is.
    expect(
      nameThrottledUntil({ failures: 100, windowStart: 0, lastAt: 5 }, 100, NAME_WINDOW_MS),
    ).toBe(0);
  });
});

describe('guesses at one account from many addresses', () => {
  it('are slowed down across addresses, while the owner (known address, resume token) gets in', async () => {
    server = await startTestServer();
    const owner = await server.connect('ivy');
    await owner.request('register', { password: PASSWORD });
    await owner.quit();
    // The owner logs in from home once: that address now has a good history.
    const home = await server.open();
    const ready = await home.login('ivy', PASSWORD);
    home.destroy(); // dropped: the session waits to be resumed
    for (let i = 0; i < 200 && server.server.core.findSession('ivy')?.link; i++)
      await new Promise((resolve) => setTimeout(resolve, 10));

    // Issue 16's attack: 30 addresses, 3 guesses each, as fast as replies come.
    const clients: ChatClient[] = [];
    for (let i = 1; i <= 30; i++) clients.push(await server.open({ localAddress: `127.0.1.${i}` }));
    const results = (
      await Promise.all(
        clients.map(async (client) => {
          const mine: Array<RequestError | 'ok'> = [];
          for (let j = 0; j < 3; j++) mine.push(await outcome(client.login('ivy', WRONG)));
          return mine;
        }),
      )
    ).flat();
    expect(results.filter((r) => r === 'ok')).toEqual([]);
    // Only the free failures and a delayed one or two were checked against the password.
    const failures = await server.server.core.store.loginGuard.nameFailures('ivy');
    expect(failures!.failures).toBeGreaterThanOrEqual(NAME_FREE_FAILURES);
    expect(failures!.failures).toBeLessThanOrEqual(NAME_FREE_FAILURES + 3);
    const slowed = results.filter(
      (r): r is RequestError => r !== 'ok' && r.details?.retryAfterSeconds !== undefined,
    );
    expect(slowed.length).toBeGreaterThan(80);
    // Even the right password from yet another stranger's address waits.
    const stranger = await server.open({ localAddress: '127.0.1.31' });
    const refused = await outcome(stranger.login('ivy', PASSWORD));
    expect(refused).toMatchObject({ code: 'login_failed' });

    // The owner's resume token still works...
    const back = await server.open();
    await expect(back.resume(ready.resumeToken!)).resolves.toMatchObject({ nick: 'ivy' });
    await back.quit();
    // ...and so does the password from the address it logged in from before.
    const again = await server.open();
    const login = await again.login('ivy', PASSWORD);
    expect(login).toMatchObject({ nick: 'ivy' });
    // Told of the guesses, throttled ones included.
    const total = login.failedLogins!.reduce((sum, f) => sum + f.count, 0);
    expect(total).toBeGreaterThanOrEqual(90);
  }, 60_000);

  it('stops at lockout.accountAttempts failures an hour, and says when to come back', async () => {
    server = await startTestServer({ set: { 'lockout.accountAttempts': 3 } });
    const owner = await server.connect('jo');
    await owner.request('register', { password: PASSWORD });
    await owner.quit();
    for (let i = 1; i <= 3; i++) {
      const client = await server.open({ localAddress: `127.0.2.${i}` });
      await expect(client.login('jo', WRONG)).rejects.toMatchObject({ code: 'login_failed' });
    }
    const late = await server.open({ localAddress: '127.0.2.9' });
    const refused = await outcome(late.login('jo', PASSWORD));
    expect(refused).toMatchObject({ code: 'login_failed' });
    expect((refused as RequestError).details?.retryAfterSeconds).toBeGreaterThan(3500);
  });
});
