import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ChatClient } from '../../src/client/client.js';
import type { ServerEvent } from '../../src/protocol/events.js';
import {
  startBalancer,
  startClusterProcesses,
  type Balancer,
  type ClusterProcesses,
} from '../helpers/cluster-processes.js';
import { PtyScreen } from '../helpers/pty-screen.js';
import { until } from '../helpers/events.js';

// The README's recipe for real: three `confab serve` processes on PostgreSQL and Redis,
// HAProxy from examples/haproxy/haproxy.cfg in front, clients only through HAProxy.
const MAIN = path.resolve('dist/src/cli/main.js');
/** PROXY protocol v2 from the balancer (net.trustedProxies on the nodes), as the recipe says. */
const PROXY_PROTOCOL = true;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups.length = 0;
});

async function through(balancer: Balancer, nick: string): Promise<ChatClient> {
  const client = await ChatClient.connect({ host: '127.0.0.1', port: balancer.port });
  cleanups.push(() => client.destroy());
  await client.login(nick);
  return client;
}

/** Logs `nick` in through the balancer, again and again until its name is free. */
async function loginAgain(balancer: Balancer, nick: string): Promise<ChatClient> {
  let client: ChatClient | undefined;
  await until(
    `${nick} to log in again`,
    async () => {
      try {
        client = await through(balancer, nick);
        return true;
      } catch {
        return false;
      }
    },
    15_000,
    250,
  );
  return client!;
}

const saw = (events: ServerEvent[], text: string) =>
  events.filter((event) => event.ev === 'message' && event.text === text).length;

describe('three nodes behind HAProxy (examples/haproxy/haproxy.cfg)', () => {
  it('spreads clients over the nodes, carries chat across them, and moves the clients of a killed node to the others', async () => {
    const cluster: ClusterProcesses = await startClusterProcesses({
      count: 3,
      env: PROXY_PROTOCOL ? { CONFAB_TRUSTED_PROXIES: '127.0.0.1' } : {},
    });
    cleanups.push(() => cluster.dispose());
    const balancer = await startBalancer(cluster.nodes, { proxyProtocol: PROXY_PROTOCOL });
    cleanups.push(() => balancer.stop());

    if (PROXY_PROTOCOL) {
      // The nodes trust 127.0.0.1 as a balancer: a connection from it without a PROXY
      // header is refused, so every client below got in with the header HAProxy sent.
      const direct = ChatClient.connect({ host: '127.0.0.1', port: cluster.nodes[0]!.port });
      await expect(direct).rejects.toThrow();
    }
    const clients: ChatClient[] = [];
    for (let i = 0; i < 6; i++) clients.push(await through(balancer, `user${i}`));
    // leastconn: six connections one after another, two on each node.
    const nodeOf = (client: ChatClient) => client.hello.server;
    expect(new Set(clients.map(nodeOf))).toEqual(new Set(['node1', 'node2', 'node3']));

    const heard = clients.map((client) => {
      const events: ServerEvent[] = [];
      client.on('event', (event) => events.push(event));
      return events;
    });
    await clients[0]!.request('say', { text: 'hello, every node' });
    await until('everyone to hear it', () =>
      heard.slice(1).every((events) => saw(events, 'hello, every node') === 1),
    );

    // The terminal client, through the balancer too.
    const configDir = mkdtempSync(path.join(tmpdir(), 'confab-lb-config-'));
    cleanups.push(() => rmSync(configDir, { recursive: true, force: true }));
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      CONFAB_CONFIG_DIR: configDir,
      TERM: 'xterm-256color',
      CI: '0',
    };
    delete env.CONTINUOUS_INTEGRATION;
    const screen = new PtyScreen(
      process.execPath,
      [MAIN, 'connect', '127.0.0.1', String(balancer.port), '--nick', 'tui'],
      { cols: 100, rows: 24, env },
    );
    cleanups.push(() => screen.kill());
    const statusRow = () => screen.rows()[22] ?? '';
    await screen.waitFor('tui logged in', () => statusRow().includes('[connected]'), 15_000);
    // The status bar says connected once the socket is up, a moment before the nickname
    // step's reply: the session is in the directory once that is done.
    let before: Awaited<ReturnType<ClusterProcesses['holder']>>;
    await until(
      'tui in the directory',
      async () => (before = await cluster.holder('tui')) !== undefined,
    );
    const doomed = cluster.nodes.find((node) => node.id === before!.node)!;

    // Its node dies without a word.
    const onDoomed = clients.filter((client) => nodeOf(client) === doomed.id);
    const survivors = clients.filter((client) => nodeOf(client) !== doomed.id);
    expect(onDoomed).toHaveLength(2);
    const closed = onDoomed.map((client) => client.closed());
    await doomed.kill();
    const killedAt = Date.now();
    await Promise.all(closed);

    // The terminal client comes back by itself, through the balancer, on a node alive.
    await screen.waitFor('the lost connection', (text) => text.includes('Connection lost'));
    await until(
      'the terminal client on a surviving node',
      async () => {
        // Until its old session's lease lapses the nickname is held: the client asks
        // again with it filled in, and Enter retries.
        if ((screen.rows()[23] ?? '').startsWith('Nickname:')) await screen.type('\r');
        const now = await cluster.holder('tui');
        return statusRow().includes('[connected]') && now !== undefined && now.node !== doomed.id;
      },
      20_000,
      250,
    );
    // The killed node's other clients log in again through the balancer, elsewhere.
    const moved = await Promise.all(onDoomed.map((client) => loginAgain(balancer, client.nick!)));
    expect(Date.now() - killedAt).toBeLessThan(15_000);
    for (const client of moved) expect(client.hello.server).not.toBe(doomed.id);

    // Chat goes on across the two nodes left, the terminal client included.
    const atSurvivor: ServerEvent[] = [];
    survivors[0]!.on('event', (event) => atSurvivor.push(event));
    await screen.type('back on another node\r');
    await until('the terminal client heard', () => saw(atSurvivor, 'back on another node') === 1);
    const atMoved: ServerEvent[] = [];
    moved[0]!.on('event', (event) => atMoved.push(event));
    await survivors[1]!.request('say', { text: 'welcome back' });
    await until('the moved client heard', () => saw(atMoved, 'welcome back') === 1);
    await screen.waitFor('the terminal client heard', (text) => text.includes('welcome back'));
  }, 90_000);
});
