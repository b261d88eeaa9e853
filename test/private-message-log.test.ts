import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { formatEvent } from '../src/client/format.js';
import { startTestServer, TEST_ADMIN_PASSWORD, type TestServer } from './helpers/server.js';

const servers: TestServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.dispose();
});

async function start(set: Record<string, string> = {}): Promise<TestServer> {
  const server = await startTestServer({ set });
  servers.push(server);
  return server;
}

/** logs/messages.log once the server has stopped (and flushed it). */
async function messageLog(server: TestServer): Promise<string> {
  await server.stop();
  return readFileSync(path.join(server.dataDir, 'logs', 'messages.log'), 'utf8');
}

describe('logs.privateMessages', () => {
  it('is off by default: room messages are logged, private ones are not', async () => {
    const server = await start();
    const alice = await server.connect('alice');
    const bob = await server.connect('bob');
    await alice.request('say', { text: 'hello room' });
    await alice.request('msg', { to: ['bob'], text: 'a private secret' });
    await bob.request('ping');
    const log = await messageLog(server);
    expect(log).toContain('hello room');
    expect(log).not.toContain('a private secret');
  });

  it('while on, logs private messages and tells every user, at login and when it changes', async () => {
    const server = await start();
    const admin = await server.connect('admin', TEST_ADMIN_PASSWORD);
    const bob = await server.connect('bob');
    const told = bob.waitFor((e) => e.ev === 'monitor');
    await admin.request('config', { key: 'logs.privateMessages', value: true });
    const event = await told;
    expect(event).toMatchObject({ ev: 'monitor', on: true, what: 'log' });
    expect(formatEvent(event)).toContain("written to the server's log");

    // Someone logging in while it is on is told too.
    const carol = await server.open();
    const carolTold = carol.waitFor((e) => e.ev === 'monitor');
    await carol.login('carol');
    expect(await carolTold).toMatchObject({ on: true, what: 'log' });
    await carol.request('msg', { to: ['bob'], text: 'logged while on' });

    const off = bob.waitFor((e) => e.ev === 'monitor');
    await admin.request('config', { key: 'logs.privateMessages', value: false });
    expect(await off).toMatchObject({ on: false, what: 'log' });
    await carol.request('msg', { to: ['bob'], text: 'not logged after' });
    await bob.request('ping');
    const log = await messageLog(server);
    expect(log).toMatch(/carol\tbob\t"logged while on"/);
    expect(log).not.toContain('not logged after');
  });
});
