import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type {
  ClientSpec,
  SenderPlan,
  ServerCommand,
  ServerReply,
  WorkerCommand,
  WorkerReply,
} from './ipc.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Limits the benchmark must be allowed past; unknown keys are skipped by the server. */
export const BENCH_PARAMETERS: Readonly<Record<string, string | number>> = {
  maxUsers: 100_000,
  maxConnectionsPerIp: 1_000_000,
  connectionsPerMinutePerIp: 1_000_000,
  'flood.burst': 1_000_000,
  'flood.perSecond': 1_000_000,
  sendqBytes: '256MiB',
  registrationTimeoutSeconds: 600,
  idleTimeoutSeconds: 0,
};

/** Waits for the first message from a child matching `type`, or fails after `timeoutMs`. */
function nextMessage<M extends { type: string }, T extends M['type']>(
  child: ChildProcess,
  type: T,
  timeoutMs: number,
): Promise<Extract<M, { type: T }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no "${type}" from process ${child.pid} within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (message: M) => {
      if (message.type !== type) return;
      cleanup();
      resolve(message as Extract<M, { type: T }>);
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`process ${child.pid} exited (${code}) while waiting for "${type}"`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

export class ServerProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    readonly skipped: readonly string[],
    private readonly dataDir: string,
    /** The IRC gateway's port (not for the floor server). */
    readonly ircPort: number | undefined,
    /** The web listener's port (`web: true` only). */
    readonly webPort: number | undefined,
  ) {}

  static async start(options: {
    parameters?: Readonly<Record<string, string | number>>;
    profileDir?: string;
    /** `floor`: the minimal forwarder of bench/floor-server.ts instead of Confab. */
    kind?: 'confab' | 'floor';
    /** Also start the web listener (browser client, `/ws`). */
    web?: boolean;
  }): Promise<ServerProcess> {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'confab-bench-'));
    const execArgv = ['--expose-gc'];
    // Extra Node options for the server alone (a heap snapshot on a signal, a GC trace).
    const extra = process.env.CONFAB_BENCH_SERVER_NODE_OPTIONS;
    if (extra) execArgv.push(...extra.split(' ').filter((option) => option !== ''));
    if (options.profileDir) execArgv.push('--cpu-prof', `--cpu-prof-dir=${options.profileDir}`);
    const child = fork(
      path.join(here, options.kind === 'floor' ? 'floor-server.js' : 'server-child.js'),
      [dataDir, JSON.stringify({ ...BENCH_PARAMETERS, ...options.parameters })],
      {
        execArgv,
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        env: { ...process.env, CONFAB_BENCH_WEB: options.web ? '1' : '0' },
      },
    );
    const ready = await nextMessage<ServerReply, 'ready'>(child, 'ready', 30_000);
    return new ServerProcess(
      child,
      ready.port,
      ready.skipped,
      dataDir,
      ready.ircPort,
      ready.webPort,
    );
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  async stats(gc = false): Promise<Extract<ServerReply, { type: 'stats' }>> {
    const answer = nextMessage<ServerReply, 'stats'>(this.child, 'stats', 60_000);
    this.child.send({ type: 'stats', gc } satisfies ServerCommand);
    return answer;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.send({ type: 'exit' } satisfies ServerCommand);
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

export interface Collected {
  readonly received: number;
  readonly violations: number;
  readonly histograms: Extract<WorkerReply, { type: 'collected' }>['histogram'][];
  readonly seen: Map<number, { receivers: number; minLast: number; maxLast: number }>;
  readonly bytesIn: number;
  readonly framesIn: number;
  readonly lastAt: number;
  readonly cpuMicros: number;
  readonly rss: number;
}

/** The load generator: several worker processes, each holding a share of the clients. */
export class Generator {
  private constructor(private readonly workers: ChildProcess[]) {}

  static start(count: number): Generator {
    const workers = Array.from({ length: count }, () =>
      fork(path.join(here, 'generator.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
    );
    return new Generator(workers);
  }

  get size(): number {
    return this.workers.length;
  }

  /** Which worker holds client `index`. */
  workerOf(index: number): number {
    return index % this.workers.length;
  }

  private ask<T extends WorkerReply['type']>(
    worker: ChildProcess,
    command: WorkerCommand,
    type: T,
    timeoutMs: number,
  ): Promise<Extract<WorkerReply, { type: T }>> {
    const answer = nextMessage<WorkerReply, T>(worker, type, timeoutMs);
    worker.send(command);
    return answer;
  }

  /** Connects and logs in every client (spread over the workers); resolves when all are. */
  async connect(
    port: number,
    clients: readonly ClientSpec[],
    concurrencyPerWorker: number,
  ): Promise<{ ok: number; failed: number; firstError: string | undefined; ms: number }> {
    const started = performance.now();
    const answers = await Promise.all(
      this.workers.map((worker, workerIndex) =>
        this.ask(
          worker,
          {
            type: 'connect',
            host: '127.0.0.1',
            port,
            clients: clients.filter((client) => this.workerOf(client.index) === workerIndex),
            concurrency: concurrencyPerWorker,
          },
          'connected',
          600_000,
        ),
      ),
    );
    return {
      ok: answers.reduce((sum, answer) => sum + answer.ok, 0),
      failed: answers.reduce((sum, answer) => sum + answer.failed, 0),
      firstError: answers.find((answer) => answer.firstError)?.firstError,
      ms: performance.now() - started,
    };
  }

  async load(
    senders: readonly SenderPlan[],
    durationMs: number,
  ): Promise<Extract<WorkerReply, { type: 'loaded' }>> {
    const answers = await Promise.all(
      this.workers.map((worker, workerIndex) =>
        this.ask(
          worker,
          {
            type: 'load',
            senders: senders.filter((sender) => this.workerOf(sender.client) === workerIndex),
            durationMs,
          },
          'loaded',
          durationMs + 120_000,
        ),
      ),
    );
    return {
      type: 'loaded',
      senders: answers.flatMap((answer) => answer.senders),
      firstError: answers.find((answer) => answer.firstError)?.firstError,
      ms: Math.max(...answers.map((answer) => answer.ms)),
    };
  }

  /** Has clients make one request each (all clients, or the given ones); fails if any is refused. */
  async call(cmd: string, args: object, clients?: readonly number[]): Promise<void> {
    const answers = await Promise.all(
      this.workers.map((worker, workerIndex) =>
        this.ask(
          worker,
          {
            type: 'call',
            cmd,
            args,
            ...(clients && {
              clients: clients.filter((index) => this.workerOf(index) === workerIndex),
            }),
          },
          'called',
          300_000,
        ),
      ),
    );
    const refused = answers.find((answer) => answer.failed > 0);
    if (refused) throw new Error(`${cmd} refused: ${refused.firstError}`);
  }

  async collect(): Promise<Collected> {
    const answers = await Promise.all(
      this.workers.map((worker) => this.ask(worker, { type: 'collect' }, 'collected', 30_000)),
    );
    const seen = new Map<number, { receivers: number; minLast: number; maxLast: number }>();
    for (const answer of answers)
      for (const entry of answer.seen) {
        const known = seen.get(entry.senderNo);
        if (!known) seen.set(entry.senderNo, { ...entry });
        else {
          known.receivers += entry.receivers;
          known.minLast = Math.min(known.minLast, entry.minLast);
          known.maxLast = Math.max(known.maxLast, entry.maxLast);
        }
      }
    return {
      received: answers.reduce((sum, answer) => sum + answer.received, 0),
      violations: answers.reduce((sum, answer) => sum + answer.violations, 0),
      histograms: answers.map((answer) => answer.histogram),
      seen,
      bytesIn: answers.reduce((sum, answer) => sum + answer.bytesIn, 0),
      framesIn: answers.reduce((sum, answer) => sum + answer.framesIn, 0),
      lastAt: Math.max(...answers.map((answer) => answer.lastAt)),
      cpuMicros: answers.reduce((sum, answer) => sum + answer.cpuMicros, 0),
      rss: answers.reduce((sum, answer) => sum + answer.rss, 0),
    };
  }

  reset(): void {
    for (const worker of this.workers) worker.send({ type: 'reset' } satisfies WorkerCommand);
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.workers.map(
        (worker) =>
          new Promise<void>((resolve) => {
            if (worker.exitCode !== null) return resolve();
            worker.once('exit', () => resolve());
            worker.send({ type: 'exit' } satisfies WorkerCommand);
            setTimeout(() => worker.kill('SIGKILL'), 10_000).unref();
          }),
      ),
    );
  }
}

/** Source addresses for client `index`: spread over 127.0.0.1–127.0.0.N. */
export function sourceAddress(index: number, addresses: number): string {
  return `127.0.0.${(index % addresses) + 1}`;
}
