import type { BusTarget } from '../../bus/bus.js';
import type { LoginAttempt } from '../admin/moderation.js';
import type { ChatCore } from '../chat-core.js';
import { entryOf, type DirectoryEntry, type SessionIdentity } from '../directory/directory.js';
import type { SessionTable } from '../directory/session-table.js';
import { ChatError } from '../errors.js';
import type { LeaveReason } from '../events.js';
import { prepareLoginBacklog } from '../rooms/login-backlog.js';
import { newGuestKey, Session, type AccountRef, type Link } from '../session.js';

/**
 * A feature that follows sessions (files, …). Called synchronously after the core's own
 * work; an observer must not throw, and does its slow work asynchronously.
 */
export interface SessionObserver {
  loggedIn?(session: Session): void;
  ended?(session: Session, reason: LeaveReason): void;
  /** The core is shutting down: stop timers, abort work. */
  stopping?(): void;
}

/** A session arriving from another node (see `SessionLifecycle.adopt`). */
export interface ArrivingSession {
  readonly id: string;
  readonly nick: string;
  readonly nickKey: string;
  readonly account: AccountRef | null;
  readonly guestKey: string | undefined;
  readonly rooms: readonly string[];
}

/**
 * A session's life on this node: the checks before a login, the login itself (claim in
 * the directory, then the session, then the announcement and backlog), renames, account
 * changes and the one way a session ends. The part of the core a cluster keeps per node:
 * claims go through the directory, announcements through delivery.
 */
export class SessionLifecycle {
  readonly observers: SessionObserver[] = [];
  /** Logouts' last-seen writes not yet resolved, by account id. */
  private readonly lastSeenWrites = new Map<number, Promise<void>>();

  constructor(
    private readonly core: ChatCore,
    private readonly sessions: SessionTable,
  ) {}

  /** See `ChatCore.checkLoginAllowed`. */
  checkLoginAllowed(nickKey: string, attempt?: LoginAttempt, replacing?: Session): void {
    const core = this.core;
    if (core.isShuttingDown) throw new ChatError('shutting_down');
    if (attempt) core.admin.checkLogin(nickKey, attempt);
    const holder = this.sessions.findByNick(nickKey);
    if (holder && holder !== replacing) throw new ChatError('nick_taken');
    // Full, unless a guest that is away can give way (`makeRoom`, at the login itself).
    if (
      this.sessions.size - (replacing ? 1 : 0) >= core.params.maxUsers &&
      !core.addresses.oldestAwayGuest()
    )
      throw new ChatError(
        'server_full',
        `The server is full (${core.params.maxUsers} users online)`,
      );
  }

  /** See `ChatCore.login`. */
  async login(
    link: Link,
    nick: string,
    nickKey: string,
    account: AccountRef | null,
    options: {
      readonly seenMid?: number | undefined;
      readonly replacing?: string | undefined;
      readonly replacingOn?: string | undefined;
    },
  ): Promise<Session> {
    const core = this.core;
    const attempt = { address: link.outlet.address, account };
    this.checkLoginAllowed(nickKey, attempt);
    this.makeRoom(link.outlet.address);
    const id = core.ids.session();
    const guestKey = newGuestKey();
    const holder = await core.directory.claim(
      this.entryOf({ id, nick, nickKey, account, guestKey }),
      options.replacing,
    );
    if (holder) throw new ChatError('nick_taken');
    try {
      if (link.isClosed) throw new ChatError('bad_request', 'The connection closed during login');
      this.checkLoginAllowed(nickKey, attempt);
    } catch (error) {
      void core.directory.release(id);
      throw error;
    }
    const session = new Session({
      id,
      nick,
      nickKey,
      account,
      now: core.clock.now(),
      link,
      ...(account === null && { guestKey }),
    });
    core.blocks.sessionStarted(session);
    const restoredRooms = core.rooms.sessionStarted(session);
    link.session = session;
    core.requestGuard.loggedIn(link);
    this.sessions.add(session);
    core.addresses.connected(session, link.outlet.address);
    core.logger.info(
      {
        event: 'login',
        session: session.id,
        nick,
        account: account?.id ?? null,
        address: link.outlet.address,
        port: link.outlet.port,
      },
      'login',
    );
    core.publish(
      core.presenceAudience(session),
      { ev: 'online', nick, account: account !== null },
      { exclude: session },
    );
    // Rooms restored and messages missed are sent after the login reply.
    const backlog = prepareLoginBacklog(core, session, restoredRooms, options.seenMid);
    if (options.replacing !== undefined)
      this.inherit(session, options.replacing, options.replacingOn);
    void link.enqueue(backlog);
    for (const observer of this.observers) observer.loggedIn?.(session);
    link.afterReply(() => core.admin.welcome(session, link.outlet.address));
    return session;
  }

