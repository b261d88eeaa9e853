import { closeSync, openSync, write, writeSync } from 'node:fs';

export interface LogFileOptions {
  /** Lines held in memory (UTF-16 units) while the file cannot keep up or cannot be written. */
  readonly maxPending?: number;
  /** Where warnings about the file go: stderr by default. */
  readonly warn?: (line: string) => void;
  /** At most one "cannot write" warning per this interval. */
  readonly warnIntervalMs?: number;
  /** How soon a failed write is tried again when nothing new arrives to trigger it. */
  readonly retryMs?: number;
  readonly now?: () => number;
}

const DEFAULT_MAX_PENDING = 4 * 1024 * 1024;

/**
 * An append-only log file that never stops the server. pino's own destination (sonic-boom)
 * turns a failed write (ENOSPC, EIO, EDQUOT) into an `error` event that is fatal unless
 * handled, and its exit-time flush retries a failed write for ever: on a full disk the
 * server hung at 0% CPU. Here a failed write is kept (up to `maxPending`, lines beyond are
 * dropped and counted), retried every `retryMs`, and written out when space returns; stderr
 * hears about it at most once per `warnIntervalMs`, and once more when writing resumes.
 */
export class LogFile {
  private readonly fd: number;
  private readonly maxPending: number;
  private readonly warn: (line: string) => void;
  private readonly warnIntervalMs: number;
  private readonly retryMs: number;
  private readonly now: () => number;
  private pending: string[] = [];
  private pendingLength = 0;
  /** The bytes being written, from `offset` on; kept across failed attempts. */
  private current: Buffer | undefined;
  private offset = 0;
  private writing = false;
  private closed = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private drainWaiters: Array<() => void> = [];
  // Failure bookkeeping, for the warnings.
  private failure: NodeJS.ErrnoException | undefined;
  private lastWarning = Number.NEGATIVE_INFINITY;
  private warnedSinceRecovery = false;
  private droppedLines = 0;
  private droppedSinceWarning = 0;

  constructor(
    readonly path: string,
    options: LogFileOptions = {},
  ) {
    this.fd = openSync(path, 'a');
    this.maxPending = options.maxPending ?? DEFAULT_MAX_PENDING;
    this.warn = options.warn ?? ((line) => process.stderr.write(line + '\n'));
    this.warnIntervalMs = options.warnIntervalMs ?? 60_000;
    this.retryMs = options.retryMs ?? 1000;
    this.now = options.now ?? Date.now;
  }

  /** True while the last write failed (the disk is full, or the file cannot be written). */
  get failing(): boolean {
    return this.failure !== undefined;
  }

  /** Lines dropped since the file was opened. */
  get dropped(): number {
    return this.droppedLines;
  }

  /** Appends `text` (whole lines); never throws, never blocks. */
  write(text: string): boolean {
    if (this.closed) return false;
    const held = this.pendingLength + (this.current ? this.current.length - this.offset : 0);
    if (held + text.length > this.maxPending) {
      this.droppedLines++;
      this.droppedSinceWarning++;
      if (this.failure) this.warnFailure();
      return false;
    }
    this.pending.push(text);
    this.pendingLength += text.length;
    if (!this.failure) this.pump();
    return true;
  }

  /**
   * Resolves when everything written so far is in the file, or as soon as a write fails:
   * a shutdown on a full disk must not wait for space that may never come.
   */
  drain(): Promise<void> {
    if (!this.writing && !this.current && this.pending.length === 0) return Promise.resolve();
    if (this.failure && !this.writing) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** One last synchronous attempt (for process exit); gives up on the first error. */
  writeOutSync(): void {
    if (this.closed || this.writing) return;
    try {
      if (this.current) writeSync(this.fd, this.current, this.offset);
      this.current = undefined;
      if (this.pending.length > 0) writeSync(this.fd, this.pending.join(''));
      this.pending = [];
      this.pendingLength = 0;
    } catch {
      // Nothing more can be done on the way out; the warning has been given already.
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.drain();
    this.closed = true;
    clearTimeout(this.retryTimer);
    // A write still in flight (on a failing disk) must not land on a reused descriptor.
    if (this.writing) await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
    closeSync(this.fd);
  }

  private pump(): void {
    if (this.writing || this.closed) return;
    if (!this.current) {
      if (this.pending.length === 0) return this.settle();
      this.current = Buffer.from(
        this.pending.length === 1 ? this.pending[0]! : this.pending.join(''),
      );
      this.offset = 0;
      this.pending = [];
      this.pendingLength = 0;
    }
    this.writing = true;
    write(this.fd, this.current, this.offset, this.current.length - this.offset, null, (error, n) =>
      this.written(error, n),
    );
  }

  private written(error: NodeJS.ErrnoException | null, n: number): void {
    this.writing = false;
    if (this.closed) return this.settle();
    if (error) {
      this.failure = error;
      this.warnFailure();
      this.settle();
      this.retryTimer ??= setTimeout(() => {
        this.retryTimer = undefined;
        this.pump();
      }, this.retryMs).unref();
      return;
    }
    this.offset += n;
    if (this.offset >= this.current!.length) this.current = undefined;
    if (this.failure) this.recovered();
    this.pump();
  }

  private settle(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private warnFailure(): void {
    const now = this.now();
    if (now - this.lastWarning < this.warnIntervalMs) return;
    this.lastWarning = now;
    this.warnedSinceRecovery = true;
    const reason = this.failure?.code ?? this.failure?.message ?? 'error';
    const dropped =
      this.droppedSinceWarning > 0 ? `; ${this.droppedSinceWarning} lines dropped so far` : '';
    this.droppedSinceWarning = 0;
    this.warn(
      `confab: cannot write ${this.path} (${reason}): holding up to ` +
        `${Math.round(this.maxPending / 1024)} KiB of log lines and dropping the rest ` +
        `until it can write again${dropped}`,
    );
  }

  private recovered(): void {
    this.failure = undefined;
    if (!this.warnedSinceRecovery) return;
    this.warnedSinceRecovery = false;
    // The next failure warns at once: it is a new episode.
    this.lastWarning = Number.NEGATIVE_INFINITY;
    const dropped = this.droppedSinceWarning;
    this.droppedSinceWarning = 0;
    this.warn(
      `confab: writing ${this.path} again` +
        (dropped > 0 ? `; ${dropped} more lines were dropped meanwhile` : ''),
    );
  }
}
