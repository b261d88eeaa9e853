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

  it('prints one JSON object per event with --json', async () => {
    const client = runCli(['connect', `127.0.0.1:${server.port}`, '--nick', 'jay', '--json']);
    await client.waitForOutput('"ready"');
    const other = await server.connect('kay');
    await other.request('say', { text: 'for the bot' });
    await client.waitForOutput('for the bot');
    client.child.stdin.end();
    expect(await client.exit()).toBe(0);
    const lines = client.stdout().trim().split('\n');
    const events = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(events[0]).toMatchObject({ ev: 'hello' });
    expect(events).toContainEqual(
      expect.objectContaining({ ev: 'message', from: 'kay', text: 'for the bot' }),
    );
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
    await client.waitForOutput('Server shutting down in 1 seconds: upgrade');
    expect(await client.exit()).toBe(1);
    expect(client.stderr()).toMatch(/closed the connection \(shutting_down\)/);
    await stopping;
  });

  it('exits 2 on a usage error', async () => {
    const client = runCli(['connect', '127.0.0.1:1']);
    expect(await client.exit()).toBe(2);
    expect(client.stderr()).toMatch(/--nick/);
  });
});
