import type {
  CommitListener,
  MessageStore,
  NewMessage,
  Role,
  StoredMessage,
} from '../store/store.js';
import { NO_BLOCKS, type BlockList } from './blocking/block-registry.js';
import type { ClosingCode } from '../protocol/closing.js';
import type { SessionFrame } from '../protocol/frames.js';
import type { ChatEvent } from './events.js';
import { CONNECTED_RING_CAPACITY, EventRing } from './resume/event-ring.js';
import type { ResumeEntry } from './resume/resume-registry.js';
import { TokenSource } from './resume/token-source.js';
import { LOBBY } from './rooms/lobby.js';

/**
 * How long after a replay a live copy of a replayed message may still arrive: a message
 * visible to the replay's read is fanned out once its sender's store call resolves, which
 * takes at most a store call's time (statement timeouts are far shorter).
 */
const REPLAY_OVERLAP_MS = 60_000;

/** Shared by every session that is in no room but the lobby. */
const NO_ROOMS: ReadonlySet<string> = new Set();

export type { Reply, ServerFrame, SessionFrame } from '../protocol/frames.js';
export { errorReply } from '../protocol/frames.js';
export { Link } from './link.js';
import type { Link } from './link.js';

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
const guestKeys = new TokenSource();

/**
 * A key no other session has had or will have: `g-` and 144 random bits (24 base64url
 * characters), as one flat string. V8 keeps a joined string as a tree of its parts: the
 * `randomUUID` text it replaces was 16 pieces joined one by one, about 500 bytes per guest
 * for as long as the session lives; copied through a buffer, it is 48.
 */
