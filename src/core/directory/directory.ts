/**
 * The session directory: who is online on which node, and which session holds which
 * nickname. Each node keeps its own sessions (their links, rooms, queues); the directory
 * is the one record all nodes share, so that a nickname is held once across the cluster
 * and any node can find the node that owns a session. The in-process implementation
 * (LocalDirectory) serves one server, or several cores in one process (the multi-node
 * test); a cluster implements this port over a shared store (Redis).
 *
 * Contract:
 * - `claim` is atomic: of two claims of one nickname key, at most one succeeds, whatever
 *   the nodes. A claim naming `replacing` may take the key from that session (a takeover).
 * - An entry lives until `release`, `forgetNode` (its node stopped or was declared dead),
 *   or a later claim that replaces it. `release` of a session that no longer holds its key
 *   (it was replaced) removes nothing of the newer holder.
 * - Reads answer what was claimed and not released when they run: another node's claim
 *   may be seen a moment late, never out of order with that node's release.
 */
export interface DirectoryEntry {
  readonly session: string;
  /** Node that owns the session: where control messages for it go. */
  readonly node: string;
  readonly nick: string;
  readonly nickKey: string;
  readonly accountId: number | null;
  readonly admin: boolean;
  /**
   * A guest's key (`Session.guestKey`): another node files what it sends the guest under
   * it. Absent (or undefined) for an account.
   */
  readonly guest?: string | undefined;
}

/**
 * What another node needs to take a session over when its client resumes there (the node
 * that held it died, or the client's reconnect landed elsewhere): who it is and which rooms
 * it is in. Kept under the hash of the session's current resume token, rewritten when the
 * token is renewed or the rooms change, removed when the session ends.
 */
export interface ResumeRecord {
  readonly session: string;
  /** Node holding the session when the record was written. */
  readonly node: string;
  readonly nick: string;
  readonly nickKey: string;
  readonly accountId: number | null;
  /** A guest's key (see `DirectoryEntry.guest`). */
  readonly guest?: string | undefined;
  /** Keys of the rooms it is in besides the lobby. */
  readonly rooms: readonly string[];
  /**
   * While its connection is dropped and it waits on its node to be resumed: when the
   * connection dropped (that node's clock). If the node dies and nobody resumes it, what
   * it was sent from then never reached its person (`AbandonedSession`).
   */
  readonly awaySince?: number | undefined;
}

/** A resume record taken (its token is spent), with whether its node still holds a lease. */
export interface TakenResume {
  readonly record: ResumeRecord;
  /** The record's node may still be serving: ask it to hand the session over first. */
  readonly nodeAlive: boolean;
}

/** What `entryOf` and `recordOf` read of a session. */
export interface SessionIdentity {
  readonly id: string;
  readonly nick: string;
  readonly nickKey: string;
  readonly account: { readonly id: number; readonly role?: string } | null;
  readonly guestKey: string;
}

// Both builders write every field in one literal, in the same order, `guest` included (as
// undefined for an account; JSON drops it): one hidden class for all entries and one for
// all records. Built with a spread (`{ ...identity, admin }`), each object got a hidden
// class of its own, about 260 bytes per object, twice per session (measured with heap
// snapshots at 4,000 idle clients; see docs/benchmarks.md).

/** A session's directory entry on `node`. */
export function entryOf(session: SessionIdentity, node: string): DirectoryEntry {
  return {
    session: session.id,
    node,
    nick: session.nick,
    nickKey: session.nickKey,
    accountId: session.account?.id ?? null,
    admin: session.account?.role === 'admin',
    // A guest's key is read only for guests: reading it makes one (see `Session.guestKey`).
    guest: session.account === null ? session.guestKey : undefined,
  };
}

/** The record another node would take `session` over from (see `ResumeRecord`). */
export function recordOf(
  session: SessionIdentity,
  node: string,
  rooms: readonly string[],
  awaySince: number | null = null,
): ResumeRecord {
  return {
    session: session.id,
    node,
    nick: session.nick,
    nickKey: session.nickKey,
    accountId: session.account?.id ?? null,
    guest: session.account === null ? session.guestKey : undefined,
    rooms,
    awaySince: awaySince ?? undefined,
  };
}

/** True when `record` names the session as `entry` does (rooms aside). */
function sameIdentity(entry: DirectoryEntry, record: ResumeRecord): boolean {
  return (
    entry.session === record.session &&
    entry.node === record.node &&
    entry.nick === record.nick &&
    entry.nickKey === record.nickKey &&
    entry.accountId === record.accountId &&
    entry.guest === record.guest &&
    // An entry has no away time to give back.
    record.awaySince === undefined
  );
}

/** The record an entry stands for (see `LocalDirectory.resumable`): `recordOf`'s fields. */
function recordFromEntry(entry: DirectoryEntry): ResumeRecord {
  return {
    session: entry.session,
    node: entry.node,
    nick: entry.nick,
    nickKey: entry.nickKey,
    accountId: entry.accountId,
    guest: entry.guest,
    rooms: [],
    awaySince: undefined,
  };
}

