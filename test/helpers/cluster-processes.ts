import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { ChatClient } from '../../src/client/client.js';
import type { DirectoryEntry } from '../../src/core/directory/directory.js';
import { freePort } from './free-port.js';
import { dropSchema, freshSchemaName, TEST_PG_URL } from './postgres.js';
import { deletePrefix, freshPrefix, TEST_REDIS_URL } from './redis.js';
import { TEST_ADMIN_PASSWORD } from './server.js';

// Real `confab serve` processes (dist/, built by `npm test`'s pretest) on one PostgreSQL
// schema and one Redis prefix of their own, and a real HAProxy in front of them.
const MAIN = path.resolve('dist/src/cli/main.js');
export const RECIPE = path.resolve('examples/haproxy/haproxy.cfg');

export interface NodeProcess {
  readonly id: string;
  readonly port: number;
  readonly webPort: number;
  child: ChildProcess;
  /** Everything it printed. */
  output: string;
  /** SIGKILL: no goodbye, no lease given up. */
  kill(): Promise<void>;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<void>;
  readonly alive: boolean;
}

export interface ClusterProcesses {
  readonly nodes: NodeProcess[];
  readonly prefix: string;
  readonly schema: string;
  /** The Redis URL without the prefix (for a test's own connection). */
  readonly redisUrl: string;
  /** The directory entry of the session holding `nickKey`, as every node sees it. */
  holder(nickKey: string): Promise<DirectoryEntry | undefined>;
  /** A client connected straight to node `index` (not logged in); destroyed by `dispose`. */
  connect(index: number): Promise<ChatClient>;
  dispose(): Promise<void>;
}

export interface ClusterOptions {
  readonly count: number;
  /** Extra environment for every node (CONFAB_TRUSTED_PROXIES, parameters…). */
  readonly env?: Readonly<Record<string, string>>;
  readonly redisUrl?: string;
  /** Node `index`'s own way to Redis (a proxy the test can cut); default `redisUrl`. */
  readonly redisUrlFor?: (index: number) => string | undefined;
}

/** Resolves once the node printed its start-up text (its last line names how to connect). */
function waitForListening(child: ChildProcess, node: { output: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`node did not start: ${node.output}`)), 30_000);
    const onData = (chunk: Buffer) => {
      node.output += chunk.toString();
      if (/Connect with: .*\n/.test(node.output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => (node.output += chunk.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`node exited (${code}): ${node.output}`));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

export async function startClusterProcesses(options: ClusterOptions): Promise<ClusterProcesses> {
  const root = mkdtempSync(path.join(tmpdir(), 'confab-cluster-'));
  const schema = freshSchemaName();
  const prefix = freshPrefix();
  const redisUrl = options.redisUrl ?? TEST_REDIS_URL;
  const nodes: NodeProcess[] = [];
  /** Every child spawned, started or not: killed if the start fails part way. */
  const spawned: ChildProcess[] = [];
  // A port found free can be taken by another process before the node binds it (a busy
  // machine, other tests beside these): the node then exits with EADDRINUSE, and is
  // started again on other ports.
  const start = async (index: number): Promise<NodeProcess> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await startOnFreePorts(index);
      } catch (error) {
        if (attempt >= 3 || !/EADDRINUSE/.test(String(error))) throw error;
      }
    }
  };
  const startOnFreePorts = async (index: number): Promise<NodeProcess> => {
    const id = `node${index + 1}`;
    const [port, webPort] = [await freePort(), await freePort()];
    const child = spawn(
      process.execPath,
      [
        MAIN,
        'serve',
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '--web-port',
        String(webPort),
        '--data',
        path.join(root, id),
        '--store',
        `${TEST_PG_URL}?schema=${schema}`,
        '--bus',
        `${options.redisUrlFor?.(index) ?? redisUrl}?prefix=${encodeURIComponent(prefix)}`,
        '--node-id',
        id,
      ],
      {
        env: {
          ...process.env,
          CONFAB_ADMIN_PASSWORD: TEST_ADMIN_PASSWORD,
          CONFAB_SERVER_NAME: id,
          ...options.env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    spawned.push(child);
    const node: NodeProcess = {
      id,
      port,
      webPort,
      child,
      output: '',
      async kill() {
        child.kill('SIGKILL');
        await exited(child);
      },
      async stop() {
        child.kill('SIGTERM');
        await exited(child);
      },
      get alive() {
        return child.exitCode === null && child.signalCode === null;
      },
    };
    await waitForListening(child, node);
    return node;
  };
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 2 });
  try {
    // Started together, as a cluster's nodes often are: the schema is migrated once.
    nodes.push(...(await Promise.all(Array.from({ length: options.count }, (_, i) => start(i)))));
  } catch (error) {
    for (const child of spawned) if (child.exitCode === null) child.kill('SIGKILL');
    redis.disconnect();
    await dropSchema(schema).catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
    throw error;
  }
  const clients: ChatClient[] = [];
  return {
    nodes,
    prefix,
    schema,
    redisUrl,
    async connect(index) {
      const node = nodes[index];
      if (!node) throw new Error(`no node ${index}: the cluster has ${nodes.length}`);
      const client = await ChatClient.connect({ host: '127.0.0.1', port: node.port });
      clients.push(client);
      return client;
    },
    async holder(nickKey) {
      const session = await redis.hget(`${prefix}dir:n`, nickKey);
      const row = session ? await redis.hget(`${prefix}dir:s`, session) : null;
      return row ? (JSON.parse(row) as DirectoryEntry) : undefined;
    },
    async dispose() {
      for (const client of clients.splice(0)) client.destroy();
      for (const node of nodes) if (node.alive) await node.kill();
      redis.disconnect();
      await dropSchema(schema).catch(() => undefined);
      await deletePrefix(prefix, redisUrl).catch(() => undefined);
      rmSync(root, { recursive: true, force: true });
    },
  };
}

