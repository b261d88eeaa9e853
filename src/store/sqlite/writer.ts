import { Worker } from 'node:worker_threads';
import { type CommitListener, StoreUnavailableError } from '../store.js';
import { noTelemetry, type Telemetry } from '../../telemetry/telemetry.js';
import { translateError } from './database.js';
import type { WriteArgs, WriteOpName, WriteResult } from './write-ops.js';
import type { WriteFailure, WriterReply, WriterRequest } from './writer-protocol.js';
import { packWrite, type PackedBatch } from './write-packing.js';

/** How long a write nobody waits on (a login's address) may wait for company. */
export const LAZY_WRITE_MS = 250;

interface PendingWrite {
  /** Kept for `map`; the thread gets a packed copy. */
  readonly args: readonly unknown[];
  /** Told the outcome: the caller's own listener, or a promise's resolve and reject. */
  readonly listener: CommitListener<unknown>;
  /** Turns the thread's plain result into what the caller is promised. */
  readonly map: ((result: never, args: never) => unknown) | undefined;
}

/**
 * The worker thread's script. Run from the TypeScript sources (vitest), the thread cannot
 * load a `.ts` file, so it runs the compiled copy under dist/ that `npm run build` (and
 * `npm test`'s pretest) writes.
 */
function writerThreadUrl(): URL {
  if (!import.meta.url.endsWith('.ts')) return new URL('./writer-thread.js', import.meta.url);
  return new URL('../../../dist/src/store/sqlite/writer-thread.js', import.meta.url);
}

function toError(failure: WriteFailure): Error {
  return translateError(Object.assign(new Error(failure.message), { code: failure.code }));
}

/**
 * The main thread's side of the SQLite writer. Writes queue here and go to the writer
 * thread as one batch: the first write of a turn schedules a batch at the end of that turn,
 * and while a batch is committing on the thread, everything that arrives waits and goes as
 * the next batch the moment the commit is reported. At a low rate a write pays one commit
 * and nothing more; at a high rate commits grow with the fsync's time instead of
 * multiplying. A write's promise resolves only once its batch is committed, fsync included.
 * If a batch fails, the thread runs each of its writes alone, so one bad write cannot fail
 * its neighbours. Writes nothing waits on (`writeLazy`) ride with the next batch, or go
 * after LAZY_WRITE_MS.
 */
export class SqliteWriter {
  /** Where commits are reported (`Store.instrument`). */
  telemetry: Telemetry = noTelemetry;
  private readonly worker: Worker;
  private queue: PendingWrite[] = [];
  /** The queued writes as they will cross to the thread (`write-packing.ts`). */
  private packed: PackedBatch = [];
  private urgentQueued = false;
  private scheduled: NodeJS.Immediate | undefined;
  private lazyTimer: NodeJS.Timeout | undefined;
  private batchInFlight = false;
  /** Requests the thread has not answered yet, by sequence number. */
  private readonly waiting = new Map<
    number,
    { readonly settle: (reply: WriterReply) => void; readonly abort: (error: Error) => void }
  >();
  private seq = 0;
  private failed: Error | undefined;
  private closing: Promise<void> | undefined;

  constructor(file: string) {
    this.worker = new Worker(writerThreadUrl(), { workerData: { file } });
    // Only pending work keeps the process alive, as a synchronous write would have.
    this.worker.unref();
    this.worker.on('message', (reply: WriterReply) => {
      const waiter = this.waiting.get(reply.seq);
      this.waiting.delete(reply.seq);
      // While closing, the thread's exit is still awaited: it keeps the process alive.
      if (this.waiting.size === 0 && this.queue.length === 0 && !this.closing) this.worker.unref();
      waiter?.settle(reply);
    });
    this.worker.on('error', (error) => this.fail(error));
    this.worker.on('exit', (code) => {
      if (!this.closing) this.fail(new Error(`The SQLite writer thread exited (code ${code})`));
    });
  }

  /** Queues a write for the next commit; resolves with its result once committed. */
  write<K extends WriteOpName, T = WriteResult<K>>(
    op: K,
    args: WriteArgs<K>,
    map?: (result: WriteResult<K>, args: WriteArgs<K>) => T,
  ): Promise<T> {
    return this.push(op, args, false, map);
  }

  /**
   * `write` with the outcome told to `listener` rather than through a promise (the message
   * path: no promise, resolving functions or reactions per message). Never told before
   * this call returns.
   */
  writeThen<K extends WriteOpName, T>(
    op: K,
    args: WriteArgs<K>,
    listener: CommitListener<T>,
    map: (result: WriteResult<K>, args: WriteArgs<K>) => T,
  ): void {
    const refusal = this.refusal(op);
    if (refusal) queueMicrotask(() => listener.failed(refusal));
    else this.enqueue(op, args, false, map, listener as CommitListener<unknown>);
  }

  /** A write nothing waits on: joins the next commit, or commits within LAZY_WRITE_MS. */
  writeLazy<K extends WriteOpName>(op: K, args: WriteArgs<K>): Promise<WriteResult<K>> {
    return this.push(op, args, true, undefined);
  }

  /** Resolves once every write queued so far is committed. */
  flush(): Promise<void> {
    return this.write('barrier', []).then(() => undefined);
  }