/**
 * A session of a dead node that nobody resumed before its resume window closed: a surviving
 * node announces it gone (see `SessionDirectory.takeAbandoned`).
 */
export interface AbandonedSession {
  /** Names it to `finishAbandoned` once it is announced. */
  readonly key: string;
  readonly record: ResumeRecord;
  /** When its node was last known alive (the directory's clock): the session's last seen. */
  readonly lastSeen: number;
  /**
   * When its node's claims lapsed (the directory's clock): until then messages for it went
   * to that node, after it to whoever held its name or account next, or to the inbox.
   */
  readonly goneAt: number;
  /** Another live session holds its nickname now: it is not to be announced as leaving. */
  readonly nickHeld: boolean;
}

/** Someone who left, for `/wholasthr` and `/whois` on every node. */
export interface Departure {
  readonly nick: string;
  readonly key: string;
  readonly account: boolean;
  readonly lastSeen: number;
}

export interface SessionDirectory {
  /** Claims `entry.nickKey`; resolves null when claimed, else the entry that holds it. */
  claim(entry: DirectoryEntry, replacing?: string): Promise<DirectoryEntry | null>;
  /** Moves a session to another nickname; resolves null when done, else the holder. */
  rename(session: string, nick: string, nickKey: string): Promise<DirectoryEntry | null>;
  release(session: string): Promise<void>;
  /**
   * Compare-and-set release: removes the session's entry only while it still names
   * `node` (it was not claimed elsewhere since). Resolves whether it removed it.
   */
  releaseFrom(session: string, node: string): Promise<boolean>;
  find(nickKey: string): Promise<DirectoryEntry | undefined>;
  findSession(session: string): Promise<DirectoryEntry | undefined>;
  findAccount(accountId: number): Promise<DirectoryEntry | undefined>;
  /** Every session online, on every node. */
  list(): Promise<readonly DirectoryEntry[]>;
  /** Removes every entry of `node`; resolves how many. */
  forgetNode(node: string): Promise<number>;
  /** Records a session's leave (the newest per nickname key is kept). */
  recordDeparture(departure: Departure): Promise<void>;
  /** Departures at or after `since`, newest first. */
  departures(since: number): Promise<readonly Departure[]>;
  departure(key: string): Promise<Departure | undefined>;
  /**
   * Writes the record of the session resumable with `tokenKey` (the SHA-256 of its
   * token), replacing the record of `previousKey` (its earlier token) when given.
   */
  saveResume(tokenKey: string, record: ResumeRecord, previousKey?: string): Promise<void>;
  /** The session ended: its token resumes nothing any more. */
  dropResume(tokenKey: string): Promise<void>;
  /**
   * Spends a token: atomically removes and returns its record, so of two resumes with one
   * token (on any nodes) one gets it. Undefined when unknown, or when its node died more
   * than `graceMs` ago (the session would have expired there).
   */
  takeResume(tokenKey: string, graceMs: number): Promise<TakenResume | undefined>;
  /** True while `node` holds its lease (it may be serving sessions). */
  nodeAlive(node: string): Promise<boolean>;
  /**
   * Claims the sessions of dead nodes whose resume window has closed (their node died more
   * than `graceMs` ago, as `takeResume` counts it, and their token was never spent): their
   * records are removed and returned, and the dead nodes' entries dropped, atomically, so
   * that of every node calling this, one gets each session and announces it gone. A call
   * returns a bounded batch; the rest come with the next.
   *
   * What a node takes stays its own until it calls `finishAbandoned` (once announced):
   * if it dies first (its lease lapses), the next `takeAbandoned` on any node takes those
   * sessions again, so a leave is announced at least once (twice if the taker died after
   * announcing and before finishing), never lost.
   */
  takeAbandoned(graceMs: number): Promise<readonly AbandonedSession[]>;
  /** The sessions taken under these keys are announced: nobody takes them again. */
  finishAbandoned(keys: readonly string[]): Promise<void>;
}

/** The most departures the in-process directory keeps before dropping the oldest. */
const LOCAL_DEPARTURES_MAX = 10_000;

/**
 * The directory in this process's memory. Its operations take effect when called (the
 * promise only reports), which a single server relies on for nothing but is cheap.
 */
export class LocalDirectory implements SessionDirectory {
  private readonly bySession = new Map<string, DirectoryEntry>();
  private readonly byNick = new Map<string, DirectoryEntry>();
  /** In leaving order, oldest first. */
  private readonly departed = new Map<string, Departure>();
  /**
   * Resume records by token key. A record that says what its session's entry says, in no
   * room but the lobby (as most are), is kept as that entry (entries are never changed: a
   * rename or a claim makes a new one), not as a copy: 80 bytes per session.
   */
  private readonly resumable = new Map<string, ResumeRecord | DirectoryEntry>();
  /** Nodes forgotten (stopped): their records resume nothing. */
  private readonly gone = new Set<string>();

