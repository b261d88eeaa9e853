import type { Role } from '../store/store.js';
import { NO_BLOCKS, type BlockList } from './blocking/block-registry.js';
import type { ClosingCode } from '../protocol/closing.js';
import type { SessionFrame } from '../protocol/frames.js';
import type { ChatEvent } from './events.js';
import { CONNECTED_RING_CAPACITY, EventRing } from './resume/event-ring.js';
import { LOBBY } from './rooms/lobby.js';

/** Shared by every session that is in no room but the lobby. */
const NO_ROOMS: ReadonlySet<string> = new Set();

export type { Reply, ServerFrame, SessionFrame } from '../protocol/frames.js';
export { errorReply } from '../protocol/frames.js';

/**
 * What the core needs from a transport connection. The transport owns the bytes: it
 * encodes frames, queues them, and closes the socket after flushing.
 */
export interface Outlet {
  readonly transport: string;
  readonly address: string;
  readonly port: number;
  send(frame: SessionFrame): void;
  /** Sends a `closing` event with the reason, flushes, then closes. */
  close(code: ClosingCode, message: string): void;
  /**
   * Bulk data (file chunks), for transports that can carry files; both or neither.
   * `sendBulk` queues a frame that does not count against `sendqBytes`, so a download
   * never gets a client dropped. Its caller bounds the queue: it sends a bulk frame only
   * after `drained()` resolved, which happens once the connection's outgoing buffer has
   * been handed to the network (at once if it is empty, or when the connection closes).
   */
  sendBulk?(frame: SessionFrame): void;
  drained?(): Promise<void>;
}

export interface AccountRef {
  readonly id: number;
  readonly name: string;
  readonly role: Role;
}

/**
 * A user's presence on the server. It outlives a connection (a dropped connection leaves
 * the session waiting to be resumed), so it holds a link, not a socket.
 */
export class Session {
  readonly id: string;
  nick: string;
  nickKey: string;
  account: AccountRef | null;
  readonly connectedAt: number;
  lastInputAt: number;
  link: Link | null;
  /**
   * Keys of the rooms this session is in besides the lobby, where every session is; null
   * while there are none, as for most sessions: a set each is memory at ten thousand.
   */
  private otherRooms: Set<string> | null = null;
  /**
   * Nickname keys this session does not want to hear from; delivery skips them. An
   * account's list is shared with the block registry, which persists it.
   */
  blocks: BlockList = NO_BLOCKS;
  /** The last events sent, for a resume; allocated on the first event. */
  recent: EventRing | null = null;
  /** Set with `/away TEXT`: shown in `/who`, `/whois` and to IRC clients; null when here. */
  awayMessage: string | null = null;

  constructor(init: {
    id: string;
    nick: string;
    nickKey: string;
    account: AccountRef | null;
    now: number;
    link: Link;
  }) {
    this.id = init.id;
    this.nick = init.nick;
    this.nickKey = init.nickKey;
    this.account = init.account;
    this.connectedAt = init.now;
    this.lastInputAt = init.now;
    this.link = init.link;
  }

  get isAdmin(): boolean {
    return this.account?.role === 'admin';
  }

  /** True when the session is in the room with this key (always so for the lobby). */
  isIn(roomKey: string): boolean {
    return roomKey === LOBBY || (this.otherRooms?.has(roomKey) ?? false);
  }

  /** Keys of the rooms the session is in besides the lobby, in the order it entered them. */
  get joinedRooms(): ReadonlySet<string> {
    return this.otherRooms ?? NO_ROOMS;
  }

  /** Room membership as the room registry records it; the lobby is not recorded. */
  entered(roomKey: string): void {
    if (roomKey !== LOBBY) (this.otherRooms ??= new Set()).add(roomKey);
  }

  left(roomKey: string): void {
    this.otherRooms?.delete(roomKey);
    if (this.otherRooms?.size === 0) this.otherRooms = null;
  }

  deliver(event: ChatEvent): void {
    (this.recent ??= new EventRing(CONNECTED_RING_CAPACITY)).push(event);
    this.link?.outlet.send(event);
  }
}

/** Shared by every idle link, rather than two fresh promises each. */
const SETTLED: Promise<void> = Promise.resolve();

/** One connection as the core sees it: before login it has no session. */
export class Link {
  session: Session | null = null;
  /** Requests start one at a time per link, in order; replies keep request order. */
  private tail: Promise<void> = SETTLED;
  private replies: Promise<void> = SETTLED;
  /** Pipelined requests started and not yet answered. */
  pipelinedInFlight = 0;
  private closed = false;
  private pendingAfterReply: Array<() => void> | null = null;

  constructor(
    readonly id: string,
    readonly outlet: Outlet,
    readonly openedAt: number,
  ) {}

  get isClosed(): boolean {
    return this.closed;
  }

  markClosed(): void {
    this.closed = true;
  }

  /** Runs `action` once the reply to the request being handled has been sent. */
  afterReply(action: () => void): void {
    (this.pendingAfterReply ??= []).push(action);
  }

  takeAfterReply(): Array<() => void> {
    const actions = this.pendingAfterReply ?? [];
    this.pendingAfterReply = null;
    return actions;
  }

  /**
   * Queues work behind the link's earlier requests. Work normally runs alone; pipelined
   * work calls `release` once it has taken its place in the sender's order (its message
   * is queued for commit), which lets the next request start while this one waits for
   * its commit. Replies still leave in request order: see `inOrder`.
   */
  enqueue(work: (release: () => void) => Promise<void>): Promise<void> {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const run = this.tail.then(() => work(release));
    // Nothing queued behind it: the link goes back to the shared settled promise, so an
    // idle connection does not keep its last request's promises.
    const idle = () => {
      if (this.tail === next) this.tail = SETTLED;
    };
    const next = Promise.race([released, run.then(idle, idle)]);
    this.tail = next;
    return run;
  }

  /**
   * Runs `deliver` with `reply` once every earlier request's reply has gone out, so a
   * pipelined request that finishes early never overtakes its predecessors.
   */
  inOrder<T>(reply: Promise<T>, deliver: (value: T) => void): Promise<void> {
    const sent = this.replies.then(() => reply).then(deliver);
    const idle = () => {
      if (this.replies === next) this.replies = SETTLED;
    };
    const next = sent.then(idle, idle);
    this.replies = next;
    return sent;
  }

  /** Resolves when every reply queued so far has been sent. */
  repliesSent(): Promise<void> {
    return this.replies;
  }
}