  /** Runs a pragma on the write connection, after the writes queued before it. */
  async pragma(text: string): Promise<unknown> {
    await this.flush();
    const reply = await this.request({ kind: 'pragma', seq: ++this.seq, text });
    if (reply.kind !== 'pragma') throw new Error(`unexpected writer reply ${reply.kind}`);
    if (reply.failure) throw toError(reply.failure);
    return reply.result;
  }

  /** The reason writes fail, when the thread is gone. */
  get failure(): Error | undefined {
    return this.failed;
  }

  /** Commits what is queued, then closes the write connection and ends the thread. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.failed) return;
      this.worker.ref();
      await this.flush().catch(() => undefined);
      if (this.failed) return;
      const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
      await this.request({ kind: 'close', seq: ++this.seq });
      await exited;
    })();
    return this.closing;
  }

  private push<T>(
    op: WriteOpName,
    args: readonly unknown[],
    lazy: boolean,
    map: ((result: never, args: never) => unknown) | undefined,
  ): Promise<T> {
    const refusal = this.refusal(op);
    if (refusal) return Promise.reject(refusal);
    return new Promise<T>((resolve, reject) => {
      this.enqueue(op, args, lazy, map, {
        committed: resolve as (value: unknown) => void,
        failed: reject,
      });
    });
  }

  /** Why a write cannot be queued now, if it cannot. */
  private refusal(op: WriteOpName): Error | undefined {
    if (this.failed) return this.unavailable();
    if (this.closing && op !== 'barrier') return new StoreUnavailableError('The store is closed');
    return undefined;
  }

  private enqueue(
    op: WriteOpName,
    args: readonly unknown[],
    lazy: boolean,
    map: ((result: never, args: never) => unknown) | undefined,
    listener: CommitListener<unknown>,
  ): void {
    packWrite(this.packed, op, args);
    this.queue.push({ args, listener, map });
    this.worker.ref();
    if (!lazy) this.urgentQueued = true;
    if (this.batchInFlight) return;
    if (!lazy) this.scheduled ??= setImmediate(this.sendBatch);
    else this.lazyTimer ??= setTimeout(this.sendBatch, LAZY_WRITE_MS);
  }

  private readonly sendBatch = (): void => {
    if (this.scheduled) clearImmediate(this.scheduled);
    if (this.lazyTimer) clearTimeout(this.lazyTimer);
    this.scheduled = undefined;
    this.lazyTimer = undefined;
    if (this.batchInFlight || this.queue.length === 0 || this.failed) return;
    const batch = this.queue;
    const writes = this.packed;
    this.queue = [];
    this.packed = [];
    this.urgentQueued = false;
    this.batchInFlight = true;
    const seq = ++this.seq;
    this.waiting.set(seq, {
      settle: (reply) => this.settleBatch(batch, reply),
      abort: (error) => {
        for (const write of batch) write.listener.failed(error);
      },
    });
    this.worker.postMessage({
      kind: 'batch',
      seq,
      count: batch.length,
      writes,
    } satisfies WriterRequest);
  };

  private settleBatch(batch: readonly PendingWrite[], reply: WriterReply): void {
    this.batchInFlight = false;
    // What arrived while that commit was syncing goes now, as the next commit.
    if (this.urgentQueued) this.sendBatch();
    else if (this.queue.length > 0) this.lazyTimer ??= setTimeout(this.sendBatch, LAZY_WRITE_MS);
    if (reply.kind !== 'batch') {
      const error = new Error(`unexpected writer reply ${reply.kind}`);
      for (const write of batch) write.listener.failed(error);
      return;
    }
    this.telemetry.storeCommitted(reply.ms / 1000, batch.length);
    const { results, failures } = reply;
    for (let index = 0; index < batch.length; index++) {
      const write = batch[index]!;
      const failure = failures?.[index];
      // A listener runs its caller's work (a message's fan-out) here, not in a reaction: one
      // that throws must not leave the rest of the batch untold, and still surfaces.
      try {
        if (failure) write.listener.failed(toError(failure));
        else {
          const result = results[index];
          write.listener.committed(
            write.map ? write.map(result as never, write.args as never) : result,
          );
        }
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }

  private request(request: WriterRequest): Promise<WriterReply> {
    if (this.failed) return Promise.reject(this.unavailable());
    return new Promise((resolve, reject) => {
      this.waiting.set(request.seq, { settle: resolve, abort: reject });
      this.worker.ref();
      this.worker.postMessage(request);
    });
  }

  private unavailable(): StoreUnavailableError {
    return new StoreUnavailableError(`The SQLite writer failed: ${this.failed?.message}`, {
      cause: this.failed,
    });
  }

  /** The thread is gone: every write waiting or queued fails, and so will later ones. */
  private fail(error: Error): void {
    if (this.failed) return;
    this.failed = error;
    if (this.scheduled) clearImmediate(this.scheduled);
    if (this.lazyTimer) clearTimeout(this.lazyTimer);
    const failure = this.unavailable();
    const queued = this.queue;
    this.queue = [];
    this.packed = [];
    for (const write of queued) write.listener.failed(failure);
    const waiting = [...this.waiting.values()];
    this.waiting.clear();
    for (const waiter of waiting) waiter.abort(failure);
    this.batchInFlight = false;
  }
}
