import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { IrcLineClient } from './line-client.js';

/**
 * The IRC gateway on the shared connection layer: its connections are counted in the
 * metrics, and the layer's send queue, per-address admission, registration and keepalive
 * deadlines apply to IRC clients as to native ones.
 */
let server: TestServer;
let port: number;
const clients: IrcLineClient[] = [];

async function start(set: Record<string, string | number> = {}) {
  server = await startTestServer({ ircPort: 0, set });
  port = server.server.ircAddress!.port;
}

async function register(nick: string): Promise<IrcLineClient> {
  const client = await IrcLineClient.register(port, nick);
  clients.push(client);
  return client;
}

async function open(): Promise<IrcLineClient> {
  const client = await IrcLineClient.connect(port);
  clients.push(client);
  return client;
}

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await server.dispose();
});

/** One sample's value from the exposition text, or undefined when absent. */
async function sample(name: string, labels: string): Promise<number | undefined> {
  const text = await server.server.metrics!.render();
  const prefix = `${name}{${labels}} `;
  const line = text.split('\n').find((row) => row.startsWith(prefix));
  return line === undefined ? undefined : Number(line.slice(prefix.length));
}

async function eventually(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('IRC on the connection layer', () => {
  it('counts IRC connections by transport in the metrics', async () => {
    await start();
    const ann = await register('ann');
    const native = await server.connect('nat');
    await open();
    expect(await sample('confab_connections', 'transport="irc"')).toBe(2);
    expect(await sample('confab_connections', 'transport="native"')).toBe(1);
    expect(await sample('confab_connections_total', 'transport="irc"')).toBe(2);
    ann.close();
    await eventually(async () => (await sample('confab_connections', 'transport="irc"')) === 1);
    expect(await sample('confab_connections_total', 'transport="irc"')).toBe(2);
    native.destroy();
  });

  it('counts per-address connections across native and IRC', async () => {
    await start({ maxConnectionsPerIp: 2 });
    await server.open();
    await register('bea');
    const refused = await open();
    await refused.next(/^ERROR :Closing link: /);
    await refused.closed;
    expect(await sample('confab_connections_refused_total', 'reason="per_address"')).toBe(1);
  });

  it('drops an IRC client that stops reading (SendQ), and says so in the metrics', async () => {
    await start({
      sendqBytes: 64 * 1024,
      'flood.burst': 100_000,
      'flood.perSecond': 100_000,
    });
    const stalled = await register('stalled');
    stalled.socket.pause();
    const sender = await server.connect('sender');
    const watcher = await server.connect('watcher');
    const dropped = watcher.waitFor((e) => e.ev === 'offline' && e.nick === 'stalled', 60_000);
    let droppedYet = false;
    void dropped.then(() => (droppedYet = true));
    const text = 'z'.repeat(270);
    // Loopback buffers hold a few MiB before the server's queue grows: bounded at 40,000
    // messages of 270 bytes (about 12 MB of IRC lines), a hundred in flight at a time, so
    // that a store answering late (CONFAB_TEST_STORE_LATENCY=20:20: every append 20 ms)
    // still fills them well within the test's time.
    for (let batch = 0; batch < 400 && !droppedYet; batch++)
      await Promise.all(Array.from({ length: 100 }, () => sender.request('say', { text })));
    expect(await dropped).toMatchObject({ reason: 'dropped' });
    expect(await sample('confab_sendq_drops_total', 'transport="irc"')).toBe(1);
    // The server goes on serving everyone else.
    await expect(sender.request('who')).resolves.toMatchObject({
      users: [{ nick: 'sender' }, { nick: 'watcher' }],
    });
    // Megabytes through a loaded machine, slower still under store latency.
  }, 90_000);

  it('ends a registration left open past the deadline (CAP negotiation never ended)', async () => {
    await start({ registrationTimeoutSeconds: 1 });
    const client = await open();
    client.send('CAP LS 302');
    client.send('NICK slow');
    client.send('USER slow 0 * :Slow');
    await client.next(/ CAP \* LS /);
    // The core has a session for `slow`, but IRC registration waits for CAP END.
    const error = await client.next(/^ERROR :Closing link: /, 5000);
    expect(error).toMatch(/in time/);
    await client.closed;
    expect(client.lines.some((line) => / 001 /.test(line))).toBe(false);
  });

  it('pings a silent client and cuts it when it does not answer; a PONG keeps it', async () => {
    await start({ 'ping.intervalSeconds': 1, 'ping.timeoutSeconds': 2 });
    const silent = await register('mute');
    const lively = await register('live');
    await silent.next(/^PING :?confab$/, 4000);
    await lively.next(/^PING :?confab$/, 4000);
    lively.send('PONG :confab');
    await silent.closed;
    expect(lively.isClosed).toBe(false);
    lively.send('PING still');
    await lively.next('PONG confab still');
  });
});
