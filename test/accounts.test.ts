import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RequestError } from '../src/client/client.js';
import { startTestServer, TEST_ADMIN_PASSWORD, type TestServer } from './helpers/server.js';

const PASSWORD = 'correct horse battery';
const OTHER_PASSWORD = 'tangerine submarine 42';

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

async function registered(s: TestServer, nick: string, password = PASSWORD): Promise<void> {
  const client = await s.connect(nick);
  await client.request('register', { password });
  await client.quit();
}

describe('registration and login', () => {
  it('registers a guest nickname, reserves it, and logs in with the password', async () => {
    server = await startTestServer();
    const alice = await server.connect('alice');
    expect(await alice.request('register', { password: PASSWORD })).toMatchObject({
      nick: 'alice',
      account: true,
    });
    await alice.quit();

    const guest = await server.open();
    expect((await refusal(guest.login('Alice'))).code).toBe('nick_reserved');
    expect((await refusal(guest.login('alice', OTHER_PASSWORD))).code).toBe('login_failed');
    const ready = await guest.login('alice', PASSWORD);
    expect(ready).toMatchObject({ nick: 'alice', account: true, role: 'user' });
    expect(ready.resumeToken).toMatch(/^[A-Za-z0-9_-]{22,}$/);
    // The failed attempt above is reported at this login, with its address.
    expect(ready.failedLogins).toEqual([
      expect.objectContaining({ address: expect.stringContaining('127.0.0.1'), count: 1 }),
    ]);
  });

  it('refuses short, over-long and common passwords, and a guest taking a reserved nick', async () => {
    server = await startTestServer();
    const bob = await server.connect('bob');
    for (const weak of [
      'short',
      'x'.repeat(129),
      'password123',
      'Trustno1',
      'bobbobbob'.slice(0, 3),
    ])
      expect((await refusal(bob.request('register', { password: weak }))).code).toBe(
        'weak_password',
      );
    // No composition rules: a long passphrase of lowercase words is fine.
    await bob.request('register', { password: 'purple elephants dance quietly' });
    await bob.quit();
    const carol = await server.connect('carol');
    // Neither a guest renaming nor a guest logging in may take an account's nickname.
    expect((await refusal(carol.request('nick', { nick: 'bob' }))).code).toBe('nick_reserved');
    expect((await refusal((await server.open()).login('BOB'))).code).toBe('nick_reserved');
  });

  it('answers an unknown nickname and a wrong password alike', async () => {
    server = await startTestServer();
    await registered(server, 'dave');
    const client = await server.open();
    const wrong = await refusal(client.login('dave', OTHER_PASSWORD));
    const unknown = await refusal(client.login('nobody', OTHER_PASSWORD));
    expect(unknown.code).toBe(wrong.code);
    expect(unknown.message).toBe(wrong.message);
  });

  it('changes a password with /passwd, checking the old one', async () => {
    server = await startTestServer();
    await registered(server, 'erin');
    const erin = await server.connect('erin', PASSWORD);
    expect(
      (
        await refusal(
          erin.request('passwd', { oldPassword: 'not my password', newPassword: OTHER_PASSWORD }),
        )
      ).code,
    ).toBe('wrong_password');
    expect(
      (await refusal(erin.request('passwd', { oldPassword: PASSWORD, newPassword: 'qwertyuiop' })))
        .code,
    ).toBe('weak_password');
    await erin.request('passwd', { oldPassword: PASSWORD, newPassword: OTHER_PASSWORD });
    await erin.quit();
    const again = await server.open();
    expect((await refusal(again.login('erin', PASSWORD))).code).toBe('login_failed');
    await expect(again.login('erin', OTHER_PASSWORD)).resolves.toMatchObject({ account: true });
  });

  it('deregisters after the password and an explicit yes, freeing the nickname', async () => {
    server = await startTestServer();
    await registered(server, 'frank');
    const frank = await server.connect('frank', PASSWORD);
    expect(
      (await refusal(frank.request('deregister', { password: PASSWORD, confirm: false }))).code,
    ).toBe('confirmation_required');
    expect(
      (await refusal(frank.request('deregister', { password: OTHER_PASSWORD, confirm: true })))
        .code,
    ).toBe('wrong_password');
    expect(await frank.request('deregister', { password: PASSWORD, confirm: true })).toMatchObject({
      account: false,
      role: 'guest',
    });
    expect(await server.server.core.store.accounts.findByKey('frank')).toBeUndefined();
    await frank.quit();
    const guest = await server.open();
    await expect(guest.login('frank')).resolves.toMatchObject({ account: false });
  });
});