  /**
   * A login over the account's own session, now receiving live events (in the same turn
   * as its subscription), gets the messages that session was sent after its end
   * (`ReplacedSessions`): between that end and this subscription they reached neither.
   * Held with the login backlog, so a message it also replays is not shown twice; from
   * another node they come with their event ids, so a copy held since this subscription
   * is dropped too.
   */
  private inherit(session: Session, replaced: string, node: string | undefined): void {
    const core = this.core;
    if (node === undefined || node === core.bus.nodeId) {
      const events = core.replaced.take(replaced);
      if (events.length > 0) session.holdEvents()(events, []);
      return;
    }
    const release = session.holdEvents();
    core.nodes.replacedEvents(node, replaced).then(
      (events) => release(events, [], new Set(events.map((event) => event.id))),
      (error: unknown) => {
        core.logger.warn(
          { err: error, session: session.id, replaced, node },
          'could not get the messages of the replaced session',
        );
        release([], []);
      },
    );
  }

  /**
   * Sessions that are away hold places without a connection. Before a login, the oldest
   * away guests of its own address give way until the address is within
   * `maxConnectionsPerIp` sessions, then the oldest away guests anywhere until the server
   * is within `maxUsers`. Accounts are never made to give way: each has one session.
   */
  private makeRoom(address: string): void {
    const { addresses, params } = this.core;
    const perAddress = params.maxConnectionsPerIp;
    let ghost: Session | undefined;
    while (
      addresses.countFrom(address) >= perAddress &&
      (ghost = addresses.oldestAwayGuest(address))
    )
      this.giveWay(ghost, 'address');
    while (this.sessions.size >= params.maxUsers && (ghost = addresses.oldestAwayGuest()))
      this.giveWay(ghost, 'server');
  }

  private giveWay(session: Session, full: 'address' | 'server'): void {
    this.core.logger.info(
      { event: 'away_given_way', session: session.id, nick: session.nick, full },
      'an away guest gave way to a new login',
    );
    this.end(
      session,
      'dropped',
      full === 'server'
        ? 'Away too long on a full server: gave way to a new login'
        : 'Away while its address had its full share of sessions: gave way to a new login',
    );
  }

  /** See `ChatCore.accountChanged`. */
  async accountChanged(session: Session): Promise<void> {
    const core = this.core;
    await core.directory.claim(this.entryOf(session), session.id);
    core.resume.changed(session);
    // IRC's account-notify, and any client that shows who is an account.
    core.publish(core.presenceAudience(session), {
      ev: 'account',
      nick: session.nick,
      account: session.account?.name ?? null,
    });
  }

  private entryOf(session: SessionIdentity): DirectoryEntry {
    return entryOf(session, this.core.bus.nodeId);
  }

  /** See `ChatCore.rename`. */
  async rename(session: Session, nick: string, nickKey: string): Promise<void> {
    const directory = this.core.directory;
    if (nickKey !== session.nickKey) {
      if (this.sessions.findByNick(nickKey)) throw new ChatError('nick_taken');
      if (await directory.rename(session.id, nick, nickKey)) throw new ChatError('nick_taken');
      if (!this.sessions.rekey(session, nickKey)) {
        await directory.rename(session.id, session.nick, session.nickKey);
        throw new ChatError('nick_taken');
      }
    } else {
      await directory.rename(session.id, nick, nickKey);
    }
    session.nick = nick;
    session.nickKey = nickKey;
    this.core.resume.changed(session);
  }

  /**
   * Resolves once the last-seen time of the account's latest logout on this node is
   * stored (at once when none is pending). A login over a session just ended reads where
   * its replay starts only after that: a read need not see a write that has not resolved.
   */
  lastSeenWritten(accountId: number): Promise<void> {
    return this.lastSeenWrites.get(accountId) ?? Promise.resolve();
  }