export function newGuestKey(): string {
  return Buffer.from(`g-${guestKeys.take(18)}`, 'latin1').toString('latin1');
}

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
  /**
   * Its resume token's state, owned by the resume registry; null before a token is issued
   * and once the session ended. On the session rather than in a map keyed by it: a map's
   * slot costs about 46 bytes per session at ten thousand.
   */
  resume: ResumeEntry | null = null;
  /** The address group it counts against (see `SessionsByAddress`); null when none. */
  addressGroup: string | null = null;
  /** Set with `/away TEXT`: shown in `/who`, `/whois` and to IRC clients; null when here. */
  awayMessage: string | null = null;
  /** Live events held back while a replay is read (see `holdEvents`); null when none is. */
  private held: ChatEvent[] | null = null;
  private holds = 0;
  /** Ids of messages a replay carried whose live copy may still come, until `until`. */
  private replayed: { mids: Set<number>; until: number } | null = null;
  /** See `sendOrder`; null until the session first sends. */
  private order: SenderOrder | null = null;
  /** See `guestKey`; null until a guest's first needs it (accounts never do). */
  private guestKeyValue: string | null;
  /**
   * Told when the session enters or leaves a room: its resume record, which another node
   * would take it over from, lists its rooms (see `ResumeRegistry`). An object told which
   * session, not a closure per session.
   */
  roomsListener: RoomsListener | null = null;

  constructor(init: {
    id: string;
    nick: string;
    nickKey: string;
    account: AccountRef | null;
    now: number;
    link: Link;
    /** The guest key, when it was made before the session (a login claims with it). */
    guestKey?: string;
  }) {
    this.id = init.id;
    this.nick = init.nick;
    this.nickKey = init.nickKey;
    this.account = init.account;
    this.connectedAt = init.now;
    this.lastInputAt = init.now;
    this.link = init.link;
    this.guestKeyValue = init.guestKey ?? null;
  }

  /**
   * What this session owns as a guest (its files) is stored under this key: random, this
   * session's alone, never sent to a client. Not the session id, so stored rows name no
   * session (issue 13), and no later session, on any node, can match them.
   */
  get guestKey(): string {
    return (this.guestKeyValue ??= newGuestKey());
  }

  /** The sender's messages release their effects in the order they were sent. */
  get sendOrder(): SenderOrder {
    return (this.order ??= new SenderOrder());
  }

  /**
   * Resolves once every message this session has on its way (stored or being stored, not
   * yet fanned out) has been fanned out or has failed; undefined when none is.
   */
  sendsSettled(): Promise<void> | undefined {
    return this.order?.idle();
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
    if (roomKey === LOBBY) return;
    (this.otherRooms ??= new Set()).add(roomKey);
    this.roomsListener?.roomsChanged(this);
  }

  left(roomKey: string): void {
    if (!this.otherRooms?.delete(roomKey)) return;
    if (this.otherRooms.size === 0) this.otherRooms = null;
    this.roomsListener?.roomsChanged(this);
  }

  deliver(event: ChatEvent): void {
    if (this.replayed !== null && this.isReplayed(event)) return;
    if (this.held) {
      this.held.push(event);
      return;
    }
    (this.recent ??= new EventRing(CONNECTED_RING_CAPACITY)).push(event);
    this.link?.outlet.send(event);
  }

  /**
   * Subscribe first, then read: a replay (history on join, the login backlog) calls this
   * once the session receives the live traffic it will replay, and only then reads the
   * store. Live events are held from now on; `release` delivers the replay, then the held
   * events. A live copy of a replayed message (the same id) is dropped, held or yet to
   * come: a message may be visible to the read before its sender's fan-out arrives. So
   * whatever the store's latency, nothing committed meanwhile is missed and nothing comes
   * twice. Holds may nest; the outermost release lets events flow again.
   *
   * `replayedIds`: events of the replay that another node sent before (a session taken
   * over from another node replays that node's log): a held copy with one of these event
   * ids is the same event, and is dropped.
   */
  holdEvents(): (
    replay: readonly ChatEvent[],
    replayedMids: Iterable<number>,
    replayedIds?: ReadonlySet<number>,
  ) => void {
    this.holds++;
    this.held ??= [];
    let released = false;
    return (replay, replayedMids, replayedIds) => {
      if (released) return;
      released = true;
      this.holds--;
      const mids = this.replayed?.mids ?? new Set<number>();
      for (const mid of replayedMids) mids.add(mid);
      this.replayed = mids.size > 0 ? { mids, until: Date.now() + REPLAY_OVERLAP_MS } : null;
      // `replayed` is null when nothing was replayed, and becomes null once its last id
      // has matched: asked then, `isReplayed` would throw, and the held events (all later
      // traffic) would stay held for good.
      const waiting = (this.held ?? []).filter(
        (event) =>
          !replayedIds?.has(event.id) && !(this.replayed !== null && this.isReplayed(event)),
      );
      if (this.holds > 0) {
        this.held = [...replay, ...waiting];
        return;
      }
      this.held = null;
      for (const event of replay) this.deliver(event);
      for (const event of waiting) this.deliver(event);
    };
  }

  /** True (once) for the live copy of a message a replay carried already. */
  private isReplayed(event: ChatEvent): boolean {
    if ((event.ev !== 'message' && event.ev !== 'private') || event.replay !== undefined)
      return false;
    const replayed = this.replayed!;
    if (Date.now() > replayed.until) {
      this.replayed = null;
      return false;
    }
    if (!replayed.mids.delete(event.mid)) return false;
    if (replayed.mids.size === 0) this.replayed = null;
    return true;
  }
}

/** Told when a session enters or leaves a room (see `Session.roomsListener`). */
export interface RoomsListener {
  roomsChanged(session: Session): void;
}

/**
 * Per-sender order, kept by the core rather than by the store: the store promises nothing
 * about the order in which concurrent calls complete (src/store/store.ts). A sender's
 * messages are appended concurrently (so many share one commit), but what follows each
 * commit (fan-out, monitor copies, the acknowledgement) runs in the order they were sent.
 */
export class SenderOrder {
  /** Steps not yet run, in the order they were taken; null while there are none. */
  private steps: OrderedStep[] | null = null;
  /** Callers of `idle`, each with the step it waits for; null while there are none. */
  private idleWaiters: { readonly step: OrderedStep; readonly resolve: () => void }[] | null = null;

  /**
   * Runs `then` with `committing`'s value once it has settled and every earlier step
   * taken through this order has run; the returned step tells its outcome (`onSettled`).
   * A failed commit fails only its own step.
   */
  after<T, R>(committing: Promise<T>, then: (value: T) => R): OrderedStep<R> {
    const step = new OrderedStep<R>(then as (value: unknown) => R, null);
    (this.steps ??= []).push(step);
    committing.then(
      (value) => this.settle(step, COMMITTED, value),
      (error: unknown) => this.settle(step, FAILED, error),
    );
    return step;
  }