export interface Balancer {
  readonly port: number;
  readonly config: string;
  output: string;
  stop(): Promise<void>;
}

/**
 * Runs the README's HAProxy recipe (examples/haproxy/haproxy.cfg) with the example
 * addresses replaced by the test's: the listening port, each node's chat and web ports.
 */
export async function startBalancer(
  nodes: readonly Pick<NodeProcess, 'port' | 'webPort'>[],
  options: { readonly proxyProtocol: boolean },
): Promise<Balancer> {
  const port = await freePort();
  let config = readFileSync(RECIPE, 'utf8').replace(/bind :7777/, `bind 127.0.0.1:${port}`);
  config = config.replace(
    /server node(\d) 10\.0\.0\.1\d:7777 check port 7780/g,
    (_line, n: string) => {
      const node = nodes[Number(n) - 1];
      if (!node) throw new Error(`the recipe names node${n}, the test started ${nodes.length}`);
      return `server node${n} 127.0.0.1:${node.port} check port ${node.webPort}`;
    },
  );
  if (!config.includes(`127.0.0.1:${nodes[0]!.port}`))
    throw new Error('the recipe no longer has the server lines this test rewrites');
  // The test runs with the shell's file limit, not the packaged service's.
  config = config.replace(/maxconn \d+/, 'maxconn 1000');
  if (!options.proxyProtocol)
    config = config.replace(/^(\s*default-server .*) send-proxy-v2/m, '$1');
  const dir = mkdtempSync(path.join(tmpdir(), 'confab-haproxy-'));
  const file = path.join(dir, 'haproxy.cfg');
  writeFileSync(file, config);
  // Debian puts it in /usr/sbin, which is not on every user's PATH.
  const haproxy = existsSync('/usr/sbin/haproxy') ? '/usr/sbin/haproxy' : 'haproxy';
  const child = spawn(haproxy, ['-db', '-f', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  const balancer: Balancer = {
    port,
    config,
    output: '',
    async stop() {
      child.kill('SIGTERM');
      await exited(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  child.stdout.on('data', (chunk: Buffer) => (balancer.output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (balancer.output += chunk.toString()));
  // Up when it accepts connections.
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`haproxy did not start: ${balancer.output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return balancer;
}
