import net from 'node:net';
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

async function unusedPort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe('confab connect (line mode)', () => {
  it('lets two people chat, and exits 0 after /quit and at end of input', async () => {
    const alice = runCli(['connect', `127.0.0.1:${server.port}`, '--nick', 'alice']);
    await alice.waitForOutput('You are alice');
    const bob = runCli(['connect', '127.0.0.1', String(server.port), '--nick', 'bob']);
    await bob.waitForOutput('You are bob');
    await alice.waitForOutput('bob is online');
    bob.child.stdin.write('hello alice\n');
    await alice.waitForOutput('<bob> hello alice');
    alice.child.stdin.write('@bob psst\n/who\n');
    await bob.waitForOutput('*alice* → bob: psst');
    await alice.waitForOutput(/alice\s+s\d+\s+active/);
    alice.child.stdin.write('/quit gotta go\n');
    expect(await alice.exit()).toBe(0);
    await bob.waitForOutput('alice left: gotta go');
    bob.child.stdin.end();
    expect(await bob.exit()).toBe(0);
    expect(bob.stdout()).not.toContain('<bob> hello alice');
  });

  it('prints one JSON envelope per line with --json: typed, replies linked to their line', async () => {
    const client = runCli(['connect', `127.0.0.1:${server.port}`, '--nick', 'jay', '--json']);
    await client.waitForOutput('"type":"ready"');
    const other = await server.connect('kay');
    await other.request('say', { text: 'for the bot' });
    await client.waitForOutput('for the bot');
    client.child.stdin.write('hello from jay\n/nosuchthing\n/msg nobody hi\n/help\n');
    await client.waitForOutput('"command":"help"');
    client.child.stdin.end();
    expect(await client.exit()).toBe(0);
    const lines = client.stdout().trim().split('\n');
    const out = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    // One envelope: every line has a type.
    for (const line of out) expect(['event', 'ready', 'reply', 'error']).toContain(line.type);
    expect(out[0]).toMatchObject({ type: 'event', event: { ev: 'hello' } });
    expect(out[1]).toMatchObject({ type: 'ready', ready: { nick: 'jay', role: 'guest' } });
    // The resume token is a credential: never on stdout.
    expect(client.stdout()).not.toContain('resumeToken');
    expect(out).toContainEqual({
      type: 'event',
      event: expect.objectContaining({ ev: 'message', from: 'kay', text: 'for the bot' }),
    });
    // Own message acknowledged, linked to input line 1; times are epoch milliseconds.
    expect(out).toContainEqual({
      type: 'reply',
      line: 1,
      command: 'say',
      ok: true,
      data: { mid: expect.any(Number), ts: expect.any(Number) },
    });
    expect(out).toContainEqual({
      type: 'error',
      line: 2,
      error: { code: 'input', message: expect.stringContaining('/nosuchthing') },
    });
    expect(out).toContainEqual(
      expect.objectContaining({
        type: 'reply',
        line: 3,
        command: 'msg',
        ok: false,
        error: expect.objectContaining({ code: 'unknown_user' }),
      }),
    );
    expect(out).toContainEqual(
      expect.objectContaining({ type: 'reply', line: 4, command: 'help', ok: true }),
    );
    const events = out.filter((line) => line.type === 'event');
    for (const { event } of events as { event: { ts: unknown } }[])
      expect(typeof event.ts).toBe('number');
  });

  it('never eats a sentence: only / and ! start commands; bare seed forms need their exact shape', async () => {
    const bob = await server.connect('bob');
    const heard: string[] = [];
    bob.on('event', (event) => {
      if (event.ev === 'message') heard.push(event.text);
    });
    const alice = runCli(['connect', `127.0.0.1:${server.port}`, '--nick', 'alice']);
    await alice.waitForOutput('You are alice');
    const sentences = [
      'quit smoking is hard',
      'message in a bottle',
      'message nobody here',
      'broadcast news is at nine',
      'file the report please',
      'block party tonight',
      'register now for the event',
      'whoelse is coming?',
    ];
    for (const line of sentences) alice.child.stdin.write(line + '\n');
    // The seeds' bare forms, with exactly their shape and someone online, are commands.
    const privately = bob.waitFor((event) => event.ev === 'private' && event.text === 'hi bob');
    alice.child.stdin.write('message bob hi bob\nwhoelse\n');
    await privately;
    await alice.waitForOutput(/bob\s+s\d+\s+active/);
    const deadline = Date.now() + 5000;
    while (heard.length < sentences.length && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(heard).toEqual(sentences);
    alice.child.stdin.write('quit\n');
    expect(await alice.exit()).toBe(0);
    expect(alice.stderr()).toBe('');
  });

  it('accepts #room wherever a room is named', async () => {
    const owner = await server.connect('owner');
    await owner.request('create', { room: 'dev' });
    const alice = runCli(['connect', `127.0.0.1:${server.port}`, '--nick', 'alice']);
    await alice.waitForOutput('You are alice');
    alice.child.stdin.write('/join #dev\n');
    await alice.waitForOutput('You joined #dev');
    const dev = owner.waitFor((event) => event.ev === 'message' && event.room === 'dev');
    alice.child.stdin.write('in dev\n/members #dev\n/switch #lobby\n/leave #dev\n');
    expect(await dev).toMatchObject({ from: 'alice', text: 'in dev' });
    await alice.waitForOutput('You left #dev');
    alice.child.stdin.end();
    expect(await alice.exit()).toBe(0);
    expect(alice.stderr()).toBe('');
    expect(alice.stdout()).toContain('#dev: alice, owner (owner)');
  });

  it('exits 3 with the server’s reason when the nickname is taken', async () => {
    await server.connect('taken');
    const client = runCli(['connect', `127.0.0.1:${server.port}`, '--nick', 'TAKEN']);
    expect(await client.exit()).toBe(3);
    expect(client.stderr()).toMatch(/nick_taken/);
  });

  it('exits 1 with a clear message when the server cannot be reached', async () => {
    const client = runCli(['connect', `127.0.0.1:${await unusedPort()}`, '--nick', 'nobody']);
    expect(await client.exit()).toBe(1);
    expect(client.stderr()).toMatch(/Cannot connect to 127\.0\.0\.1/);
  });

  it('prints the shutdown notice and exits non-zero, with no prompt left hanging, when the server stops', async () => {
    const client = runCli(['connect', `127.0.0.1:${server.port}`, '--nick', 'stayer']);
    await client.waitForOutput('You are stayer');
    const stopping = server.server.stop(1, 'upgrade');
    await client.waitForOutput('Server shutting down in 1 second: upgrade');
    expect(await client.exit()).toBe(1);
    expect(client.stderr()).toMatch(/closed the connection \(shutting_down\)/);
    await stopping;
  });

  it('exits 2 on a usage error, an unknown option included', async () => {
    const client = runCli(['connect', '127.0.0.1:1']);
    expect(await client.exit()).toBe(2);
    expect(client.stderr()).toMatch(/--nick/);
    const unknown = runCli(['connect', '127.0.0.1:1', '--nick', 'x', '--no-such-option']);
    expect(await unknown.exit()).toBe(2);
    expect(unknown.stderr()).toMatch(/unknown option '--no-such-option'/);
  });
});
