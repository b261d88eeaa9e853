import type { Outlet, Session } from './session.js';

/** Shared by every link whose replies have all gone out. */
const SETTLED: Promise<void> = Promise.resolve();

/**
 * A queued request's work. It calls `release` once the link's next request may start (at
 * the latest when it ends), then `finish` when it is done; work that throws releases the
 * link and fails.
 */
type Job = (release: () => void, finish: () => void) => void;

/** A job waiting for its turn, and who is told when it finishes or fails. */
interface QueuedJob {
  readonly job: Job;
  readonly finish: () => void;
  readonly fail: (error: unknown) => void;
}

/** A place in a link's reply order; `send` is set once its reply is ready. */
export interface ReplyTurn {
  send: (() => void) | null;
}

/**
 * One connection as the core sees it: before login it has no session.
 *
 * Requests start one at a time, in order, and replies leave in request order; a pipelined
 * request releases the link early (once its message is queued for commit) so the next one
 * starts while it waits. This is kept with two plain queues rather than promise chains:
 * a pipelined message that waits for its commit keeps one reply turn alive, not a chain
 * of promises and closures per request, which the collector then has to copy.
 */
export class Link {
  session: Session | null = null;
  /** Pipelined requests started and not yet answered. */
  pipelinedInFlight = 0;
  private closed = false;
  private pendingAfterReply: Array<() => void> | null = null;
  /** True while a started request has not released the link. */
  private busy = false;
  /** Requests waiting for their turn to start, oldest first; null while there are none. */
  private waiting: QueuedJob[] | null = null;
  /** Started requests whose replies have not gone out, in request order; null if none. */
  private turns: ReplyTurn[] | null = null;
  /** Told once every reply queued so far has gone out; null while nobody waits. */
  private repliesWaiters: Array<() => void> | null = null;

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
   * its commit. Replies still leave in request order: see `inOrder`. The returned promise
   * settles when the work does.
   */
  enqueue(work: (release: () => void) => Promise<void>): Promise<void> {
    return new Promise<void>((resolve, reject) =>
      this.schedule(
        (release) => {
          // Whatever happens, the link goes on to its next request.
          work(release).then(
            () => {
              release();
              resolve();
            },
            (error: unknown) => {
              release();
              reject(error ?? new Error('request failed'));
            },
          );
        },
        resolve,
        reject,
      ),
    );
  }

  /**
   * `enqueue` without a promise per step: `job` runs in its turn, calls `release`, then
   * `finish` (the very function settling the returned promise: nothing wraps it).
   */
  enqueueJob(job: Job): Promise<void> {
    return new Promise<void>((resolve, reject) => this.schedule(job, resolve, reject));
  }

  private schedule(job: Job, finish: () => void, fail: (error: unknown) => void): void {
    const queued: QueuedJob = { job, finish, fail };
    if (this.busy) (this.waiting ??= []).push(queued);
    else {
      this.busy = true;
      // In a later microtask, as a request always has: never inside the caller's turn.
      queueMicrotask(() => this.runFrom(queued));
    }
  }

  /**
   * Runs `first`, then, as long as each releases the link before returning, the ones
   * waiting behind it: a burst of pipelined requests starts in one loop. Work that releases
   * later starts the rest from a microtask.
   */
  private runFrom(first: QueuedJob): void {
    for (let queued: QueuedJob | undefined = first; queued !== undefined;) {
      let synchronous = true;
      let releasedNow = false;
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        if (synchronous) releasedNow = true;
        else queueMicrotask(() => this.startNext());
      };
      try {
        queued.job(release, queued.finish);
      } catch (error) {
        release();
        queued.fail(error ?? new Error('request failed'));
      }
      synchronous = false;
      if (!releasedNow) return;
      queued = this.takeNext();
    }
  }

  private startNext(): void {
    const next = this.takeNext();
    if (next) this.runFrom(next);
  }

  /** The next waiting job, or undefined with the link idle. */
  private takeNext(): QueuedJob | undefined {
    const next = this.waiting?.shift();
    if (next === undefined) {
      this.busy = false;
      this.waiting = null;
    } else if (this.waiting!.length === 0) this.waiting = null;
    return next;
  }

  /**
   * Takes the next place in the reply order, at once: the reply goes out through
   * `replyReady` once every earlier turn's has.
   */
  takeReplyTurn(): ReplyTurn {
    const turn: ReplyTurn = { send: null };
    this.joinReplyOrder(turn);
    return turn;
  }

  /** `takeReplyTurn` with a turn of the caller's (an object it keeps anyway). */
  joinReplyOrder(turn: ReplyTurn): void {
    (this.turns ??= []).push(turn);
  }

  /**
   * `send` runs once every earlier turn has sent (now, if they have), called as a method of
   * `turn` (so a turn may pass a method of its own, bound to nothing).
   */
  replyReady(turn: ReplyTurn, send: () => void): void {
    turn.send = send;
    const turns = this.turns!;
    if (turns[0] !== turn) return;
    while (turns.length > 0 && turns[0]!.send !== null) turns.shift()!.send!();
    if (turns.length > 0) return;
    this.turns = null;
    const waiters = this.repliesWaiters;
    this.repliesWaiters = null;
    if (waiters) for (const waiter of waiters) waiter();
  }

  /**
   * Runs `deliver` with `reply` once every earlier request's reply has gone out, so a
   * pipelined request that finishes early never overtakes its predecessors.
   */
  inOrder<T>(reply: Promise<T>, deliver: (value: T) => void): Promise<void> {
    const turn = this.takeReplyTurn();
    return new Promise<void>((resolve, reject) => {
      const settle = (send: () => void) =>
        this.replyReady(turn, () => {
          try {
            send();
            resolve();
          } catch (error) {
            reject(error);
          }
        });
      reply.then(
        (value) => settle(() => deliver(value)),
        (error: unknown) =>
          settle(() => {
            throw error;
          }),
      );
    });
  }

  /** Resolves when every reply queued so far has been sent. */
  repliesSent(): Promise<void> {
    if (this.turns === null) return SETTLED;
    return new Promise<void>((resolve) => (this.repliesWaiters ??= []).push(resolve));
  }
}
