import { afterEach, describe, expect, it } from 'vitest';
import { nameSkeleton, reservedLookalike } from '../src/core/accounts/confusables.js';
import { startTestServer, TEST_ADMIN_PASSWORD, type TestServer } from './helpers/server.js';

const servers: TestServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.dispose();
});

async function server(): Promise<TestServer> {
  const started = await startTestServer();
  servers.push(started);
  return started;
}

describe('confusable skeletons (Unicode TR39)', () => {
  it('gives look-alikes one skeleton and different names different ones', () => {
    const admin = nameSkeleton('admin');
    for (const lookalike of ['аdmin', 'admın', 'ADMIN', 'ａｄｍｉｎ', 'adrnin'])
      expect(nameSkeleton(lookalike), lookalike).toBe(admin);
    expect(nameSkeleton('b0b')).toBe(nameSkeleton('bob'));
    expect(nameSkeleton('раul')).toBe(nameSkeleton('paul'));
    for (const different of ['admins', 'zoë', 'bobby', '李雷'])
      expect(nameSkeleton(different)).not.toBe(admin);
    expect(nameSkeleton('Zoë')).not.toBe(nameSkeleton('Zoe'));
    expect(reservedLookalike('C0nfab')).toBe('Confab');
    expect(reservedLookalike('alice')).toBeUndefined();
  });
});

describe('look-alike nicknames', () => {
  it('refuses guests that imitate an account or a reserved name, and lets the rest in', async () => {
    const test = await server();
    for (const nick of ['аdmin', 'admın', 'adrnin']) {
      const client = await test.open();
      await expect(client.login(nick), nick).rejects.toMatchObject({
        code: 'nick_confusable',
        details: { like: 'admin' },
      });
      // The connection stays open for another try, as after any refused nickname.
      await expect(client.login(`${nick}_fan`)).resolves.toMatchObject({ account: false });
    }
    const service = await test.open();
    await expect(service.login('C0nfab')).rejects.toMatchObject({
      code: 'nick_confusable',
      details: { like: 'Confab' },
    });
    // The account's own name is still the password step, not a look-alike.
    const owner = await test.open();
    await expect(owner.login('ADMIN')).rejects.toMatchObject({ code: 'nick_reserved' });
    await expect(owner.login('admin', TEST_ADMIN_PASSWORD)).resolves.toMatchObject({
      role: 'admin',
    });
  });

  it('refuses a guest rename and a registration that would imitate an account', async () => {
    const test = await server();
    const bob = await test.connect('bob');
    await bob.request('register', { password: 'a long enough password for bob' });
    await bob.quit();

    const guest = await test.connect('guest1');
    await expect(guest.request('nick', { nick: 'b0b' })).rejects.toMatchObject({
      code: 'nick_confusable',
      details: { like: 'bob' },
    });
    await expect(guest.request('nick', { nick: 'bobby' })).resolves.toMatchObject({
      nick: 'bobby',
    });

    // A guest that got its name before the account existed cannot make it an account.
    const early = await test.connect('раul');
    const paul = await test.connect('paul');
    await paul.request('register', { password: 'a long enough password for paul' });
    await expect(
      early.request('register', { password: 'a long enough password for раul' }),
    ).rejects.toMatchObject({ code: 'nick_confusable', details: { like: 'paul' } });
  });

  it('gives accounts stored before skeletons were kept theirs at start', async () => {
    const first = await server();
    const carol = await first.connect('carol');
    await carol.request('register', { password: 'a long enough password for carol' });
    await carol.quit();
    // As a database from before migration 9 would hold it.
    first.database.prepare('UPDATE accounts SET name_skeleton = NULL').run();
    const dataDir = first.dataDir;
    await first.stop();

    const again = await startTestServer({ dataDir });
    servers.push(again);
    const skeletons = again.database
      .prepare('SELECT name_key, name_skeleton FROM accounts ORDER BY name_key')
      .all();
    expect(skeletons).toEqual([
      { name_key: 'admin', name_skeleton: nameSkeleton('admin') },
      { name_key: 'carol', name_skeleton: nameSkeleton('carol') },
    ]);
    const client = await again.open();
    await expect(client.login('cаrol')).rejects.toMatchObject({ code: 'nick_confusable' });
  });
});
