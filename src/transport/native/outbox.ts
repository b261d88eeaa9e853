import type { Socket } from 'node:net';

/** Above this, queued frames are handed to the socket one by one rather than copied. */
const COPY_LIMIT_BYTES = 256 * 1024;
/**
 * A socket that keeps getting output is written at most once per this many milliseconds
 * (the first frame after a quiet spell still leaves at the end of the current turn). Like
 * Nagle's algorithm, but bounded: it turns a stream of small frames (a busy room, every
 * login announced to everyone) into few large writes, at the cost of at most this delay.
 */
export const COALESCE_MS = 2;
/**
 * Frames that nobody waits for (presence notices) may wait this long for company. When
 * thousands log in, each login is announced to everyone online: written one by one that is
 * one system call per notice per socket, the cost that dominates a login storm.
 */
export const LAZY_MS = 100;

type Schedule = 'none' | 'lazy' | 'soon';

/**
 * One socket's output, coalesced: every frame queued while the event loop handles a batch
 * of I/O (a fan-out, a burst of logins, a history replay) leaves in one write, so a socket
 * costs one system call per turn (or per COALESCE_MS while busy) however many frames it
 * gets. That is what keeps a thousand-member fan-out, or logins announced to thousands,
 * affordable. A frame's encoding is shared by all its recipients (see codec.ts).
 */
export class Outbox {
  private chunks: Buffer[] = [];
  private bytes = 0;
  private lastFlushAt = -Infinity;
  private scheduled: Schedule = 'none';

  constructor(private readonly socket: Socket) {}

  /** Output not yet taken by the kernel: queued here plus buffered in the socket. */
  get queuedBytes(): number {
    return this.bytes + this.socket.writableLength;
  }

  /** Queues a frame; `lazy` ones may wait up to LAZY_MS, unless an urgent one follows. */
  push(chunk: Buffer, lazy = false): void {
    if (lazy) {
      if (this.scheduled === 'none') {
        this.scheduled = 'lazy';
        scheduleLazy(this);
      }
    } else if (this.scheduled !== 'soon') {
      this.scheduled = 'soon';
      schedule(this, this.lastFlushAt);
    }
    this.chunks.push(chunk);
    this.bytes += chunk.length;
  }

  /** Hands everything queued to the socket now (before closing, and when scheduled). */
  flush(now = performance.now()): void {
    const chunks = this.chunks;
    this.scheduled = 'none';
    if (chunks.length === 0) return;
    const bytes = this.bytes;
    this.chunks = [];
    this.bytes = 0;
    this.lastFlushAt = now;
    if (this.socket.destroyed || !this.socket.writable) return;
    if (chunks.length === 1) {
      this.socket.write(chunks[0]!);
    } else if (bytes <= COPY_LIMIT_BYTES) {
      this.socket.write(Buffer.concat(chunks, bytes));
    } else {
      this.socket.cork();
      for (const chunk of chunks) this.socket.write(chunk);
      this.socket.uncork();
    }
  }
}

// Two shared schedules rather than a callback per socket: sockets quiet for a while are
// written after this turn's I/O; busy ones by a timer, COALESCE_MS after their last write.
let thisTurn: Outbox[] = [];
let turnScheduled = false;
let later: Outbox[] = [];
let laterTimer: NodeJS.Timeout | undefined;
let lazy: Outbox[] = [];
let lazyTimer: NodeJS.Timeout | undefined;

function scheduleLazy(outbox: Outbox): void {
  lazy.push(outbox);
  lazyTimer ??= setTimeout(flushLazy, LAZY_MS);
}

function flushLazy(): void {
  lazyTimer = undefined;
  const outboxes = lazy;
  lazy = [];
  const now = performance.now();
  for (const outbox of outboxes) outbox.flush(now);
}

function schedule(outbox: Outbox, lastFlushAt: number): void {
  if (performance.now() - lastFlushAt >= COALESCE_MS) {
    thisTurn.push(outbox);
    if (!turnScheduled) {
      turnScheduled = true;
      setImmediate(flushThisTurn);
    }
  } else {
    later.push(outbox);
    laterTimer ??= setTimeout(flushLater, COALESCE_MS);
  }
}

function flushThisTurn(): void {
  turnScheduled = false;
  const outboxes = thisTurn;
  thisTurn = [];
  const now = performance.now();
  for (const outbox of outboxes) outbox.flush(now);
}

function flushLater(): void {
  laterTimer = undefined;
  const outboxes = later;
  later = [];
  const now = performance.now();
  for (const outbox of outboxes) outbox.flush(now);
}
