import type { Session } from '../session.js';

export interface Sighting {
  readonly nick: string;
  readonly key: string;
  readonly account: boolean;
  readonly lastSeen: number;
}

/**
 * Who was online recently and is gone now, for `/wholasthr` and `/whois`. Guests exist
 * only here; accounts also have `last_seen_at` in the store, which outlives a restart.
 * The window can change live, so old entries are dropped only when the map grows large.
 */
const PRUNE_ABOVE = 10_000;

export class RecentPresence {
  private readonly departed = new Map<string, Sighting>();

  left(session: Session, now: number): void {
    this.departed.delete(session.nickKey);
    this.departed.set(session.nickKey, {
      nick: session.nick,
      key: session.nickKey,
      account: session.account !== null,
      lastSeen: now,
    });
  }

  /** Departed people seen at or after `since`, newest first. */
  since(since: number): Sighting[] {
    const prune = this.departed.size > PRUNE_ABOVE;
    const seen: Sighting[] = [];
    for (const [key, sighting] of this.departed) {
      if (sighting.lastSeen >= since) seen.push(sighting);
      else if (prune) this.departed.delete(key);
    }
    return seen.reverse();
  }

  find(key: string): Sighting | undefined {
    return this.departed.get(key);
  }
}
