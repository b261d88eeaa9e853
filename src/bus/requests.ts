import type { Clock, TimerHandle } from '../core/clock.js';
import type { Answer, Bus, Query, RequestEnvelope, ResponseEnvelope } from './bus.js';

/** How long a node waits for another node's answer before going on without it. */
export const REQUEST_TIMEOUT_MS = 2_000;
/** Most timed-out requests remembered for their late answers. */
const MAX_EXPIRED = 1_000;

interface Pending {
  readonly answers: Answer[];
  waiting: Set<string>;
  readonly timer: TimerHandle;
  readonly done: (answers: Answer[]) => void;
}

/**
 * Requests across nodes: `askAll` asks every live node (this one included) and gathers
 * their answers; `ask` asks one. A node that does not answer in time is left out (a node
 * that died mid-request must not hang `/who`); `ask` then rejects.
 */
export class BusRequests {
  private readonly pending = new Map<string, Pending>();
  /** Requests that timed out, by id, until their late answers come (bounded: see `expire`). */
  private readonly expired = new Map<string, Query>();
  private nextId = 1;

  constructor(
    private readonly bus: Bus,
    private readonly clock: Clock,
    private readonly answer: (query: Query, from: string) => Answer | Promise<Answer>,
    private readonly timeoutMs: number = REQUEST_TIMEOUT_MS,
    /**
     * An answer to a request no longer waited for (it timed out): what the answering node
     * did for it (a session handed over) may need undoing, since nobody will use it.
     */
    private readonly late: (query: Query, answer: Answer, from: string) => void = () => {},
  ) {}

  askAll(nodes: readonly string[], query: Query): Promise<Answer[]> {
    return this.send(nodes, query, null, this.timeoutMs);
  }

  /** Asks one node; rejects if it does not answer within `timeoutMs`. */
  async ask(node: string, query: Query, timeoutMs: number = this.timeoutMs): Promise<Answer> {
    const [answer] = await this.send([node], query, node, timeoutMs);
    if (!answer) throw new Error(`Node ${node} did not answer ${query.type}`);
    return answer;
  }

  /** A request or a response arrived through the bus. */
  handle(envelope: RequestEnvelope | ResponseEnvelope): void {
    if (envelope.type === 'response') {
      this.received(envelope);
      return;
    }
    const { origin, id } = envelope;
    void Promise.resolve()
      .then(() => this.answer(envelope.query, origin))
      .then(
        (answer) => answer,
        (): Answer => ({ type: 'done', ok: false }),
      )
      .then((answer) =>
        this.bus.sendTo(origin, { type: 'response', origin: this.bus.nodeId, id, answer }),
      );
  }

  /** Stops waiting: every request in flight resolves with what it has. */
  stop(): void {
    for (const [id, pending] of this.pending) {
      this.clock.clearTimeout(pending.timer);
      this.pending.delete(id);
      pending.done(pending.answers);
    }
  }

  private send(
    nodes: readonly string[],
    query: Query,
    only: string | null,
    timeoutMs: number,
  ): Promise<Answer[]> {
    const id = `${this.bus.nodeId}:${this.nextId++}`;
    return new Promise<Answer[]>((resolve) => {
      const pending: Pending = {
        answers: [],
        waiting: new Set(nodes),
        timer: this.clock.setTimeout(() => {
          this.pending.delete(id);
          this.expire(id, query);
          resolve(pending.answers);
        }, timeoutMs),
        done: resolve,
      };
      this.pending.set(id, pending);
      const request: RequestEnvelope = { type: 'request', origin: this.bus.nodeId, id, query };
      if (only !== null) this.bus.sendTo(only, request);
      else this.bus.publish(request);
    });
  }

  /**
   * Remembers a request that timed out, for its late answers. Only those that hand
   * something over matter (`late`), so only they are kept, and the oldest go past a bound:
   * a node that never answers leaves nothing behind for long.
   */
  private expire(id: string, query: Query): void {
    if (query.type !== 'resume-takeover') return;
    this.expired.set(id, query);
    if (this.expired.size > MAX_EXPIRED) {
      const oldest = this.expired.keys().next();
      if (!oldest.done) this.expired.delete(oldest.value);
    }
  }

  private received(response: ResponseEnvelope): void {
    const pending = this.pending.get(response.id);
    if (!pending) {
      const query = this.expired.get(response.id);
      if (query === undefined) return;
      this.expired.delete(response.id);
      this.late(query, response.answer, response.origin);
      return;
    }
    if (!pending.waiting.delete(response.origin)) return;
    pending.answers.push(response.answer);
    if (pending.waiting.size > 0) return;
    this.clock.clearTimeout(pending.timer);
    this.pending.delete(response.id);
    pending.done(pending.answers);
  }
}
