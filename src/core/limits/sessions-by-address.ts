import type { Session } from '../session.js';
import { addressGroup } from './address-group.js';

/**
 * Sessions per address (group: IPv4 address, IPv6 /64), online or away. An away session
 * (its connection dropped, waiting `resume.graceSeconds` to be resumed) holds a place on
 * the server but no connection, so the per-connection limit never saw it: from two
 * addresses, quick log-in-and-drop cycles filled a server with nobody connected. Counted
 * here, the core keeps each address within `maxConnectionsPerIp` sessions by letting its
 * oldest away guest go, and lets the oldest away guest anywhere give way when the server
 * is full. Away sets are kept in the order sessions went away (a Set keeps insertion
 * order), so "oldest" is the first entry. Each session's group is kept on the session
 * (`Session.addressGroup`) rather than in a map keyed by session: a slot per session.
 */
export class SessionsByAddress {
  private readonly counts = new Map<string, number>();
  private readonly awayByGroup = new Map<string, Set<Session>>();
  private readonly awayGuests = new Set<Session>();

  /** A session logged in, or came back, from `address`. */
  connected(session: Session, address: string): void {
    this.removed(session);
    const group = addressGroup(address);
    session.addressGroup = group;
    this.counts.set(group, (this.counts.get(group) ?? 0) + 1);
  }

  /** The session's connection dropped; it waits to be resumed. */
  wentAway(session: Session): void {
    const group = session.addressGroup;
    if (group === null) return;
    let away = this.awayByGroup.get(group);
    if (!away) this.awayByGroup.set(group, (away = new Set()));
    away.add(session);
    if (!session.account) this.awayGuests.add(session);
  }

  /** The session ended (or moves to another address: `connected` calls this first). */
  removed(session: Session): void {
    const group = session.addressGroup;
    if (group === null) return;
    session.addressGroup = null;
    const count = (this.counts.get(group) ?? 1) - 1;
    if (count > 0) this.counts.set(group, count);
    else this.counts.delete(group);
    const away = this.awayByGroup.get(group);
    if (away?.delete(session) && away.size === 0) this.awayByGroup.delete(group);
    this.awayGuests.delete(session);
  }

  /** Sessions, online or away, from the address group of `address`. */
  countFrom(address: string): number {
    return this.counts.get(addressGroup(address)) ?? 0;
  }

  /** The guest that has been away longest, from `address`'s group or (without) anywhere. */
  oldestAwayGuest(address?: string): Session | undefined {
    if (address === undefined) return first(this.awayGuests);
    const away = this.awayByGroup.get(addressGroup(address));
    if (!away) return undefined;
    for (const session of away) if (!session.account) return session;
    return undefined;
  }
}

function first<T>(set: ReadonlySet<T>): T | undefined {
  for (const value of set) return value;
  return undefined;
}
