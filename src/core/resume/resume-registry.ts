import { createHash } from 'node:crypto';
import type { HandedOverSession } from '../../bus/bus.js';
import type { ChatCore } from '../chat-core.js';
import { recordOf, type ResumeRecord } from '../directory/directory.js';
import { summarize } from '../nodes/node-link.js';
import { roomEntered } from '../rooms/room.js';
import type { TimerHandle } from '../clock.js';
import type { ChatEvent } from '../events.js';
import type { Link, RoomsListener, Session } from '../session.js';
import { AWAY_RING_CAPACITY, CONNECTED_RING_CAPACITY, EventRing } from './event-ring.js';
import { TokenSource } from './token-source.js';

/** The rooms of a record of a session in none but the lobby, as most are. */
const NO_ROOMS: readonly string[] = Object.freeze([]);

/** 144 random bits, written as 24 base64url characters. */
const TOKEN_BYTES = 18;

/** A session's resume state, kept on the session itself (`Session.resume`). */
export interface ResumeEntry {
  /** SHA-256 of the current token: the token itself is never kept. */
  tokenKey: string;
  /** While away: the grace timer (null once redeemed). */
  timer: TimerHandle | null;
  /** While away or being resumed: the newest event the lost connection was sent. */
  lastSentId: number | null;
  /** While away: when the connection dropped. */
  awaySince: number | null;
}