  claim(entry: DirectoryEntry, replacing?: string): Promise<DirectoryEntry | null> {
    const holder = this.byNick.get(entry.nickKey);
    if (holder && holder.session !== entry.session && holder.session !== replacing)
      return Promise.resolve(holder);
    if (holder) this.bySession.delete(holder.session);
    this.bySession.set(entry.session, entry);
    this.byNick.set(entry.nickKey, entry);
    return Promise.resolve(null);
  }

  rename(session: string, nick: string, nickKey: string): Promise<DirectoryEntry | null> {
    const entry = this.bySession.get(session);
    if (!entry) return Promise.resolve(null);
    const holder = this.byNick.get(nickKey);
    if (holder && holder.session !== session) return Promise.resolve(holder);
    if (this.byNick.get(entry.nickKey) === entry) this.byNick.delete(entry.nickKey);
    const renamed: DirectoryEntry = {
      session: entry.session,
      node: entry.node,
      nick,
      nickKey,
      accountId: entry.accountId,
      admin: entry.admin,
      guest: entry.guest,
    };
    this.bySession.set(session, renamed);
    this.byNick.set(nickKey, renamed);
    return Promise.resolve(null);
  }

  release(session: string): Promise<void> {
    const entry = this.bySession.get(session);
    if (entry) {
      this.bySession.delete(session);
      if (this.byNick.get(entry.nickKey) === entry) this.byNick.delete(entry.nickKey);
    }
    return Promise.resolve();
  }

  releaseFrom(session: string, node: string): Promise<boolean> {
    const entry = this.bySession.get(session);
    if (entry?.node !== node) return Promise.resolve(false);
    return this.release(session).then(() => true);
  }

  find(nickKey: string): Promise<DirectoryEntry | undefined> {
    return Promise.resolve(this.byNick.get(nickKey));
  }

  findSession(session: string): Promise<DirectoryEntry | undefined> {
    return Promise.resolve(this.bySession.get(session));
  }

  findAccount(accountId: number): Promise<DirectoryEntry | undefined> {
    for (const entry of this.bySession.values())
      if (entry.accountId === accountId) return Promise.resolve(entry);
    return Promise.resolve(undefined);
  }

  list(): Promise<readonly DirectoryEntry[]> {
    return Promise.resolve([...this.bySession.values()]);
  }

  forgetNode(node: string): Promise<number> {
    this.gone.add(node);
    let removed = 0;
    for (const entry of [...this.bySession.values()])
      if (entry.node === node) {
        this.bySession.delete(entry.session);
        if (this.byNick.get(entry.nickKey) === entry) this.byNick.delete(entry.nickKey);
        removed++;
      }
    return Promise.resolve(removed);
  }

  recordDeparture(departure: Departure): Promise<void> {
    this.departed.delete(departure.key);
    this.departed.set(departure.key, departure);
    if (this.departed.size > LOCAL_DEPARTURES_MAX) {
      const oldest = this.departed.keys().next();
      if (!oldest.done) this.departed.delete(oldest.value);
    }
    return Promise.resolve();
  }

  departures(since: number): Promise<readonly Departure[]> {
    const seen = [...this.departed.values()].filter((departure) => departure.lastSeen >= since);
    return Promise.resolve(seen.reverse());
  }

  departure(key: string): Promise<Departure | undefined> {
    return Promise.resolve(this.departed.get(key));
  }

  saveResume(tokenKey: string, record: ResumeRecord, previousKey?: string): Promise<void> {
    if (previousKey !== undefined) this.resumable.delete(previousKey);
    const entry = this.bySession.get(record.session);
    const same = record.rooms.length === 0 && entry !== undefined && sameIdentity(entry, record);
    this.resumable.set(tokenKey, same ? entry : record);
    return Promise.resolve();
  }

  dropResume(tokenKey: string): Promise<void> {
    this.resumable.delete(tokenKey);
    return Promise.resolve();
  }

  /** In one process nodes never die unseen: a forgotten node's records are refused. */
  takeResume(tokenKey: string): Promise<TakenResume | undefined> {
    const kept = this.resumable.get(tokenKey);
    this.resumable.delete(tokenKey);
    if (!kept || this.gone.has(kept.node)) return Promise.resolve(undefined);
    const record = 'rooms' in kept ? kept : recordFromEntry(kept);
    return Promise.resolve({ record, nodeAlive: true });
  }

  nodeAlive(node: string): Promise<boolean> {
    return Promise.resolve(!this.gone.has(node));
  }

  /**
   * In one process no node dies unseen: a core that stops ends its sessions itself, so
   * nothing is ever abandoned.
   */
  takeAbandoned(): Promise<readonly AbandonedSession[]> {
    return Promise.resolve([]);
  }

  finishAbandoned(): Promise<void> {
    return Promise.resolve();
  }
}
