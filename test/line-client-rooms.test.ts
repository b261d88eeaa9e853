import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { startTestServer, type TestServer } from './helpers/server.js';

let server: TestServer;
beforeEach(async () => {
  server = await startTestServer();
});
afterEach(async () => {
  await server.dispose();
});

describe('confab connect (line mode) in rooms', () => {
  it('follows the rooms it joins: plain text goes to the current room, bye leaves it', async () => {
    const member = await server.connect('member');
    const outsider = await server.connect('outsider');
    const alice = runCli(['connect', `127.0.0.1:${server.port}`, '--nick', 'alice']);
    await alice.waitForOutput('You are alice');
    alice.child.stdin.write('/create dev\n');
    await alice.waitForOutput('You joined #dev (owner alice)');
    await member.request('join', { room: 'dev' });
    await alice.waitForOutput('member joined #dev');

    // Plain text now goes to #dev, not the lobby.
    const inRoom = member.waitFor((e) => e.ev === 'message' && e.room === 'dev');
    alice.child.stdin.write('hello room\n');
    expect(await inRoom).toMatchObject({ from: 'alice', text: 'hello room' });

    const inLobby = outsider.waitFor((e) => e.ev === 'message');
    alice.child.stdin.write('/switch lobby\nhello lobby\n');
    expect(await inLobby).toMatchObject({
      room: 'lobby',
      text: 'hello lobby',
    });
    alice.child.stdin.write('/switch DEV\n/members\n');
    await alice.waitForOutput('#dev: alice (owner), member');
    const left = member.waitFor((e) => e.ev === 'room_leave');
    alice.child.stdin.write('bye\n');
    await alice.waitForOutput('You left #dev');
    expect(await left).toMatchObject({ nick: 'alice' });
    alice.child.stdin.write('/switch dev\n');
    // Bounded wait for the refusal on stderr.
    for (let tries = 0; tries < 250 && !alice.stderr().includes('not in dev'); tries++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(alice.stderr()).toContain('You are not in dev: /join it first');
    alice.child.stdin.end();
    expect(await alice.exit()).toBe(0);
  });
});
