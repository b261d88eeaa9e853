import type { HistogramSnapshot } from './stats.js';

/** Messages between the benchmark runner and its generator and server processes. */

export interface ClientSpec {
  readonly index: number;
  readonly nick: string;
  readonly localAddress: string;
  /** The protocol the client speaks (native protocol v1 unless `irc`). */
  readonly protocol?: 'native' | 'irc';
}

/** One benchmark sender: a client sending marked messages, paced or as fast as acked. */
export interface SenderPlan {
  readonly client: number;
  /** The number receivers see in the marker. */
  readonly senderNo: number;
  readonly target:
    | { readonly kind: 'room'; readonly room: string }
    | { readonly kind: 'private'; readonly to: string };
  /** Messages per second, or `max`: keep `window` requests outstanding. */
  readonly rate: number | 'max';
  /**
   * Where in its period a paced sender's schedule starts, from 0 to 1: message k is due at
   * (k − 1 + phase) / rate seconds. Senders sharing a rate are given phases spread over
   * [0, 1) so that their aggregate rate is evenly spaced; all at 0, they send in step.
   */
  readonly phase?: number;
  readonly window: number;
  readonly maxMessages: number;
}

export type WorkerCommand =
  | {
      readonly type: 'connect';
      readonly host: string;
      readonly port: number;
      readonly clients: readonly ClientSpec[];
      readonly concurrency: number;
    }
  | { readonly type: 'load'; readonly senders: readonly SenderPlan[]; readonly durationMs: number }
  | {
      readonly type: 'call';
      /** Which of this worker's clients make the request (all of them when omitted). */
      readonly clients?: readonly number[];
      readonly cmd: string;
      readonly args: object;
    }
  | { readonly type: 'collect' }
  | { readonly type: 'reset' }
  | { readonly type: 'exit' };

export interface SenderResult {
  readonly senderNo: number;
  readonly sent: number;
  readonly acked: number;
  readonly failed: number;
}

/** Per sender, what the receivers in one worker saw of it. */
export interface SeenSummary {
  readonly senderNo: number;
  readonly receivers: number;
  readonly minLast: number;
  readonly maxLast: number;
}

export type WorkerReply =
  | {
      readonly type: 'connected';
      readonly ok: number;
      readonly failed: number;
      readonly firstError: string | undefined;
      readonly ms: number;
    }
  | {
      readonly type: 'called';
      readonly ok: number;
      readonly failed: number;
      readonly firstError: string | undefined;
    }
  | {
      readonly type: 'loaded';
      readonly senders: readonly SenderResult[];
      readonly firstError: string | undefined;
      readonly ms: number;
    }
  | {
      readonly type: 'collected';
      readonly histogram: HistogramSnapshot;
      readonly received: number;
      readonly violations: number;
      readonly seen: readonly SeenSummary[];
      readonly bytesIn: number;
      readonly framesIn: number;
      /** When the last marked delivery arrived (monotonic µs, comparable across processes). */
      readonly lastAt: number;
      readonly cpuMicros: number;
      readonly rss: number;
    };

export type ServerCommand =
  { readonly type: 'stats'; readonly gc: boolean } | { readonly type: 'exit' };

export type ServerReply =
  | {
      readonly type: 'ready';
      readonly port: number;
      readonly ircPort?: number;
      /** The web listener's port, when the runner asked for it (`CONFAB_BENCH_WEB=1`). */
      readonly webPort?: number;
      readonly skipped: readonly string[];
    }
  | {
      readonly type: 'stats';
      readonly rss: number;
      readonly heapUsed: number;
      readonly heapTotal: number;
      /** V8's young generation, resident size: a heap-wide buffer that grows under load. */
      readonly newSpace: number;
      /** Resident bytes of each V8 heap space (`new_space`, `old_space`, ...). */
      readonly spaces?: Readonly<Record<string, number>>;
      /** Peak RSS of the process so far. */
      readonly maxRss: number;
      readonly external: number;
      /** Every thread of the process. */
      readonly cpuMicros: number;
      /** The main thread (the event loop) alone, where Linux says. */
      readonly mainThreadCpuMicros: number | undefined;
      readonly online: number;
      readonly storedMessages: number;
    };
