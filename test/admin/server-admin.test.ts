import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { ServerEvent } from '../../src/protocol/events.js';
import { makeDataDir, startTestServer, type TestServer } from '../helpers/server.js';
import { collect, errorOf, loginAdmin } from './helpers.js';

const servers: TestServer[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.dispose();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function start(options: Parameters<typeof startTestServer>[0] = {}) {
  const server = await startTestServer(options);
  servers.push(server);
  return server;
}

describe('/shutdown', () => {
  it('counts down to every client, refuses logins meanwhile, then stops cleanly', async () => {
    const server = await start();
    const admin = await loginAdmin(server);
    const bob = await server.connect('bob');
    const bobEvents = collect(bob);
    await expect(admin.request('shutdown', { seconds: 3, reason: 'upgrade' })).resolves.toEqual({
      seconds: 3,
    });
    const refused = await errorOf((await server.open()).login('carol'));
    expect(refused.code).toBe('shutting_down');
    expect(refused.message).toMatch(/\d+ seconds/);
    const closed = await bob.closed();
    expect(closed.code).toBe('shutting_down');
    const notices = bobEvents
      .filter((e): e is Extract<ServerEvent, { ev: 'shutdown' }> => e.ev === 'shutdown')
      .map((e) => [e.seconds, e.reason]);
    // At the start, then at the marks under it, then the final stop.
    expect(notices).toEqual([
      [3, 'upgrade'],
      [2, 'upgrade'],
      [1, 'upgrade'],
      [0, 'upgrade'],
    ]);
    await server.server.stopped;
  });

  it('/shutdown cancel stops the countdown and tells everyone', async () => {
    const server = await start();
    const admin = await loginAdmin(server);
    const bob = await server.connect('bob');
    const started = bob.waitFor((e) => e.ev === 'shutdown');
    await admin.request('shutdown', { seconds: 600 });
    expect(await started).toMatchObject({ seconds: 600 });
    const cancelled = bob.waitFor((e) => e.ev === 'shutdown_cancelled');
    await expect(admin.request('shutdown', { action: 'cancel' })).resolves.toEqual({
      cancelled: true,
    });
    expect(await cancelled).toMatchObject({ by: 'admin' });
    await expect(server.connect('carol')).resolves.toBeDefined();
    expect((await errorOf(admin.request('shutdown', { action: 'cancel' }))).code).toBe('no_change');
  });
});

describe('/config', () => {
  it('lists every parameter with its value and source', async () => {
    const server = await start({ set: { 'history.replay': 7 } });
    const admin = await loginAdmin(server);
    const { parameters } = await admin.request<{
      parameters: Array<{ key: string; value: unknown; source: string }>;
    }>('config');
    expect(parameters.length).toBeGreaterThanOrEqual(20);
    expect(parameters.find((p) => p.key === 'history.replay')).toMatchObject({
      value: 7,
      source: 'command line',
    });
    expect(parameters.find((p) => p.key === 'maxUsers')).toMatchObject({
      value: 1000,
      source: 'default',
    });
  });

  it('validates type, range and key, with clear errors', async () => {
    const server = await start();
    const admin = await loginAdmin(server);
    let error = await errorOf(admin.request('config', { key: 'maxUsers', value: 'lots' }));
    expect(error.code).toBe('invalid_value');
    expect(error.message).toMatch(/maxUsers must be a whole number/);
    error = await errorOf(admin.request('config', { key: 'message.maxLength', value: '0' }));
    expect(error.code).toBe('invalid_value');
    expect(error.message).toMatch(/at least 1/);
    error = await errorOf(admin.request('config', { key: 'maxUser', value: '5' }));
    expect(error.code).toBe('unknown_parameter');
    expect(server.server.config.params.maxUsers).toBe(1000);
  });

  it('applies live: lowering maxUsers refuses new logins without kicking anyone', async () => {
    const server = await start();
    const admin = await loginAdmin(server);
    const bob = await server.connect('bob');
    await server.connect('carol');
    await expect(admin.request('config', { key: 'maxUsers', value: '2' })).resolves.toMatchObject({
      key: 'maxUsers',
      value: 2,
      source: 'live',
    });
    expect((await errorOf((await server.open()).login('dave'))).code).toBe('server_full');
    await expect(bob.request('say', { text: 'still here' })).resolves.toBeDefined();
    const who = await bob.request<{ users: unknown[] }>('who');
    expect(who.users).toHaveLength(3);

    await admin.request('config', { key: 'message.maxLength', value: '5' });
    expect((await errorOf(bob.request('say', { text: 'too long' }))).code).toBe('message_too_long');
  });

  it('keeps live values across a restart until /config reset', async () => {
    const dataDir = makeDataDir();
    dirs.push(dataDir);
    let server = await start({ dataDir });
    let admin = await loginAdmin(server);
    await admin.request('config', { key: 'idleTimeoutSeconds', value: '900' });
    await admin.request('config', { key: 'sendqBytes', value: '2MiB' });
    await server.stop();

    server = await start({ dataDir });
    expect(server.server.config.params.idleTimeoutSeconds).toBe(900);
    expect(server.server.config.params.sendqBytes).toBe(2 * 1024 * 1024);
    expect(server.server.config.sourceOf('idleTimeoutSeconds')).toBe('live');
    admin = await loginAdmin(server);
    // Typed `/config reset KEY` arrives as action "reset".
    await expect(
      admin.request('config', { action: 'reset', key: 'idleTimeoutSeconds' }),
    ).resolves.toMatchObject({ value: 1800, source: 'default' });
    expect(
      (await errorOf(admin.request('config', { action: 'reset', key: 'idleTimeoutSeconds' }))).code,
    ).toBe('no_change');
    await server.stop();

    server = await start({ dataDir });
    expect(server.server.config.params.idleTimeoutSeconds).toBe(1800);
    expect(server.server.config.params.sendqBytes).toBe(2 * 1024 * 1024);
  });

  it('shows that the command line and environment outrank a live change', async () => {
    const server = await start({ set: { maxUsers: 10 } });
    const admin = await loginAdmin(server);
    await expect(admin.request('config', { key: 'maxUsers', value: '20' })).resolves.toMatchObject({
      value: 10,
      source: 'command line',
    });
  });
});

describe('idle timeout', () => {
  it('logs out a session without input, with a notice; keepalives do not count', async () => {
    const server = await start({ set: { idleTimeoutSeconds: 1 } });
    const bob = await server.connect('bob');
    const carol = await server.connect('carol');
    const bobEvents = collect(bob);
    const carolSees = carol.waitFor((e) => e.ev === 'offline' && e.nick === 'bob', 8000);
    // Pings keep the connection alive but are not input.
    const pinging = setInterval(() => bob.request('ping').catch(() => undefined), 200);
    // carol types now and then, so only bob is idle.
    const typing = setInterval(() => carol.request('who').catch(() => undefined), 300);
    try {
      const closed = await bob.closed();
      expect(closed.code).toBe('idle_timeout');
      expect(await carolSees).toMatchObject({ reason: 'timeout' });
      expect(bobEvents.find((e) => e.ev === 'notice')).toMatchObject({
        text: expect.stringMatching(/without input/),
      });
      expect(carol.isClosed).toBe(false);
    } finally {
      clearInterval(pinging);
      clearInterval(typing);
    }
  });

  it('is off at 0', async () => {
    const server = await start({ set: { idleTimeoutSeconds: 0 } });
    const bob = await server.connect('bob');
    server.server.core.admin.sweepIdleNow();
    await bob.request('ping');
    expect(bob.isClosed).toBe(false);
  });
});

describe('/users', () => {
  it('lists accounts with role, created and last seen, never hashes', async () => {
    const server = await start();
    const admin = await loginAdmin(server);
    const reply = await admin.request<{ accounts: Array<Record<string, unknown>> }>('users');
    expect(reply.accounts).toEqual([
      {
        name: 'admin',
        role: 'admin',
        createdAt: expect.any(Number),
        lastSeenAt: null,
        online: true,
      },
    ]);
    expect(JSON.stringify(reply)).not.toMatch(/argon2|hash/i);
  });
});
