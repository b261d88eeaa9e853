import type { ClosingCode } from '../../protocol/closing.js';
import type { Clock } from '../clock.js';
import type { Parameters } from '../../config/parameters.js';
import type { Link, Session } from '../session.js';
import { RateLimiter } from './rate-limiter.js';

/** Requests a connection may send before it has logged in; one more closes it. */
export const MAX_REQUESTS_BEFORE_LOGIN = 32;

/**
 * What to do with a request as it arrives. Decided on arrival (not when its turn comes in
 * the link's queue) so that a client pipelining a flood is measured by when it sent.
 */
export type Admission =
  | { readonly kind: 'run' }
  | { readonly kind: 'delay'; readonly until: number }
  | { readonly kind: 'refuse'; readonly retryAfterMs: number; readonly disconnect: boolean }
  | { readonly kind: 'close'; readonly code: ClosingCode; readonly message: string };

interface FloodState {
  readonly limiter: RateLimiter;
  /** Refusals since the last request that was on time. */
  refusals: number;
  exempt: boolean;
}

/**
 * The one place requests are metered: a cap before login, and flood control per session
 * (`flood.burst` at once, `flood.perSecond` sustained; up to another burst is delayed,
 * beyond that refused with `rate_limited`, and a session refused `flood.burst` times in a
 * row is disconnected). State hangs off the session, so a resumed session keeps its bucket.
 */
export class RequestGuard {
  private readonly beforeLogin = new WeakMap<Link, number>();
  private readonly flood = new WeakMap<Session, FloodState>();

  constructor(
    private readonly clock: Clock,
    private readonly params: () => Parameters,
  ) {}

  /** The link logged in: its count before login is done with. */
  loggedIn(link: Link): void {
    this.beforeLogin.delete(link);
  }

  admit(link: Link): Admission {
    const session = link.session;
    if (!session) {
      const count = (this.beforeLogin.get(link) ?? 0) + 1;
      this.beforeLogin.set(link, count);
      if (count > MAX_REQUESTS_BEFORE_LOGIN)
        return {
          kind: 'close',
          code: 'too_many_requests',
          message: `More than ${MAX_REQUESTS_BEFORE_LOGIN} requests before logging in`,
        };
      return { kind: 'run' };
    }
    const state = this.stateOf(session);
    if (state.exempt) return { kind: 'run' };
    const params = this.params();
    const limits = { burst: params['flood.burst'], perSecond: params['flood.perSecond'] };
    const now = this.clock.now();
    const decision = state.limiter.take(now, limits, limits.burst);
    switch (decision.kind) {
      case 'now':
        state.refusals = 0;
        return { kind: 'run' };
      case 'later':
        return { kind: 'delay', until: now + decision.delayMs };
      case 'refused':
        state.refusals++;
        return {
          kind: 'refuse',
          retryAfterMs: decision.retryAfterMs,
          disconnect: state.refusals >= limits.burst,
        };
    }
  }

  /** Resolves at `until` (clock time): how a delayed request waits its turn. */
  wait(until: number): Promise<void> {
    const ms = until - this.clock.now();
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => this.clock.setTimeout(resolve, ms));
  }

  isExempt(session: Session): boolean {
    return this.flood.get(session)?.exempt ?? false;
  }

  setExempt(session: Session, exempt: boolean): void {
    this.stateOf(session).exempt = exempt;
  }

  private stateOf(session: Session): FloodState {
    let state = this.flood.get(session);
    if (!state) {
      state = { limiter: new RateLimiter(), refusals: 0, exempt: false };
      this.flood.set(session, state);
    }
    return state;
  }
}
