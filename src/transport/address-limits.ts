import net from 'node:net';
import type { Clock } from '../core/clock.js';
import { RateLimiter } from '../core/limits/rate-limiter.js';
import type { Parameters } from '../config/parameters.js';

/**
 * The address a per-address limit counts against. IPv4 (also when it arrives as an
 * IPv4-mapped IPv6 address) counts per address; IPv6 per /64, because one host commonly
 * holds a whole /64 and could otherwise sidestep any limit by changing its low bits.
 */
export function addressGroup(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!net.isIPv6(address)) return address;
  const withoutZone = address.split('%')[0]!;
  const [head = '', tail] = withoutZone.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const missing = 8 - headGroups.length - tailGroups.length;
  const groups = [...headGroups, ...Array<string>(Math.max(missing, 0)).fill('0'), ...tailGroups];
  return (
    groups
      .slice(0, 4)
      .map((group) => Number.parseInt(group, 16).toString(16))
      .join(':') + '::/64'
  );
}

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
