import type { Session } from '../session.js';

/**
 * The sessions this node holds, by id and by nickname key. The core's one record of who
 * is online here; everything that looks a session up by name or walks the crowd reads it.
 */
export class SessionTable {
  private readonly byId = new Map<string, Session>();
  private readonly byNick = new Map<string, Session>();

  get size(): number {
    return this.byId.size;
  }

  get(id: string): Session | undefined {
    return this.byId.get(id);
  }

  /** Sessions by kind, for the metrics (a scrape walks them once). */
  counts(): { guests: number; accounts: number; away: number } {
    let guests = 0;
    let accounts = 0;
    let away = 0;
    for (const session of this.byId.values()) {
      if (session.link === null) away++;
      else if (session.account) accounts++;
      else guests++;
    }
    return { guests, accounts, away };
  }

  findByNick(nickKey: string): Session | undefined {
    return this.byNick.get(nickKey);
  }

  values(): IterableIterator<Session> {
    return this.byId.values();
  }

  add(session: Session): void {
    this.byId.set(session.id, session);
    this.byNick.set(session.nickKey, session);
  }

  /** True when `session` was here (and is removed now); false when it had already gone. */
  remove(session: Session): boolean {
    if (this.byId.get(session.id) !== session) return false;
    this.byId.delete(session.id);
    if (this.byNick.get(session.nickKey) === session) this.byNick.delete(session.nickKey);
    return true;
  }

  /** Moves `session` to `nickKey`; false when another session holds that key. */
  rekey(session: Session, nickKey: string): boolean {
    if (nickKey === session.nickKey) return true;
    if (this.byNick.has(nickKey)) return false;
    this.byNick.delete(session.nickKey);
    this.byNick.set(nickKey, session);
    return true;
  }
}
