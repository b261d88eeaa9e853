import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { freePort } from '../test/helpers/free-port.js';
import { dropSchema, freshSchemaName, TEST_PG_URL } from '../test/helpers/postgres.js';
import { deletePrefix, freshPrefix, TEST_REDIS_URL } from '../test/helpers/redis.js';
import { BENCH_PARAMETERS } from './harness.js';

// The cluster benches' `confab serve` processes: one node on SQLite or PostgreSQL, or
// several on PostgreSQL and Redis, each with the benches' limits.

const here = path.dirname(fileURLToPath(import.meta.url));
const MAIN = path.resolve(here, '..', 'src', 'cli', 'main.js');

export interface Setup {
  readonly label: string;
  readonly nodes: number;
  readonly store: 'sqlite' | 'postgres';
}

export const SETUPS: readonly Setup[] = [
  { label: '1 node, SQLite', nodes: 1, store: 'sqlite' },
  { label: '1 node, PostgreSQL', nodes: 1, store: 'postgres' },
  { label: '2 nodes, PostgreSQL + Redis', nodes: 2, store: 'postgres' },
];

export interface SetupOptions {
  /** Where each node writes a V8 CPU profile (on a clean stop), when given. */
  readonly profileDir?: string | undefined;
  /** Each node serves its web port too (`/readyz` for a balancer's health checks). */
  readonly web?: boolean;
  /** Parameters besides the benches' limits. */
  readonly parameters?: Readonly<Record<string, string | number>>;
  readonly env?: Readonly<Record<string, string>>;
}

export interface BenchNode {
  readonly id: string;
  readonly port: number;
  /** 0 unless the setup asked for web ports. */
  readonly webPort: number;
  readonly alive: boolean;
  /** SIGKILL: no goodbye, no lease given up. Resolves once the process is gone. */
  kill(): Promise<void>;
}

/** CPU time (µs) of what the nodes lean on, from /proc. */
export interface ServiceCpu {
  /** The PostgreSQL server processes serving these nodes' connections. */
  readonly postgres: number;
  /** The Redis server: shared with whatever else uses it on this machine. */
  readonly redis: number;
}

export interface Running {
  readonly ports: number[];
  readonly nodes: readonly BenchNode[];
  /** The Redis key prefix of the cluster (every node's). */
  readonly prefix: string;
  /** CPU time (user + system, µs) each node process has used so far. */
  cpuMicros(): number[];
  /** CPU time PostgreSQL's backends of these nodes, and Redis, have used so far. */
  serviceCpuMicros(): Promise<ServiceCpu>;
  stop(): Promise<void>;
}

/** A process's CPU time from /proc (clock ticks of 10 ms); 0 where /proc is not there. */
export function processCpuMicros(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): utime is the 14th, stime the 15th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100;
  } catch {
    return 0;
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

export async function startSetup(setup: Setup, options: SetupOptions = {}): Promise<Running> {
  const { profileDir } = options;
  const root = mkdtempSync(path.join(tmpdir(), 'confab-bench-cluster-'));
  const schema = freshSchemaName();
  const prefix = freshPrefix();
  // How this run's connections show in pg_stat_activity: their CPU is counted from there.
  const application = `confab-bench-${randomBytes(3).toString('hex')}`;
  const children: ChildProcess[] = [];
  const nodes: BenchNode[] = [];
  const stopAll = () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  };
  for (let i = 0; i < setup.nodes; i++) {
    const id = `bench${i}`;
    const port = await freePort();
    const webPort = options.web ? await freePort() : 0;
    const args: string[] = profileDir
      ? [
          '--cpu-prof',
          `--cpu-prof-dir=${profileDir}`,
          `--cpu-prof-name=cluster-${setup.nodes}n-${setup.store}-node${i}-${Date.now()}.cpuprofile`,
        ]
      : [];
    args.push(MAIN, 'serve', '--host', '127.0.0.1', '--port', String(port));
    args.push('--data', path.join(root, `node${i}`), '--node-id', id);
    if (options.web) args.push('--web-port', String(webPort));
    // The load comes from one address, faster than a person types: the benches' limits.
    for (const [key, value] of Object.entries({ ...BENCH_PARAMETERS, ...options.parameters }))
      args.push('--set', `${key}=${value}`);
    if (setup.store === 'postgres')
      args.push('--store', `${TEST_PG_URL}?schema=${schema}&application_name=${application}`);
    if (setup.nodes > 1)
      args.push('--bus', `${TEST_REDIS_URL}?prefix=${encodeURIComponent(prefix)}`);
    const child = spawn(process.execPath, args, {
      env: {
        ...process.env,
        ...(options.web ? {} : { CONFAB_WEB_PORT: '0' }),
        CONFAB_ADMIN_PASSWORD: 'bench-admin-password-1',
        CONFAB_SERVER_NAME: id,
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let output = '';
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`node did not start: ${output}`)), 30_000);
        child.stdout!.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          if (/Connect with: .*\n/.test(output)) {
            clearTimeout(timer);
            resolve();
          }
        });
        child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
        child.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`node exited (${code}): ${output}`));
        });
      });
    } catch (error) {
      stopAll();
      throw error;
    }
    nodes.push({
      id,
      port,
      webPort,
      get alive() {
        return child.exitCode === null && child.signalCode === null;
      },
      async kill() {
        child.kill('SIGKILL');
        await exited(child);
      },
    });
  }
  const sql =
    setup.store === 'postgres' ? postgres(TEST_PG_URL, { max: 1, onnotice: false }) : undefined;
  const redis =
    setup.nodes > 1 ? new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 }) : undefined;
  let redisPid: number | undefined;
  return {
    ports: nodes.map((node) => node.port),
    nodes,
    prefix,
    cpuMicros: () => children.map((child) => processCpuMicros(child.pid)),
    async serviceCpuMicros() {
      let pg = 0;
      if (sql) {
        const rows = await sql<{ pid: number }[]>`
          SELECT pid FROM pg_stat_activity WHERE application_name = ${application}`;
        for (const { pid } of rows) pg += processCpuMicros(pid);
      }
      if (redis && redisPid === undefined)
        redisPid = Number(/process_id:(\d+)/.exec(await redis.info('server'))?.[1]);
      return { postgres: pg, redis: redis ? processCpuMicros(redisPid) : 0 };
    },
    async stop() {
      await Promise.all(
        children.map((child) => {
          if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
          if (!profileDir) {
            child.kill('SIGKILL');
            return exited(child);
          }
          // A profiled node writes its profile only on a clean exit: SIGINT twice is
          // "stop now" (the first starts the shutdown countdown).
          child.kill('SIGINT');
          setTimeout(() => child.kill('SIGINT'), 200);
          setTimeout(() => child.kill('SIGKILL'), 15_000).unref();
          return exited(child);
        }),
      );
      await sql?.end({ timeout: 2 });
      redis?.disconnect();
      if (setup.store === 'postgres') await dropSchema(schema).catch(() => undefined);
      if (setup.nodes > 1) await deletePrefix(prefix).catch(() => undefined);
      rmSync(root, { recursive: true, force: true });
    },
  };
}
