import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { RequestError } from '../src/client/client.js';
import { makeDataDir, startTestServer, type TestServer } from './helpers/server.js';

const PASSWORD = 'correct horse battery';
const WRONG = 'not the password at all';
/** Another machine, as far as the server can tell. */
const ELSEWHERE = { localAddress: '127.0.0.2' };

let server: TestServer | undefined;
afterEach(async () => {
  await server?.dispose();
  server = undefined;
});

async function refusal(promise: Promise<unknown>): Promise<RequestError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RequestError);
  return error as RequestError;
}

async function register(s: TestServer, nick: string): Promise<void> {
  const client = await s.connect(nick);
  await client.request('register', { password: PASSWORD });
  await client.quit();
}

describe('lockout after failed passwords', () => {
  it('locks one nickname from one address, says for how long, and ends on time', async () => {
    server = await startTestServer({ set: { 'lockout.attempts': 3, 'lockout.seconds': 1 } });
    await register(server, 'ivy');
    await register(server, 'jack');
    const client = await server.open();
    expect((await refusal(client.login('ivy', WRONG))).details).toBeUndefined();
    await refusal(client.login('ivy', WRONG));
    const third = await refusal(client.login('ivy', WRONG));
    expect(third.code).toBe('login_failed');
    expect(third.details).toEqual({ retryAfterSeconds: 1 });
    // Locked: even the right password is refused from this address...
    const locked = await refusal(client.login('ivy', PASSWORD));
    expect(locked.message).toBe(third.message);
    // ...while another account from this address, and this account from elsewhere, work.
    await expect((await server.open()).login('jack', PASSWORD)).resolves.toMatchObject({
      nick: 'jack',
    });
    const elsewhere = await server.open(ELSEWHERE);
    const ready = await elsewhere.login('ivy', PASSWORD);
    // Told of the attempts since the last login, with their address.
    expect(ready.failedLogins).toEqual([
      expect.objectContaining({ address: '127.0.0.1', count: 4 }),
    ]);
    await elsewhere.quit();
    await sleep(1100);
    await expect(client.login('ivy', PASSWORD)).resolves.toMatchObject({ nick: 'ivy' });
  });

  it('counts unknown nicknames the same way, so a lockout reveals nothing', async () => {
    server = await startTestServer({ set: { 'lockout.attempts': 2, 'lockout.seconds': 30 } });
    await register(server, 'kate');
    const client = await server.open();
    const known: RequestError[] = [];
    const unknown: RequestError[] = [];
    for (let i = 0; i < 3; i++) known.push(await refusal(client.login('kate', WRONG)));
    for (let i = 0; i < 3; i++) unknown.push(await refusal(client.login('nobody', WRONG)));
    expect(unknown.map((e) => [e.code, e.message, e.details])).toEqual(
      known.map((e) => [e.code, e.message, e.details]),
    );
    expect(known[2]!.details).toEqual({ retryAfterSeconds: 30 });
  });

  it('resets the count on a successful login', async () => {
    server = await startTestServer({ set: { 'lockout.attempts': 3, 'lockout.seconds': 30 } });
    await register(server, 'liam');
    const client = await server.open();
    await refusal(client.login('liam', WRONG));
    await refusal(client.login('liam', WRONG));
    await client.login('liam', PASSWORD);
    await client.quit();
    const again = await server.open();
    await refusal(again.login('liam', WRONG));
    const second = await refusal(again.login('liam', WRONG));
    expect(second.details).toBeUndefined();
    await expect(again.login('liam', PASSWORD)).resolves.toMatchObject({ nick: 'liam' });
  });

  it('survives a restart', async () => {
    const dataDir = makeDataDir();
    const set = { 'lockout.attempts': 2, 'lockout.seconds': 600 };
    server = await startTestServer({ set, dataDir });
    await register(server, 'mona');
    const client = await server.open();
    await refusal(client.login('mona', WRONG));
    await refusal(client.login('mona', WRONG));
    await server.stop();
    server = await startTestServer({ set, dataDir });
    const after = await refusal((await server.open()).login('mona', PASSWORD));
    expect(after.details).toMatchObject({ retryAfterSeconds: expect.any(Number) });
    const admin = await server.connect('admin', 'test-admin-password-1');
    const { pairs } = await admin.request<{ pairs: { nick: string; address: string }[] }>(
      'lockouts',
    );
    expect(pairs).toEqual([expect.objectContaining({ nick: 'mona', address: '127.0.0.1' })]);
  });

  it('limits one address spraying passwords over many nicknames', async () => {
    server = await startTestServer({
      set: { 'lockout.attempts': 3, 'lockout.addressAttempts': 4, 'lockout.seconds': 30 },
    });
    await register(server, 'nina');
    const client = await server.open();
    for (const nick of ['a1', 'a2', 'a3']) {
      const error = await refusal(client.login(nick, WRONG));
      expect(error.details).toBeUndefined();
    }
    const fourth = await refusal(client.login('a4', WRONG));
    expect(fourth.details).toEqual({ retryAfterSeconds: 30 });
    // The whole address is out now, even with a right password for a fresh nickname...
    expect((await refusal(client.login('nina', PASSWORD))).details).toEqual({
      retryAfterSeconds: 30,
    });
    // ...but another address is not.
    await expect((await server.open(ELSEWHERE)).login('nina', PASSWORD)).resolves.toMatchObject({
      nick: 'nina',
    });
  });
});