describe('one session per account', () => {
  it('refuses a second login, and a take-over ends the first session with a notice', async () => {
    server = await startTestServer();
    await registered(server, 'gina');
    const first = await server.connect('gina', PASSWORD);
    const watcher = await server.connect('watcher');
    const second = await server.open();
    // Without a password, an account online is still an account: the password step, not
    // "taken" (which sent people to a nickname prompt to type their password there).
    expect((await refusal(second.login('gina'))).code).toBe('nick_reserved');
    expect((await refusal(second.login('gina', PASSWORD))).code).toBe('already_logged_in');

    const notice = first.waitFor((e) => e.ev === 'notice');
    const firstClosed = first.closed();
    const seen = watcher.waitFor((e) => e.ev === 'offline');
    await expect(second.login('gina', PASSWORD, { takeover: true })).resolves.toMatchObject({
      nick: 'gina',
    });
    expect(await notice).toMatchObject({ text: expect.stringContaining('another connection') });
    expect(await firstClosed).toMatchObject({ code: 'replaced' });
    expect(await seen).toMatchObject({ nick: 'gina', reason: 'replaced' });
    const { users } = await watcher.request<{ users: { nick: string }[] }>('who');
    expect(users.filter((user) => user.nick === 'gina')).toHaveLength(1);
  });
});

describe('admin role', () => {
  it('creates the admin account from the given password; only admins run admin commands', async () => {
    server = await startTestServer();
    const admin = await server.connect('admin', TEST_ADMIN_PASSWORD);
    await expect(admin.request('lockouts')).resolves.toMatchObject({ pairs: [], addresses: [] });
    expect(server.server.admin.kind).toBe('from-environment');
    const user = await server.connect('mallory');
    const error = await refusal(user.request('lockouts'));
    expect(error.code).toBe('not_authorized');
    const catalogue = user.commands.find((command) => command.name === 'lockouts');
    expect(catalogue?.admin).toBe(true);
  });

  it('generates a one-time admin password when none is given', async () => {
    server = await startTestServer({ adminPassword: '' });
    const bootstrap = server.server.admin;
    expect(bootstrap.kind).toBe('generated');
    const password = bootstrap.kind === 'generated' ? bootstrap.password : '';
    const admin = await server.connect('admin', password);
    expect((await admin.request<{ users: { role: string }[] }>('who')).users[0]?.role).toBe(
      'admin',
    );
  });
});

describe('logs', () => {
  it('never contain a password, a hash or a resume token', async () => {
    server = await startTestServer();
    const henry = await server.connect('henry');
    await henry.request('register', { password: PASSWORD });
    await refusal(
      henry.request('passwd', { oldPassword: 'wrong wrong wrong', newPassword: OTHER_PASSWORD }),
    );
    await henry.request('passwd', { oldPassword: PASSWORD, newPassword: OTHER_PASSWORD });
    await henry.quit();
    const again = await server.open();
    await refusal(again.login('henry', PASSWORD));
    const ready = await again.login('henry', OTHER_PASSWORD);
    await again.request('deregister', { password: OTHER_PASSWORD, confirm: true });
    await again.quit();
    const admin = await server.connect('admin', TEST_ADMIN_PASSWORD);
    await admin.quit();
    const logDir = server.server.logDir;
    await server.stop();
    const logs =
      readFileSync(path.join(logDir, 'server.log'), 'utf8') +
      readFileSync(path.join(logDir, 'messages.log'), 'utf8');
    expect(logs).toContain('"event":"login"');
    for (const secret of [
      PASSWORD,
      OTHER_PASSWORD,
      TEST_ADMIN_PASSWORD,
      'wrong wrong wrong',
      ready.resumeToken!,
    ])
      expect(logs).not.toContain(secret);
    expect(logs).not.toMatch(/\$argon2/);
  });
});
