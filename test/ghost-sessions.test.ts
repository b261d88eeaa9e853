import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { RequestError } from '../src/client/client.js';
import { startTestServer, type TestServer } from './helpers/server.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.dispose();
  server = undefined;
});

/** Logs a guest in from `address` and drops the connection without `quit`. */
async function ghost(srv: TestServer, nick: string, address: string): Promise<string> {
  const client = await srv.open({ localAddress: address });
  const ready = await client.login(nick);
  client.destroy();
  // The server sees the drop a moment later; the session then waits to be resumed.
  for (let i = 0; i < 200; i++) {
    const session = srv.server.core.findSession(nick);
    if (!session || session.link === null) return ready.resumeToken!;
    await sleep(10);
  }
  throw new Error(`${nick} never went away`);
}

async function resumeFails(srv: TestServer, token: string): Promise<boolean> {
  const client = await srv.open();
  try {
    await client.resume(token);
    return false;
  } catch (error) {
    expect(error).toBeInstanceOf(RequestError);
    expect((error as RequestError).code).toBe('resume_failed');
    return true;
  } finally {
    client.destroy();
  }
}

describe('ghost sessions (away after a drop)', () => {
  it("count against their address's limit: the address's oldest away guest gives way", async () => {
    server = await startTestServer({ set: { maxUsers: 100, maxConnectionsPerIp: 3 } });
    const tokens: string[] = [];
    // Issue 16's attack: quick log-in-and-drop cycles from one address, no connection kept.
    for (let i = 0; i < 8; i++) tokens.push(await ghost(server, `ghost${i}`, '127.0.0.2'));
    const online = [...server.server.core.onlineSessions()].map((session) => session.nick);
    expect(online.sort()).toEqual(['ghost5', 'ghost6', 'ghost7']);
    // The ones that gave way cannot be resumed; the newest can.
    expect(await resumeFails(server, tokens[0]!)).toBe(true);
    const back = await server.open({ localAddress: '127.0.0.2' });
    await expect(back.resume(tokens[7]!)).resolves.toMatchObject({ nick: 'ghost7' });
    // Others saw the ghosts leave as dropped.
    const observer = await server.connect('observer');
    const { users } = await observer.request<{ users: { nick: string }[] }>('who');
    expect(users.map((user) => user.nick).sort()).toEqual([
      'ghost5',
      'ghost6',
      'ghost7',
      'observer',
    ]);
  });

  it('give way, oldest guest first, to a new login on a full server; accounts and live sessions never do', async () => {
    server = await startTestServer({ set: { maxUsers: 5, maxConnectionsPerIp: 20 } });
    await server.connect('alice');
    const oldest = await ghost(server, 'ghost1', '127.0.0.2');
    const newer = await ghost(server, 'ghost2', '127.0.0.3');
    // An away account holds its place: it has one session, there cannot be a crowd of them.
    const carol = await server.open();
    await carol.login('carol');
    await carol.request('register', { password: 'correct horse battery staple 7' });
    carol.destroy();
    for (let i = 0; i < 200 && server.server.core.findSession('carol')?.link; i++) await sleep(10);
    expect(server.server.core.onlineCount).toBe(4); // alice, ghost1, ghost2, carol (away)

    await server.connect('dave'); // 5: full
    await server.connect('erin'); // ghost1 gives way
    expect(await resumeFails(server, oldest)).toBe(true);
    await server.connect('frank'); // ghost2 gives way
    expect(await resumeFails(server, newer)).toBe(true);
    // Now only live sessions and an away account: full.
    const george = await server.open();
    await expect(george.login('george')).rejects.toMatchObject({ code: 'server_full' });
    expect(server.server.core.findSession('carol')).toBeDefined();
  });
});
