import { parseInput } from '../../src/client/input-parser.js';
import { afterEach, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/core/accounts/passwords.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { makeDataDir, startTestServer, type TestServer } from '../helpers/server.js';
import { collect, errorOf, loginAdmin, OffsetClock } from './helpers.js';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { nameSkeleton } from '../../src/core/accounts/confusables.js';

const servers: TestServer[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.dispose();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** The server log of a data directory, one object per line. */
function serverLogLines(dataDir: string): Array<Record<string, unknown>> {
  return readFileSync(path.join(dataDir, 'logs', 'server.log'), 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

async function start(options: Parameters<typeof startTestServer>[0] = {}) {
  const server = await startTestServer(options);
  servers.push(server);
  return server;
}

/** Every admin command with arguments that would work for an admin. */
const ADMIN_REQUESTS: Array<[string, object]> = [
  ['kick', { nick: 'bob' }],
  ['ban', { nick: 'bob' }],
  ['unban', { nick: 'bob' }],
  ['bans', {}],
  ['suspend', { nick: 'bob' }],
  ['forgive', { nick: 'bob' }],
  ['lock', {}],
  ['unlock', {}],
  ['announce', { text: 'hi' }],
  ['monitor', { state: 'on' }],
  ['shutdown', { seconds: 60 }],
  ['config', {}],
  ['users', {}],
];

describe('admin commands', () => {
  it('are all refused to a non-admin, with not_authorized, and change nothing', async () => {
    const server = await start();
    const alice = await server.connect('alice');
    const bob = await server.connect('bob');
    const bobEvents = collect(bob);
    const advertised = alice.commands.filter((command) => command.admin).map((c) => c.name);
    expect(advertised).toEqual(expect.arrayContaining(ADMIN_REQUESTS.map(([cmd]) => cmd)));
    for (const [cmd, args] of ADMIN_REQUESTS)
      expect((await errorOf(alice.request(cmd, args))).code, cmd).toBe('not_authorized');
    await bob.request('ping');
    expect(bob.isClosed).toBe(false);
    expect(bobEvents.filter((event) => event.ev !== 'ping')).toEqual([]);
    expect(server.server.core.admin.countdown.isRunning).toBe(false);
  });

  it('name a user that does not exist with a clear error', async () => {
    const server = await start();
    const admin = await loginAdmin(server);
    for (const cmd of ['kick', 'ban', 'suspend', 'forgive', 'unban']) {
      const error = await errorOf(admin.request(cmd, { nick: 'ghost' }));
      expect(error.code, cmd).toBe('unknown_user');
      expect(error.message).toContain('ghost');
    }
  });

  it('cannot be turned on oneself', async () => {
    const server = await start();
    const admin = await loginAdmin(server);
    for (const cmd of ['kick', 'ban', 'suspend'])
      expect((await errorOf(admin.request(cmd, { nick: 'admin' }))).code, cmd).toBe(
        'invalid_target',
      );
  });
});

describe('/kick', () => {
  it('disconnects the user with the reason, and everyone is told', async () => {
    // Above presence.announceMax, logouts reach roommates only; a kick still reaches all.
    const server = await start({ set: { 'presence.announceMax': 1 } });
    const admin = await loginAdmin(server);
    const bob = await server.connect('bob');
    const carol = await server.connect('carol');
    const carolSees = carol.waitFor((e) => e.ev === 'offline');
    const bobClosed = bob.closed();
    // The seed's bare `kill NAME` is in the catalogue as kick's bare word.
    expect(admin.commands.find((c) => c.name === 'kick')).toMatchObject({
      aliases: ['kill'],
      bare: ['kill'],
    });
    await expect(admin.request('kick', { nick: 'Bob', reason: 'flooding' })).resolves.toEqual({
      nick: 'bob',
    });
    expect(await bobClosed).toMatchObject({
      code: 'kicked',
      message: expect.stringMatching(/flooding/),
    });
    expect(await carolSees).toMatchObject({ nick: 'bob', reason: 'kicked', message: 'flooding' });
    const who = await carol.request<{ users: Array<{ nick: string }> }>('who');
    expect(who.users.map((user) => user.nick)).not.toContain('bob');
  });

  it('is recorded in the audit log with who, what, whom and when', async () => {
    const server = await start();
    const admin = await loginAdmin(server);
    await server.connect('bob');
    const before = Date.now();
    await admin.request('kick', { nick: 'bob', reason: 'spam' });
    const entries = await server.server.core.store.audit.recent(10);
    expect(entries).toEqual([
      expect.objectContaining({ actor: 'admin', action: 'kick', target: 'bob', details: 'spam' }),
    ]);
    expect(entries[0]!.ts).toBeGreaterThanOrEqual(before);
  });

  it('works on another admin, and not on a registered user who is offline', async () => {
    const server = await start();
    const store = server.server.core.store;
    for (const name of ['root', 'carol'])
      await store.accounts.create({
        name,
        nameKey: name,
        nameSkeleton: nameSkeleton(name),
        passwordHash: await hashPassword('a-long-password-1'),
        role: name === 'root' ? 'admin' : 'user',
        createdAt: Date.now(),
      });
    const admin = await loginAdmin(server);
    const root = await server.connect('root', 'a-long-password-1');
    await expect(admin.request('kick', { nick: 'root' })).resolves.toEqual({ nick: 'root' });
    expect(await root.closed()).toMatchObject({ code: 'kicked' });
    const error = await errorOf(admin.request('kick', { nick: 'carol' }));
    expect(error.code).toBe('unknown_user');
    expect(error.message).toMatch(/online/);
  });
});

describe('/ban', () => {
  it('kicks the user, tells everyone, refuses the name (not the address) with reason and end time', async () => {
    const clock = new OffsetClock();
    const server = await start({ clock });
    const admin = await loginAdmin(server);
    const bob = await server.connect('bob');
    const carol = await server.connect('carol');
    const carolSees = carol.waitFor((e) => e.ev === 'offline');
    const reply = await admin.request('ban', { nick: 'bob', duration: '10m', reason: 'rude' });
    // A ban covers the name only unless the address is asked for.
    expect(reply).toMatchObject({ nick: 'bob', address: null, reason: 'rude', sharing: [] });
    expect(reply.until).toBeGreaterThan(clock.now() + 9 * 60_000);
    expect(await bob.closed()).toMatchObject({ code: 'banned' });
    expect(await carolSees).toMatchObject({ nick: 'bob', reason: 'banned', message: 'rude' });

    const again = await server.open();
    const refused = await errorOf(again.login('bob'));
    expect(refused.code).toBe('banned');
    expect(refused.message).toMatch(/rude/);
    expect(refused.details).toMatchObject({ reason: 'rude', until: reply.until });
    // Others from the same address (all test clients share 127.0.0.1) are not touched.
    await expect(again.login('dave')).resolves.toMatchObject({ nick: 'dave' });
    await again.quit();
    await expect(carol.request('who')).resolves.toBeDefined();
    await admin.quit();
    const adminAgain = await loginAdmin(server);

    const bans = await adminAgain.request<{ bans: Array<Record<string, unknown>> }>('bans');
    expect(bans.bans).toEqual([
      expect.objectContaining({ nick: 'bob', reason: 'rude', until: reply.until, by: 'admin' }),
    ]);

    // Expiry: eleven minutes later bob is welcome again.
    clock.offsetMs += 11 * 60_000;
    const back = await server.open();
    await expect(back.login('bob')).resolves.toMatchObject({ nick: 'bob' });
    expect((await adminAgain.request<{ bans: unknown[] }>('bans')).bans).toEqual([]);
  });

  it('bans an address only when asked, says who else is online from it, and spares the admin’s own', async () => {
    const server = await start();
    const admin = await loginAdmin(server); // from 127.0.0.1
    const from2 = async (nick: string) => {
      const client = await server.open({ localAddress: '127.0.0.2' });
      await client.login(nick);
      return client;
    };
    const eve = await from2('eve');
    const carol = await from2('carol');
    const reply = await admin.request('ban', { nick: 'eve', address: true, reason: 'spam' });
    expect(reply).toMatchObject({ nick: 'eve', address: '127.0.0.2', sharing: ['carol'] });
    expect(await eve.closed()).toMatchObject({ code: 'banned' });
    // carol stays on, but nobody new gets in from that address; 127.0.0.1 is untouched.
    await expect(carol.request('who')).resolves.toBeDefined();
    const probe = await server.open({ localAddress: '127.0.0.2' });
    expect((await errorOf(probe.login('dave'))).code).toBe('banned');
    await expect(server.connect('frank')).resolves.toBeDefined();

    // The admin's own address is refused unless forced.
    const mallory = await server.connect('mallory'); // 127.0.0.1, as the admin
    const refused = await errorOf(admin.request('ban', { nick: 'mallory', address: true }));
    expect(refused.code).toBe('invalid_target');
    expect(refused.message).toMatch(/your own address/);
    expect(mallory.isClosed).toBe(false);
    const forced = await admin.request<{ address: string; sharing: string[] }>('ban', {
      nick: 'mallory',
      address: true,
      force: true,
    });
    expect(forced.address).toBe('127.0.0.1');
    expect([...forced.sharing].sort()).toEqual(['admin', 'frank']);
  });

  it('is typed as /ban NAME [address [force]] [DURATION] [REASON]', async () => {
    const server = await start();
    const admin = await loginAdmin(server);
    const context = { commands: admin.commands, currentRoom: 'lobby' };
    expect(parseInput('/ban eve 2h spamming', context)).toMatchObject({
      args: { nick: 'eve', duration: '2h', reason: 'spamming' },
    });
    expect(parseInput('/ban eve address force 1d', context)).toMatchObject({
      args: { nick: 'eve', address: true, force: true, duration: '1d' },
    });
  });

  it('survives a restart, until /unban', async () => {
    const dataDir = makeDataDir();
    dirs.push(dataDir);
    let server = await start({ dataDir });
    let admin = await loginAdmin(server);
    await server.connect('bob');
    await admin.request('ban', { nick: 'bob', reason: 'for good' });
    await server.stop();

    server = await start({ dataDir });
    const bob = await server.open();
    const refused = await errorOf(bob.login('bob'));
    expect(refused.code).toBe('banned');
    expect(refused.details).toMatchObject({ until: null });
    expect(refused.message).toMatch(/for good/);
    admin = await loginAdmin(server);
    await expect(admin.request('unban', { nick: 'bob' })).resolves.toEqual({ nick: 'bob' });
    // bob is now neither banned, online nor registered: nobody by that name.
    expect((await errorOf(admin.request('unban', { nick: 'bob' }))).code).toBe('unknown_user');
    await expect(bob.login('bob')).resolves.toMatchObject({ nick: 'bob' });
    expect((await errorOf(admin.request('unban', { nick: 'bob' }))).code).toBe('no_change');
  });

  it('refuses a duration it cannot read', async () => {
    const server = await start();
    const admin = await loginAdmin(server);
    await server.connect('bob');
    const error = await errorOf(admin.request('ban', { nick: 'bob', duration: 'soon' }));
    expect(error.code).toBe('invalid_args');
  });
});

describe('/suspend and /forgive', () => {
  it('lets a suspended user receive and quit only, shows it in /who, and survives a reconnect', async () => {
    const server = await start();
    const admin = await loginAdmin(server);
    const bob = await server.connect('bob');
    const carol = await server.connect('carol');
    const bobTold = bob.waitFor((e) => e.ev === 'suspension');
    const carolTold = carol.waitFor((e) => e.ev === 'suspension');
    await admin.request('suspend', { nick: 'bob' });
    expect(await bobTold).toMatchObject({ nick: 'bob', suspended: true, by: 'admin' });
    expect(await carolTold).toMatchObject({ nick: 'bob', suspended: true });

    for (const [cmd, args] of [
      ['say', { text: 'hi' }],
      ['msg', { to: ['carol'], text: 'hi' }],
      ['broadcast', { text: 'hi' }],
      ['who', {}],
    ] as const)
      expect((await errorOf(bob.request(cmd, args))).code, cmd).toBe('suspended');
    await expect(bob.request('ping')).resolves.toEqual({});
    const received = bob.waitFor((e) => e.ev === 'message');
    await carol.request('say', { text: 'can you read this?' });
    expect(await received).toMatchObject({ from: 'carol', text: 'can you read this?' });
    const who = await carol.request<{ users: Array<{ nick: string; status: string }> }>('who');
    expect(who.users.find((user) => user.nick === 'bob')?.status).toBe('suspended');

    await bob.quit();
    const back = await server.open();
    const toldAtLogin = back.waitFor((e) => e.ev === 'suspension');
    await back.login('bob');
    expect(await toldAtLogin).toMatchObject({ suspended: true });
    expect((await errorOf(back.request('say', { text: 'hi' }))).code).toBe('suspended');

    await admin.request('forgive', { nick: 'bob' });
    await expect(back.request('say', { text: 'thanks' })).resolves.toMatchObject({
      mid: expect.any(Number),
    });
    expect((await errorOf(admin.request('forgive', { nick: 'bob' }))).code).toBe('no_change');
  });
});

describe('/lock and /unlock', () => {
  it('refuses new logins with a clear reason while sessions go on', async () => {
    const server = await start();
    const admin = await loginAdmin(server);
    const bob = await server.connect('bob');
    expect(admin.commands.find((c) => c.name === 'lock')?.aliases).toEqual(['start']);
    await expect(admin.request('lock')).resolves.toEqual({ locked: true });
    const carol = await server.open();
    const refused = await errorOf(carol.login('carol'));
    expect(refused.code).toBe('server_locked');
    await expect(bob.request('say', { text: 'still here' })).resolves.toBeDefined();
    expect((await errorOf(admin.request('lock'))).code).toBe('no_change');
    await admin.request('unlock');
    await expect(carol.login('carol')).resolves.toMatchObject({ nick: 'carol' });
  });

  it('survives a restart, and so does /unlock', async () => {
    const dataDir = makeDataDir();
    dirs.push(dataDir);
    let server = await start({ dataDir });
    let admin = await loginAdmin(server);
    await admin.request('lock');
    await server.stop();

    server = await start({ dataDir });
    const carol = await server.open();
    expect((await errorOf(carol.login('carol'))).code).toBe('server_locked');
    admin = await loginAdmin(server); // admins pass the lock, to lift it
    expect((await errorOf(admin.request('lock'))).code).toBe('no_change');
    await expect(admin.request('unlock')).resolves.toEqual({ locked: false });
    await server.stop();
    const restored = serverLogLines(dataDir).filter((line) => line.event === 'moderation_restored');
    expect(restored).toEqual([expect.objectContaining({ locked: true, monitoring: false })]);

    server = await start({ dataDir });
    await expect((await server.open()).login('carol')).resolves.toMatchObject({ nick: 'carol' });
  });

  it('fails with storage_failed and changes nothing when the lock cannot be stored', async () => {
    const server = await start();
    const admin = await loginAdmin(server);
    const bob = await server.connect('bob');
    const bobSees = collect(bob);
    // As a read-only database file would (see test/failures.test.ts).
    await server.writerPragma('query_only = ON');
    expect((await errorOf(admin.request('lock'))).code).toBe('storage_failed');
    expect((await errorOf(admin.request('monitor', { state: 'on' }))).code).toBe('storage_failed');
    await server.writerPragma('query_only = OFF');
    await expect(server.connect('carol')).resolves.toBeDefined();
    await bob.request('ping');
    expect(bobSees.filter((e) => e.ev === 'notice' || e.ev === 'monitor')).toEqual([]);
    await expect(admin.request('lock')).resolves.toEqual({ locked: true });
  });
});

describe('/announce', () => {
  it('sends a notice to everyone', async () => {
    const server = await start();
    const admin = await loginAdmin(server);
    const bob = await server.connect('bob');
    const notice = bob.waitFor((e) => e.ev === 'notice');
    await admin.request('announce', { text: 'Maintenance at noon' });
    expect(await notice).toMatchObject({ text: 'Maintenance at noon', from: 'admin' });
    expect((await errorOf(admin.request('announce', { text: '  ' }))).code).toBe('empty_message');
  });
});

describe('/monitor', () => {
  it('tells every user when it changes and at login, and copies private messages to admins', async () => {
    const server = await start();
    const admin = await loginAdmin(server);
    const bob = await server.connect('bob');
    const carol = await server.connect('carol');
    const bobTold = bob.waitFor((e) => e.ev === 'monitor');
    await admin.request('monitor', { state: 'on' });
    expect(await bobTold).toMatchObject({ on: true, by: 'admin' });

    const late = await server.open();
    const toldAtLogin = late.waitFor((e) => e.ev === 'monitor');
    await late.login('dave');
    expect(await toldAtLogin).toMatchObject({ on: true });

    const copy = admin.waitFor((e) => e.ev === 'monitored');
    await bob.request('msg', { to: ['carol'], text: 'secret plans' });
    expect(await copy).toMatchObject({ from: 'bob', to: ['carol'], text: 'secret plans' });

    const offTold = carol.waitFor((e) => e.ev === 'monitor');
    await admin.request('monitor', { state: 'off' });
    expect(await offTold).toMatchObject({ on: false });
    const adminEvents = collect(admin);
    await bob.request('msg', { to: ['carol'], text: 'more plans' });
    await admin.request('ping');
    expect(adminEvents.filter((e) => e.ev === 'monitored')).toEqual([]);
  });

  it('survives a restart: users are told at login, admins get copies; off survives too', async () => {
    const dataDir = makeDataDir();
    dirs.push(dataDir);
    let server = await start({ dataDir });
    let admin = await loginAdmin(server);
    await admin.request('monitor', { state: 'on' });
    await server.stop();

    server = await start({ dataDir });
    admin = await loginAdmin(server);
    const bob = await server.open();
    const bobTold = bob.waitFor((e) => e.ev === 'monitor');
    await bob.login('bob');
    expect(await bobTold).toMatchObject({ on: true });
    await server.connect('carol');
    const copy = admin.waitFor((e) => e.ev === 'monitored');
    await bob.request('msg', { to: ['carol'], text: 'after the restart' });
    expect(await copy).toMatchObject({ from: 'bob', to: ['carol'], text: 'after the restart' });
    expect((await errorOf(admin.request('monitor', { state: 'on' }))).code).toBe('no_change');
    await expect(admin.request('monitor', { state: 'off' })).resolves.toEqual({ monitor: false });
    await server.stop();

    server = await start({ dataDir });
    admin = await loginAdmin(server);
    const adminEvents = collect(admin);
    const dave = await server.open();
    const daveEvents = collect(dave);
    await dave.login('dave');
    await server.connect('erin');
    await dave.request('msg', { to: ['erin'], text: 'not copied' });
    await admin.request('ping');
    expect(daveEvents.filter((e) => e.ev === 'monitor')).toEqual([]);
    expect(adminEvents.filter((e) => e.ev === 'monitored')).toEqual([]);
  });
});

describe('audit log', () => {
  it('records every admin action', async () => {
    const server = await start();
    const admin = await loginAdmin(server);
    await server.connect('bob');
    await admin.request('suspend', { nick: 'bob' });
    await admin.request('forgive', { nick: 'bob' });
    await admin.request('lock');
    await admin.request('unlock');
    await admin.request('announce', { text: 'hello' });
    await admin.request('config', { key: 'maxUsers', value: '50' });
    await admin.request('ban', { nick: 'bob', duration: '1h' });
    await admin.request('unban', { nick: 'bob' });
    await server.stop();
    const store = SqliteStore.open(server.dataDir);
    try {
      const entries = await store.audit.recent(100);
      expect(entries.map((entry) => [entry.actor, entry.action, entry.target])).toEqual([
        ['admin', 'suspend', 'bob'],
        ['admin', 'forgive', 'bob'],
        ['admin', 'lock', null],
        ['admin', 'unlock', null],
        ['admin', 'announce', null],
        ['admin', 'config', 'maxUsers'],
        ['admin', 'ban', 'bob'],
        ['admin', 'unban', 'bob'],
      ]);
    } finally {
      await store.close();
    }
  });
});

describe('lock, ban and session resume', () => {
  it('a lock refuses new logins but lets a dropped session resume', async () => {
    const server = await start();
    const admin = await loginAdmin(server);
    const bob = await server.connect('bob');
    const token = bob.resumeToken!;
    expect(token).toEqual(expect.any(String));
    await admin.request('lock');
    bob.destroy();
    await bob.closed();
    const carol = await server.open();
    expect((await errorOf(carol.login('carol'))).code).toBe('server_locked');
    const back = await server.open();
    await expect(back.resume(token)).resolves.toMatchObject({ nick: 'bob', resumed: true });
    await expect(back.request('say', { text: 'back again' })).resolves.toBeDefined();
  });

  it('a ban ends a session waiting to be resumed, so the resume fails', async () => {
    const server = await start();
    const admin = await loginAdmin(server);
    const bob = await server.connect('bob');
    const token = bob.resumeToken!;
    bob.destroy();
    await bob.closed();
    await admin.request('ban', { nick: 'bob', duration: '1h' });
    const back = await server.open();
    expect((await errorOf(back.resume(token))).code).toBe('resume_failed');
    expect((await errorOf(back.login('bob'))).code).toBe('banned');
  });

  it('a ban or the lock is the answer before the name in use, away sessions included', async () => {
    const server = await start();
    const admin = await loginAdmin(server);
    const bob = await server.connect('bob');
    await server.connect('carol');
    bob.destroy();
    await bob.closed();
    // The gate order is ban, lock, then the name: a refused client learns nothing of who
    // is online (carol) or away waiting to be resumed (bob).
    await admin.request('lock');
    const probe = await server.open();
    expect((await errorOf(probe.login('bob'))).code).toBe('server_locked');
    expect((await errorOf(probe.login('carol'))).code).toBe('server_locked');
    await admin.request('unlock');
    await server.connect('eve');
    // And her address, which everyone here shares, the admin's too.
    await admin.request('ban', { nick: 'eve', address: true, force: true });
    expect((await errorOf(probe.login('bob'))).code).toBe('banned');
    expect((await errorOf(probe.login('carol'))).code).toBe('banned');
  });
});