export function keyOf(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/**
 * Session resume (the "cookie" of seed 000). Every session gets a single-use token; a
 * connection that drops without a clean leave leaves its session waiting ("away") for
 * `resume.graceSeconds`, collecting the events it is sent; a new connection presenting
 * the token takes the session back and receives those events, in order, once.
 *
 * In a cluster the client may come back through another node: every token's record (who
 * the session is, its rooms, its node) is kept in the directory, so that node can take the
 * session over (`resume-elsewhere.ts`); the node holding it hands it over (`handOver`).
 */
export class ResumeRegistry implements RoomsListener {
  private readonly byToken = new Map<string, Session>();
  private readonly tokens = new TokenSource();
  /** Sessions whose record is to be written again (rooms changed) at the end of the turn. */
  private readonly stale = new Set<Session>();

  constructor(private readonly core: ChatCore) {}

  /** Gives the session a fresh token, invalidating its previous one. */
  issue(session: Session): string {
    const token = this.tokens.take(TOKEN_BYTES);
    const tokenKey = keyOf(token);
    const entry = session.resume;
    const previousKey = entry?.tokenKey;
    if (entry) {
      this.byToken.delete(entry.tokenKey);
      entry.tokenKey = tokenKey;
    } else {
      session.resume = { tokenKey, timer: null, lastSentId: null, awaySince: null };
      session.roomsListener = this;
    }
    this.byToken.set(tokenKey, session);
    this.save(session, tokenKey, previousKey);
    return token;
  }

  /** The record another node would take `session` over from (see `ResumeRecord`). */
  recordOf(session: Session): ResumeRecord {
    const rooms = session.joinedRooms;
    return recordOf(
      session,
      this.core.bus.nodeId,
      rooms.size === 0 ? NO_ROOMS : [...rooms],
      session.resume?.awaySince,
    );
  }

  /** Writes every session's record again (the directory lost them: Redis restarted empty). */
  saveAll(): void {
    for (const session of this.core.onlineSessions())
      if (session.resume) this.save(session, session.resume.tokenKey);
  }

  private save(session: Session, tokenKey: string, previousKey?: string): void {
    this.core.directory
      .saveResume(tokenKey, this.recordOf(session), previousKey)
      .catch((error: unknown) =>
        this.core.logger.warn(
          { err: error, session: session.id },
          'could not record the session for a resume on another node',
        ),
      );
  }

  /**
   * `RoomsListener`: joins and leaves of one turn (a login restoring rooms, a room closing)
   * write once.
   */
  roomsChanged(session: Session): void {
    this.changed(session);
  }

  /**
   * What the record says of the session changed (its rooms, nickname or account): it is
   * written again at the end of the turn. Without it, a session that registered or renamed
   * and whose node then died was taken over as the guest or the name it had been.
   */
  changed(session: Session): void {
    if (this.stale.size === 0)
      queueMicrotask(() => {
        for (const each of this.stale) {
          const entry = each.resume;
          // A session still here: one that ended or moved has no record to keep.
          if (entry && this.core.sessionById(each.id) === each) this.save(each, entry.tokenKey);
        }
        this.stale.clear();
      });
    this.stale.add(session);
  }

  /**
   * Another node asks for `sessionId`, whose client resumes there: closes its old
   * connection if still open, and lets it go quietly (no leave: it lives on there). Returns
   * its log after `lastEventId` (or after the last event written to the lost connection),
   * or null when this node does not hold it.
   */
  handOver(sessionId: string, lastEventId: number | undefined): HandedOverSession | null {
    const core = this.core;
    const session = core.sessionById(sessionId);
    const entry = session?.resume;
    if (!session || !entry) return null;
    const oldLink = session.link;
    let afterId = lastEventId ?? entry.lastSentId ?? 0;
    if (oldLink) {
      afterId = lastEventId ?? session.recent?.newestId ?? 0;
      oldLink.session = null;
      session.link = null;
      oldLink.outlet.close('replaced', 'This session was resumed on another connection');
      core.detach(oldLink);
    }
    const { events, lost } = session.recent
      ? session.recent.after(afterId)
      : { events: [], lost: false };
    const summary = summarize(core, session);
    core.removeQuietly(session);
    return { summary, missed: events, lost };
  }

  /**
   * The session's connection dropped: keep the session for the grace period. Returns
   * false when resume is off (`resume.graceSeconds` 0) or the session has no token.
   */
  hold(session: Session): boolean {
    const entry = session.resume;
    const graceMs = this.core.params['resume.graceSeconds'] * 1000;
    if (!entry || graceMs <= 0) return false;
    if (entry.timer) this.core.clock.clearTimeout(entry.timer);
    entry.lastSentId = session.recent?.newestId ?? 0;
    if (entry.awaySince === null) {
      entry.awaySince = this.core.clock.now();
      // Says when it dropped, for the node that announces it gone if this one dies.
      this.save(session, entry.tokenKey);
    }
    const ring = (session.recent ??= new EventRing(AWAY_RING_CAPACITY));
    ring.resize(AWAY_RING_CAPACITY);
    const timer = this.core.clock.setTimeout(() => {
      if (entry.timer !== timer) return;
      entry.timer = null;
      this.core.logger.info({ event: 'resume_expired', session: session.id }, 'resume expired');
      this.core.endSession(session, 'dropped');
    }, graceMs);
    entry.timer = timer;
    this.core.addresses.wentAway(session);
    this.core.logger.info({ event: 'away', session: session.id, nick: session.nick }, 'away');
    return true;
  }

  /**
   * Redeems a token: returns its session and invalidates the token, or undefined when the
   * token is unknown, already used, or its session has ended. The session's old
   * connection, if it is somehow still open, is closed without ending the session.
   */
  redeem(token: string): Session | undefined {
    const tokenKey = keyOf(token);
    const session = this.byToken.get(tokenKey);
    if (!session) return undefined;
    this.byToken.delete(tokenKey);
    const entry = session.resume;
    if (!entry || this.core.findSession(session.nickKey) !== session) return undefined;
    if (entry.timer) this.core.clock.clearTimeout(entry.timer);
    entry.timer = null;
    const oldLink = session.link;
    if (oldLink) {
      // A half-open connection the server has not noticed yet: the token holder wins.
      entry.lastSentId = session.recent?.newestId ?? 0;
      oldLink.session = null;
      session.link = null;
      oldLink.outlet.close('replaced', 'This session was resumed on another connection');
      this.core.detach(oldLink);
      session.recent?.resize(AWAY_RING_CAPACITY);
    }
    return session;
  }

  /**
   * Hands a redeemed session its new connection: first every held event after
   * `lastEventId` (or, without it, after the last one sent before the drop), then a
   * `room_entered` (restored) for each room it is in, then live events. Runs synchronously, so nothing can slip between the replay and live events.
   */
  attach(session: Session, link: Link, lastEventId: number | undefined): void {
    const entry = session.resume;
    if (!entry || this.core.findSession(session.nickKey) !== session) {
      link.outlet.close('resume_failed', 'The session ended while it was being resumed');
      this.core.detach(link);
      return;
    }
    const afterId = lastEventId ?? entry.lastSentId ?? 0;
    entry.lastSentId = null;
    if (link.isClosed) {
      // Dropped again before it was back: wait for another resume.
      if (!this.hold(session)) this.core.endSession(session, 'dropped');
      return;
    }
    const ring = session.recent;
    const { events: missed, lost } = ring ? ring.after(afterId) : { events: [], lost: false };
    entry.awaySince = null;
    this.save(session, entry.tokenKey);
    session.link = link;
    link.session = session;
    this.core.addresses.connected(session, link.outlet.address);
    for (const event of missed) link.outlet.send(event);
    // The new connection's client knows nothing yet: tell it the rooms it is (still) in.
    for (const key of session.joinedRooms) {
      const room = this.core.rooms.get(key);
      if (room) this.core.sendTo(session, roomEntered(room, true));
    }
    if (lost)
      this.core.sendTo(session, {
        ev: 'notice',
        text: 'Some events from while you were away could not be kept and are missing',
      });
    ring?.resize(CONNECTED_RING_CAPACITY);
    this.core.logger.info(
      { event: 'resumed', session: session.id, nick: session.nick, replayed: missed.length },
      'resumed',
    );
  }

  /**
   * Until when the session's person has seen what it was sent: now while connected; for
   * a session away (its connection dropped, waiting to be resumed), when the connection
   * dropped, or earlier if an event sent before that was held back for the resume (a
   * message stamped before the drop can be fanned out after it). An account's next login
   * replays its rooms from there, so what waited in the ring of a session that is never
   * resumed (grace over, or logged in over from a new connection) is not lost.
   */
  seenUntil(session: Session, now: number): number {
    const entry = session.resume;
    if (!entry || entry.awaySince === null || session.link) return now;
    let until = entry.awaySince;
    for (const event of this.unsent(session)) if (event.ts < until) until = event.ts;
    return until;
  }

  /**
   * Ids of the private messages a session away was sent after its connection dropped:
   * stored as delivered live, but its person never got them. Asked when it ends without a
   * resume, so they become its account's stored messages again (`markUndelivered`) and
   * come at the next login, as if it had been offline. Empty for a connected session.
   */
  unsentPrivates(session: Session): number[] {
    const mids: number[] = [];
    for (const event of this.unsent(session)) if (event.ev === 'private') mids.push(event.mid);
    return mids;
  }

  /** Events held for a session away after the last one its lost connection was sent. */
  private unsent(session: Session): readonly ChatEvent[] {
    const entry = session.resume;
    if (!entry || entry.awaySince === null || session.link) return [];
    return session.recent?.after(entry.lastSentId ?? 0).events ?? [];
  }

  /** When the session's connection dropped, if it is away (waiting to be resumed); else null. */
  awaySince(session: Session): number | null {
    return this.isAway(session) ? session.resume!.awaySince : null;
  }

  /** Whether the session is away: its connection dropped and it waits to be resumed. */
  isAway(session: Session): boolean {
    const entry = session.resume;
    return entry !== null && entry.awaySince !== null && session.link === null;
  }

  /** The session ended (or left this node): its token, record and any grace timer go. */
  forget(session: Session): void {
    const entry = session.resume;
    if (!entry) return;
    session.roomsListener = null;
    if (entry.timer) this.core.clock.clearTimeout(entry.timer);
    this.byToken.delete(entry.tokenKey);
    session.resume = null;
    this.core.directory
      .dropResume(entry.tokenKey)
      .catch((error: unknown) =>
        this.core.logger.warn(
          { err: error, session: session.id },
          'could not drop a resume record',
        ),
      );
  }
}
