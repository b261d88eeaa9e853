import type { Wire } from './wire.js';

/** Above this, queued frames are handed to the socket one by one rather than copied. */
const COPY_LIMIT_BYTES = 256 * 1024;
/**
 * Frames that nobody waits for (presence notices) may wait this long for company. When
 * thousands log in, each login is announced to everyone online: written one by one that is
 * one system call per notice per socket, the cost that dominates a login storm.
 */
export const LAZY_MS = 100;

type Schedule = 'none' | 'lazy' | 'soon';

/**
 * One socket's output, coalesced: every frame queued while the event loop handles a batch
 * of I/O (a fan-out, a burst of commits, a history replay) leaves in one write after that
 * turn's I/O, so a socket costs one system call per turn however many frames it gets, and
 * presence notices are held up to LAZY_MS to share a write. A frame's encoding is shared by
 * all its recipients (see codec.ts).
 */
export class Outbox {
  /** Null while empty, so an idle connection holds no array. */
  private chunks: Uint8Array[] | null = null;
  private bytes = 0;
  private scheduled: Schedule = 'none';

  constructor(
    readonly wire: Wire,
    /**
     * False for message-framed wires (WebSocket): each frame is written alone, as its own
     * message, though still once per turn.
     */
    private readonly coalesce = true,
  ) {}

  /** Output queued here this turn, not yet handed to the socket. */
  get pendingBytes(): number {
    return this.bytes;
  }

  /** Queues a frame; `lazy` ones may wait up to LAZY_MS, unless an urgent one follows. */
  push(chunk: Uint8Array, lazy = false): void {
    if (lazy) {
      if (this.scheduled === 'none') {
        this.scheduled = 'lazy';
        scheduleLazy(this);
      }
    } else if (this.scheduled !== 'soon') {
      this.scheduled = 'soon';
      scheduleThisTurn(this);
    }
    (this.chunks ??= []).push(chunk);
    this.bytes += chunk.length;
  }

  /** Hands everything queued to the socket now (before closing, and when scheduled). */
  flush(): void {
    const chunks = this.chunks;
    this.scheduled = 'none';
    if (chunks === null) return;
    const bytes = this.bytes;
    this.chunks = null;
    this.bytes = 0;
    if (this.wire.destroyed || !this.wire.writable) return;
    if (chunks.length === 1) {
      this.wire.write(chunks[0]!);
    } else if (this.coalesce && bytes <= COPY_LIMIT_BYTES) {
      this.wire.write(Buffer.concat(chunks, bytes));
    } else {
      this.wire.cork?.();
      for (const chunk of chunks) this.wire.write(chunk);
      this.wire.uncork?.();
    }
  }
}

/**
 * Sockets written per slice of a flush. A fan-out to a thousand members is a thousand
 * system calls, about 10 ms on loopback; written in slices, requests that arrive meanwhile
 * are read and committed between slices, and their output joins the sockets still waiting
 * rather than queueing behind the whole fan-out.
 */
export const FLUSH_SLICE = 128;

// Shared schedules rather than a callback per socket: urgent output is written after this
// turn's I/O (setImmediate), in slices, first queued first written; lazy output by one timer.
let thisTurn: Outbox[] = [];
let position = 0;
let turnScheduled = false;
let lazy: Outbox[] = [];
let lazyTimer: NodeJS.Timeout | undefined;

function scheduleThisTurn(outbox: Outbox): void {
  thisTurn.push(outbox);
  if (turnScheduled) return;
  turnScheduled = true;
  setImmediate(flushThisTurn);
}

function scheduleLazy(outbox: Outbox): void {
  lazy.push(outbox);
  lazyTimer ??= setTimeout(flushLazy, LAZY_MS);
}

function flushThisTurn(): void {
  const queue = thisTurn;
  const end = Math.min(queue.length, position + FLUSH_SLICE);
  while (position < end) queue[position++]!.flush();
  if (position < queue.length) {
    // Outboxes queued while this one drains go on its end; forget the written head.
    if (position >= 4096) {
      thisTurn = queue.slice(position);
      position = 0;
    }
    setImmediate(flushThisTurn);
    return;
  }
  thisTurn = [];
  position = 0;
  turnScheduled = false;
}

function flushLazy(): void {
  lazyTimer = undefined;
  const outboxes = lazy;
  lazy = [];
  for (const outbox of outboxes) outbox.flush();
}
