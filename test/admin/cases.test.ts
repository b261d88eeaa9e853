import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { collect, errorOf, loginAdmin, OffsetClock } from './helpers.js';

const servers: TestServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.dispose();
});

async function start(options: Parameters<typeof startTestServer>[0] = {}) {
  const server = await startTestServer(options);
  servers.push(server);
  return server;
}

interface CaseRow {
  action: string;
  by: string;
  reason: string | null;
  until: number | null;
}

async function caseOf(admin: Awaited<ReturnType<typeof loginAdmin>>, nick: string) {
  const data = (await admin.request('cases', { nick })) as { entries: CaseRow[] };
  return data.entries;
}

describe('the moderation case log', () => {
  it('records warnings, notes, kicks, suspensions and bans, and the warned user sees the warning', async () => {
    const server = await start();
    const admin = await loginAdmin(server);
    const bob = await server.connect('bob');
    const bobEvents = collect(bob);

    const warned = (await admin.request('warn', { nick: 'bob', reason: 'no shouting' })) as {
      warnings: number;
      online: boolean;
    };
    expect(warned).toMatchObject({ warnings: 1, online: true });
    await admin.request('note', { nick: 'bob', text: 'seems to calm down after a warning' });
    await admin.request('suspend', { nick: 'bob' });
    await admin.request('forgive', { nick: 'bob' });
    await admin.request('kick', { nick: 'bob', reason: 'again' });
    // A guest's case follows the name: bob comes back as a new session.
    await server.connect('bob');
    await admin.request('ban', { nick: 'bob', duration: '2h', reason: 'third time' });
    await admin.request('unban', { nick: 'bob' });

    const warning = bobEvents.find((event) => event.ev === 'warning');
    expect(warning).toMatchObject({ reason: 'no shouting', by: 'admin', warnings: 1 });

    const entries = await caseOf(admin, 'bob');
    expect(entries.map((entry) => entry.action)).toEqual([
      'warn',
      'note',
      'suspend',
      'forgive',
      'kick',
      'ban',
      'unban',
    ]);
    expect(entries[0]).toMatchObject({ by: 'admin', reason: 'no shouting' });
    expect(entries[1]!.reason).toContain('calm down');
    expect(entries[5]!.until).toBeGreaterThan(Date.now());
  });

  it('is for admins only, and the notes never reach the user', async () => {
    const server = await start();
    const admin = await loginAdmin(server);
    const bob = await server.connect('bob');
    const bobEvents = collect(bob);
    await admin.request('note', { nick: 'bob', text: 'secret admin note' });
    for (const [cmd, args] of [
      ['cases', { nick: 'bob' }],
      ['warn', { nick: 'admin', reason: 'x' }],
      ['note', { nick: 'admin', text: 'x' }],
    ] as const)
      expect((await errorOf(bob.request(cmd, args))).code, cmd).toBe('not_authorized');
    await bob.request('ping');
    expect(JSON.stringify(bobEvents)).not.toContain('secret admin note');
  });

  it('refuses an empty reason, an unknown user and warning oneself', async () => {
    const server = await start();
    const admin = await loginAdmin(server);
    await server.connect('bob');
    expect((await errorOf(admin.request('warn', { nick: 'bob', reason: '  ' }))).code).toBe(
      'invalid_args',
    );
    expect((await errorOf(admin.request('warn', { nick: 'ghost', reason: 'x' }))).code).toBe(
      'unknown_user',
    );
    expect((await errorOf(admin.request('warn', { nick: 'admin', reason: 'x' }))).code).toBe(
      'invalid_target',
    );
  });

  it('survives a restart', async () => {
    const first = await start();
    const admin = await loginAdmin(first);
    await first.connect('bob');
    await admin.request('warn', { nick: 'bob', reason: 'spam' });
    await first.stop();
    // bob, a guest, is neither online nor registered now: the case is still found by name.
    const second = await start({ dataDir: first.dataDir });
    const entries = await caseOf(await loginAdmin(second), 'bob');
    expect(entries).toMatchObject([{ action: 'warn', reason: 'spam', by: 'admin' }]);
  });
});

describe('the escalation ladder', () => {
  it('is off by default: many warnings suspend nobody', async () => {
    const server = await start();
    const admin = await loginAdmin(server);
    await server.connect('bob');
    for (let i = 0; i < 5; i++) await admin.request('warn', { nick: 'bob', reason: `w${i}` });
    expect(server.server.core.admin.moderation.isNameSuspended('bob')).toBe(false);
  });

  it('suspends after N warnings, lifts the suspension when it ends, and bans after M suspensions', async () => {
    const clock = new OffsetClock();
    const server = await start({
      clock,
      set: {
        'escalation.warnings': 2,
        'escalation.suspendSeconds': 3600,
        'escalation.suspensions': 2,
        'escalation.banSeconds': 86_400,
        // The test moves the clock an hour on: nobody may be logged out as idle meanwhile.
        idleTimeoutSeconds: 0,
        'ping.intervalSeconds': 86_000,
        'ping.timeoutSeconds': 86_400,
      },
    });
    const admin = await loginAdmin(server);
    const bob = await server.connect('bob');
    const bobEvents = collect(bob);
    const adminEvents = collect(admin);

    const first = (await admin.request('warn', { nick: 'bob', reason: 'one' })) as {
      escalation: unknown;
    };
    expect(first.escalation).toBeNull();
    const second = (await admin.request('warn', { nick: 'bob', reason: 'two' })) as {
      escalation: { step: string; until: number };
    };
    expect(second.escalation.step).toBe('suspended');
    expect(second.escalation.until - clock.now()).toBeGreaterThan(3500_000);
    expect((await errorOf(bob.request('say', { text: 'hello?' }))).code).toBe('suspended');
    await admin.request('ping');
    expect(adminEvents.find((event) => event.ev === 'suspension' && event.suspended)).toMatchObject(
      { nick: 'bob', by: '(escalation)' },
    );
    expect(
      bobEvents.some((event) => event.ev === 'notice' && event.text.includes('suspended for 1h')),
    ).toBe(true);

    // An hour later the suspension lifts by itself, and everyone is told.
    clock.offsetMs += 3601_000;
    await expect
      .poll(() => adminEvents.some((event) => event.ev === 'suspension' && !event.suspended), {
        timeout: 5000,
      })
      .toBe(true);
    await bob.request('say', { text: 'sorry' });

    // Two more warnings: a second suspension in the week, which bans for a day.
    await admin.request('warn', { nick: 'bob', reason: 'three' });
    const fourth = (await admin.request('warn', { nick: 'bob', reason: 'four' })) as {
      escalation: { step: string; until: number };
    };
    expect(fourth.escalation.step).toBe('banned');
    await expect.poll(() => bob.isClosed, { timeout: 5000 }).toBe(true);
    const reconnect = await errorOf(server.connect('bob'));
    expect(reconnect.code).toBe('banned');

    const entries = await caseOf(admin, 'bob');
    expect(entries.map((entry) => `${entry.action}/${entry.by}`)).toEqual([
      'warn/admin',
      'warn/admin',
      'suspend/(escalation)',
      'forgive/(escalation)',
      'warn/admin',
      'warn/admin',
      'suspend/(escalation)',
      'ban/(escalation)',
    ]);
  });
});