  /**
   * `after` for a message this sender appends: the step itself is told the commit
   * (`MessageStore.appendThen`), so a message waits for it without a promise, its
   * resolving functions or the two reactions `after` adds.
   */
  afterAppend<R>(
    messages: MessageStore,
    message: NewMessage,
    then: (stored: StoredMessage) => R,
  ): OrderedStep<R> {
    const step = new OrderedStep<R>(then as (value: unknown) => R, this);
    (this.steps ??= []).push(step);
    messages.appendThen(message, step);
    return step;
  }

  /**
   * Resolves once every step taken so far has run; undefined when none is waiting. Steps
   * run in the order taken, so that is when the last one taken has run.
   */
  idle(): Promise<void> | undefined {
    const steps = this.steps;
    if (steps === null) return undefined;
    const step = steps[steps.length - 1]!;
    return new Promise((resolve) => (this.idleWaiters ??= []).push({ step, resolve }));
  }

  /** @internal Records a step's commit, then runs the settled steps at the head, in order. */
  settle(step: OrderedStep, state: StepState, outcome: unknown): void {
    step.settled(state, outcome);
    const steps = this.steps!;
    if (steps[0] !== step) return;
    // A step still waiting for its commit stops the rest.
    while (steps.length > 0 && steps[0]!.state !== WAITING) steps.shift()!.run();
    if (steps.length === 0) this.steps = null;
    if (this.idleWaiters !== null) this.wakeIdle();
  }

  private wakeIdle(): void {
    const waiting = this.idleWaiters!.filter((waiter) => !waiter.step.hasRun);
    for (const waiter of this.idleWaiters!) if (waiter.step.hasRun) waiter.resolve();
    this.idleWaiters = waiting.length > 0 ? waiting : null;
  }
}

const WAITING = 0;
const COMMITTED = 1;
const FAILED = 2;
type StepState = typeof WAITING | typeof COMMITTED | typeof FAILED;

/**
 * One message's place in its sender's order (`SenderOrder.after`): what runs after its
 * commit, then who is told the outcome. One object per message, where a chain of promises
 * (commit, order, reply) was three promises and their closures, all alive until the commit.
 */
export class OrderedStep<R = unknown> implements CommitListener<unknown> {
  state: StepState = WAITING;
  /** The commit's value or error until the step runs; then `then`'s result or error. */
  private outcome: unknown = undefined;
  private thenFailed = false;
  private ran = false;
  private listener: StepListener | null = null;

  /** `order`: the sender's order, when the store tells this step its commit directly. */
  constructor(
    private then: ((value: unknown) => R) | null,
    private order: SenderOrder | null,
  ) {}

  /** True once the step has run (`then` called, or its commit failed). */
  get hasRun(): boolean {
    return this.ran;
  }

  /** @internal The commit settled (`SenderOrder`). */
  settled(state: StepState, outcome: unknown): void {
    this.state = state;
    this.outcome = outcome;
  }

  /** @internal The store committed this step's message (`SenderOrder.afterAppend`). */
  committed(stored: unknown): void {
    const order = this.order!;
    this.order = null;
    order.settle(this, COMMITTED, stored);
  }

  /** @internal The store did not store it. */
  failed(error: Error): void {
    const order = this.order!;
    this.order = null;
    order.settle(this, FAILED, error);
  }

  /** @internal Its turn has come: runs `then` (unless the commit failed) and tells. */
  run(): void {
    if (this.state === FAILED) this.thenFailed = true;
    else {
      try {
        this.outcome = this.then!(this.outcome);
      } catch (error) {
        this.thenFailed = true;
        this.outcome = error;
      }
    }
    this.then = null;
    this.ran = true;
    const listener = this.listener;
    this.listener = null;
    listener?.stepRun(this.thenFailed, this.outcome);
  }

  /**
   * `listener.stepRun` gets `then`'s result (failed false) or the error of the commit or of
   * `then` (failed true), once, when the step has run: never before the caller's turn
   * ends. A listener object (the request waiting for its reply), not a closure per step.
   */
  onSettled(listener: StepListener): void {
    if (this.ran) queueMicrotask(() => listener.stepRun(this.thenFailed, this.outcome));
    else this.listener = listener;
  }
}

/** Told the outcome of an `OrderedStep`. */
export interface StepListener {
  stepRun(failed: boolean, outcome: unknown): void;
}
