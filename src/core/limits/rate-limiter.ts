/**
 * A token bucket kept as one number (the generic cell rate algorithm): `burst` actions may
 * happen at once, then `perSecond` sustained. Holding a "theoretical arrival time" instead
 * of a token count means no timer ever refills anything, so an idle bucket costs nothing.
 */
export type RateDecision =
  /** Within the burst: go ahead now. */
  | { readonly kind: 'now' }
  /** Over the burst but within the allowed backlog: go ahead after `delayMs`. */
  | { readonly kind: 'later'; readonly delayMs: number }
  /** Over the backlog too: refuse; the bucket is left as it was. */
  | { readonly kind: 'refused'; readonly retryAfterMs: number };

export interface RateLimits {
  readonly burst: number;
  readonly perSecond: number;
}

export class RateLimiter {
  /** When the bucket would be full again if nothing more happened (ms, clock time). */
  private theoreticalArrival = 0;

  /**
   * Takes one token at `now`. `maxBacklog` extra actions beyond the burst are accepted with
   * a delay (they queue behind the refill); past that the action is refused.
   */
  take(now: number, limits: RateLimits, maxBacklog = 0): RateDecision {
    const interval = 1000 / limits.perSecond;
    const tolerance = (limits.burst - 1) * interval;
    const arrival = Math.max(this.theoreticalArrival, now);
    const earliest = arrival - tolerance;
    if (earliest <= now) {
      this.theoreticalArrival = arrival + interval;
      return { kind: 'now' };
    }
    if (earliest - now <= maxBacklog * interval) {
      this.theoreticalArrival = arrival + interval;
      return { kind: 'later', delayMs: Math.ceil(earliest - now) };
    }
    return { kind: 'refused', retryAfterMs: Math.ceil(earliest - maxBacklog * interval - now) };
  }

  /** True when the bucket is full at `now`: nothing about it needs remembering. */
  isIdle(now: number): boolean {
    return this.theoreticalArrival <= now;
  }
}
