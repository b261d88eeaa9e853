import type { Clock } from '../core/clock.js';
import { addressGroup } from '../core/limits/address-group.js';
import { RateLimiter } from '../core/limits/rate-limiter.js';
import type { Parameters } from '../config/parameters.js';

// The grouping is the core's too (sessions per address): one definition, there.
export { addressGroup };

export type AddressVerdict =
  | { readonly ok: true; readonly group: string }
  | {
      readonly ok: false;
      readonly code: 'too_many_connections' | 'connecting_too_fast';
      readonly message: string;
    };

interface GroupState {
  open: number;
  readonly attempts: RateLimiter;
}

/**
 * Per-address limits on connections: `maxConnectionsPerIp` open at once and
 * `connectionsPerMinutePerIp` new ones a minute. Shared by every transport. Entries for
 * addresses with nothing open and a full allowance are forgotten by `prune`, so memory
 * follows recent activity, not every address ever seen.
 */
export class AddressLimits {
  private readonly groups = new Map<string, GroupState>();

  constructor(
    private readonly clock: Clock,
    private readonly params: () => Parameters,
  ) {}

  /** Called for each new connection; when `ok`, `release(group)` must follow its close. */
  admit(address: string): AddressVerdict {
    const group = addressGroup(address);
    const params = this.params();
    let state = this.groups.get(group);
    if (!state) {
      state = { open: 0, attempts: new RateLimiter() };
      this.groups.set(group, state);
    }
    const perMinute = params.connectionsPerMinutePerIp;
    const rate = state.attempts.take(this.clock.now(), {
      burst: perMinute,
      perSecond: perMinute / 60,
    });
    if (rate.kind !== 'now')
      return {
        ok: false,
        code: 'connecting_too_fast',
        message: `Too many new connections from your address (at most ${perMinute} a minute); try again in ${Math.ceil(rate.kind === 'refused' ? rate.retryAfterMs / 1000 : 1)} s`,
      };
    if (state.open >= params.maxConnectionsPerIp)
      return {
        ok: false,
        code: 'too_many_connections',
        message: `Too many connections from your address (at most ${params.maxConnectionsPerIp} at once)`,
      };
    state.open++;
    return { ok: true, group };
  }

  release(group: string): void {
    const state = this.groups.get(group);
    if (state && state.open > 0) state.open--;
  }

  openFrom(address: string): number {
    return this.groups.get(addressGroup(address))?.open ?? 0;
  }

  prune(): void {
    const now = this.clock.now();
    for (const [group, state] of this.groups)
      if (state.open === 0 && state.attempts.isIdle(now)) this.groups.delete(group);
  }
}