  /**
   * A session another node held arrives here (its client resumed on this node): it is
   * made on this node with its id, nickname, account and rooms, and nobody is told; the
   * caller claims it in the directory and attaches its connection. Its link is the new
   * connection, which learns of it only after the resume's reply (`link.session` unset).
   */
  adopt(init: ArrivingSession, link: Link): Session {
    const core = this.core;
    const session = new Session({
      id: init.id,
      nick: init.nick,
      nickKey: init.nickKey,
      account: init.account,
      now: core.clock.now(),
      link,
      ...(init.guestKey !== undefined && { guestKey: init.guestKey }),
    });
    core.blocks.sessionStarted(session);
    for (const key of init.rooms) {
      const room = core.rooms.get(key);
      if (!room) continue;
      room.members.set(session.id, session);
      session.entered(key);
    }
    this.sessions.add(session);
    return session;
  }

  /**
   * A session leaves this node without anyone being told: it moved to another node (its
   * client resumed there), or taking it over from another node failed. Its nickname stays
   * claimed for whoever holds it now, and no departure is recorded.
   */
  removeQuietly(session: Session): void {
    if (!this.sessions.remove(session)) return;
    const core = this.core;
    core.resume.forget(session);
    if (session.link?.session === session) session.link.session = null;
    core.rooms.sessionEnded(session);
    core.addresses.removed(session);
    core.logger.info(
      { event: 'session_moved', session: session.id, nick: session.nick },
      'session left this node quietly',
    );
  }

  /** See `ChatCore.endSession`. */
  end(session: Session, reason: LeaveReason, message?: string): void {
    if (this.sessions.get(session.id) !== session) return;
    const core = this.core;
    const { logger, clock } = core;
    // Counted with the leaver still online, as its login was. A kick or a ban is told to
    // everyone whatever the crowd (product.md): moderation is meant to be seen.
    const audience: BusTarget =
      reason === 'kicked' || reason === 'banned'
        ? { kind: 'everyone' }
        : core.presenceAudience(session);
    this.sessions.remove(session);
    // From now on a login over it waits to receive live events: what it is sent meanwhile
    // is kept for that login.
    if (reason === 'replaced') core.replaced.keep(session);
    core.directory.release(session.id).catch((error: unknown) => {
      logger.warn({ err: error, session: session.id }, 'could not release the nickname');
    });
    const link = session.link;
    if (link) link.session = null;
    core.rooms.sessionEnded(session);
    core.recentPresence.left(session, clock.now());
    // Every node's /wholasthr and /whois see the leave, not only this node's.
    core.directory
      .recordDeparture({
        nick: session.nick,
        key: session.nickKey,
        account: session.account !== null,
        lastSeen: clock.now(),
      })
      .catch((error: unknown) => {
        logger.warn({ err: error, session: session.id }, 'could not record the departure');
      });
    // Asked before the resume entry goes: an account away is seen only until it dropped,
    // and the private messages it was sent meanwhile wait for its next login.
    const seenUntil = core.resume.seenUntil(session, clock.now());
    const unsent = session.account ? core.resume.unsentPrivates(session) : [];
    // Those its away log could not hold (it keeps the last 1,000 events) are found by time:
    // nothing sent after the connection dropped was shown.
    const awaySince = core.resume.awaySince(session);
    core.resume.forget(session);
    core.addresses.removed(session);
    logger.info({ event: 'logout', session: session.id, nick: session.nick, reason }, 'logout');
    if (session.account) {
      const accountId = session.account.id;
      // One promise for both writes: a login over this session reads after them.
      const written = Promise.all([
        core.store.accounts.setLastSeen(accountId, seenUntil).catch((error: unknown) => {
          logger.warn({ err: error, account: accountId }, 'could not record last seen');
        }),
        core.store.inbox.markUndelivered(accountId, unsent).catch((error: unknown) => {
          logger.warn(
            { err: error, account: accountId, messages: unsent },
            'could not keep the private messages sent while away for the next login',
          );
        }),
        awaySince === null
          ? undefined
          : core.store.inbox.markUndeliveredSince(accountId, awaySince).catch((error: unknown) => {
              logger.warn(
                { err: error, account: accountId, since: awaySince },
                'could not keep the private messages sent while away for the next login',
              );
            }),
      ])
        .then(() => undefined)
        .finally(() => {
          if (this.lastSeenWrites.get(accountId) === written) this.lastSeenWrites.delete(accountId);
        });
      this.lastSeenWrites.set(accountId, written);
    }
    core.publish(
      audience,
      message === undefined
        ? { ev: 'offline', nick: session.nick, reason }
        : { ev: 'offline', nick: session.nick, reason, message },
    );
    for (const observer of this.observers) observer.ended?.(session, reason);
  }
}
