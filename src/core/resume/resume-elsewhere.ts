import type { HandedOverSession } from '../../bus/bus.js';
import { accountRef } from '../accounts/login.js';
import type { ChatCore } from '../chat-core.js';
import { entryOf, type ResumeRecord } from '../directory/directory.js';
import { ChatError } from '../errors.js';
import type { ChatEvent, EventPayload } from '../events.js';
import { announceUnseenLeave } from '../nodes/abandoned-sessions.js';
import { LOBBY } from '../rooms/lobby.js';
import { missedPrivate, missedRoomMessage, replayedTo } from '../rooms/login-backlog.js';
import { roomEntered } from '../rooms/room.js';
import type { AccountRef, Link, Session } from '../session.js';
import { AWAY_RING_CAPACITY } from './event-ring.js';
import { keyOf } from './resume-registry.js';

/** How often a node waiting for a silent node's lease to lapse looks again. */
const LEASE_POLL_MS = 250;
/**
 * Longest wait for a live node's hand-over or its lease's lapse: a lease lives 6 s
 * (src/bus/redis), plus a margin.
 */
const LEASE_WAIT_MS = 10_000;

/** A session taken over from another node, ready to be handed its new connection. */
export interface TakenOver {
  readonly session: Session;
  /** After the `resume` reply: the replay, the rooms, then live events. */
  attach(): void;
}

/**
 * `resume` with a token this node did not issue: the client was on another node, which
 * died or which its reconnect did not land on. The token's record in the directory says
 * who the session is, its rooms and its node (`takeResume` spends it, so of two resumes
 * with one token only one gets this far).
 *
 * Subscribe first, then read, as a login's backlog does: the session is made here (its
 * rooms joined, live events held) before its log is read, so whatever happens meanwhile
 * is held here or is in that log; held copies of logged events are dropped by event id,
 * or, for a log rebuilt from the store, by message id. Then:
 *
 * - **Its node answers** (alive): it closes the old connection if still open, lets the
 *   session go quietly and sends its log after `lastEventId`, with the original event ids:
 *   exactly what single-node resume replays.
 * - **Its node is dead** (no lease, or silent until its lease lapses: it may not be
 *   serving the session when another node does): the log died with it. The messages the
 *   session was sent meanwhile are in the store: its rooms' messages and its private
 *   messages (an account's inbox, a guest's by its key) after `seenMid` (the newest
 *   message id the client has), up to the store's newest, marked `replay: 'missed'`. What
 *   is not stored (joins, leaves, topics) is not replayed; the client is told.
 *
 * Then the session claims its nickname for this node (the same session id, so the claim
 * takes the entry over; it fails only if someone else took the nickname after the old
 * node's lease lapsed) and the replay goes out after the reply. Nobody sees a leave or a
 * login.
 */
export async function takeOverElsewhere(
  core: ChatCore,
  link: Link,
  token: string,
  lastEventId: number | undefined,
  seenMid: number | undefined,
): Promise<TakenOver | undefined> {
  const graceMs = core.params['resume.graceSeconds'] * 1000;
  if (graceMs <= 0) return undefined;
  const taken = await core.directory.takeResume(keyOf(token), graceMs);
  if (!taken || taken.record.node === core.bus.nodeId) return undefined;
  const { record } = taken;
  const account = await accountOf(core, record);
  if (account === undefined || link.isClosed) return undefined;
  checkNotBanned(core, record, link, account);
  if (core.findSession(record.nickKey) || core.sessionById(record.session)) return undefined;

  const session = core.adoptSession(
    {
      id: record.session,
      nick: record.nick,
      nickKey: record.nickKey,
      account,
      guestKey: record.guest,
      rooms: record.rooms,
    },
    link,
  );
  const release = session.holdEvents();
  try {
    let handed: HandedOverSession | null | undefined;
    if (taken.nodeAlive) {
      const outcome = await handOverOrLapse(core, record.node, record.session, lastEventId);
      // It no longer holds the session (it ended meanwhile), or it neither answered nor
      // lost its lease in time: nothing to resume (a later answer ends the session there,
      // see `handedOverTooLate`).
      if (outcome === null || outcome === 'silent') throw new ChatError('resume_failed');
      handed = outcome === 'lapsed' ? undefined : outcome;
    }
    const holder = await core.directory.claim(entryOf(session, core.bus.nodeId), session.id);
    if (holder) throw new ChatError('resume_failed');
    const replay = handed
      ? fromNode(handed)
      : await fromStore(core, session, seenMid).catch((error: unknown) => {
          core.logger.error({ err: error, session: session.id }, 'could not read what was missed');
          return { events: [], mids: [], lost: true, rebuilt: true };
        });
    core.logger.info(
      {
        event: 'resumed_elsewhere',
        session: session.id,
        nick: session.nick,
        from: record.node,
        handedOver: handed !== undefined,
        replayed: replay.events.length,
      },
      'resumed a session of another node',
    );
    return {
      session,
      attach: () => attach(core, session, link, replay, release),
    };
  } catch (error) {
    release([], []);
    core.removeQuietly(session);
    if (error instanceof ChatError && error.code === 'resume_failed') return undefined;
    throw error;
  }
}

interface Replay {
  readonly events: readonly ChatEvent[];
  /** Message ids of a replay rebuilt from the store: their live copies are dropped. */
  readonly mids: readonly number[];
  /** Some messages could not be replayed (fallen out of a log, or past the cap). */
  readonly lost: boolean;
  /**
   * Rebuilt from the store (the old node died): only stored messages are in it, never
   * joins, leaves, topics or notices.
   */
  readonly rebuilt?: boolean;
  /** Event ids of a log handed over by the old node (held copies of them are dropped). */
  readonly ids?: ReadonlySet<number>;
}

/**
 * The old node's log. A copy of one of its events that reached this node too did so before
 * the old node's answer (Redis hands a publish to every subscriber before it takes the
 * answer published after it), so it is among the held ones, dropped by event id; no later
 * live copy can come, so no message ids are remembered.
 */
function fromNode(handed: HandedOverSession): Replay {
  return {
    events: handed.missed,
    mids: [],
    lost: handed.lost,
    ids: new Set(handed.missed.map((event) => event.id)),
  };
}

/** The account of the record, null for a guest, undefined when it no longer exists. */
async function accountOf(
  core: ChatCore,
  record: ResumeRecord,
): Promise<AccountRef | null | undefined> {
  if (record.accountId === null) return null;
  const account = await core.store.accounts.findById(record.accountId);
  return account ? accountRef(account) : undefined;
}

/**
 * A ban ends a session wherever it is; one made while the session's node was dead reached
 * no one, so it is checked here. (A lock or a lockout does not refuse a resume.)
 */
function checkNotBanned(
  core: ChatCore,
  record: ResumeRecord,
  link: Link,
  account: AccountRef | null,
): void {
  if (core.isShuttingDown) throw new ChatError('shutting_down');
  try {
    core.admin.checkLogin(record.nickKey, { address: link.outlet.address, account });
  } catch (error) {
    if (error instanceof ChatError && error.code === 'banned') throw error;
  }
}

/**
 * Asks the session's node to hand it over, and meanwhile watches its lease: the node's
 * answer (the session, or null when it does not hold it), `lapsed` when its lease lapsed
 * first (it is dead, or fenced and closing its sessions: it no longer serves this one), or
 * `silent` when neither came within `LEASE_WAIT_MS`. Only the request's own timeout gives
 * up on the answer, so an answer after that is a late one, which ends the session there
 * (`handedOverTooLate`) rather than being dropped with the session still claimed.
 */
async function handOverOrLapse(
  core: ChatCore,
  node: string,
  session: string,
  lastEventId: number | undefined,
): Promise<HandedOverSession | null | 'lapsed' | 'silent'> {
  type Outcome = HandedOverSession | null | 'lapsed' | 'silent';
  let answered = false;
  const asked: Promise<Outcome> = core.nodes
    .resumeTakeover(node, session, lastEventId, LEASE_WAIT_MS)
    .then((handed) => {
      answered = true;
      return handed === undefined ? 'silent' : handed;
    });
  const lapsed: Promise<Outcome> = leaseLapsed(core, node, () => answered).then((gone) =>
    gone ? 'lapsed' : asked,
  );
  return Promise.race([asked, lapsed]);
}

/** Resolves true once the node's lease lapsed, false once `stop()` says to stop looking. */
async function leaseLapsed(core: ChatCore, node: string, stop: () => boolean): Promise<boolean> {
  while (!stop()) {
    if (!(await core.directory.nodeAlive(node))) return true;
    await new Promise<void>((resolve) => core.clock.setTimeout(resolve, LEASE_POLL_MS));
  }
  return false;
}

/**
 * A node answered a takeover after this node had stopped waiting (the client got
 * `resume_failed`): it has let the session go quietly, its nickname still claimed for
 * this node, which dropped it. Unless this node holds it after all, its entry is released
 * (only while it still names that node: compare-and-set) and its leave announced, as a
 * session that nobody resumed.
 */
export async function handedOverTooLate(
  core: ChatCore,
  handed: HandedOverSession,
  from: string,
): Promise<void> {
  const { summary } = handed;
  if (core.sessionById(summary.id)) return;
  let released: boolean;
  try {
    released = await core.directory.releaseFrom(summary.id, from);
  } catch (error) {
    core.logger.warn({ err: error, session: summary.id }, 'could not release a late hand-over');
    return;
  }
  core.logger.warn(
    { event: 'handover_too_late', session: summary.id, nick: summary.nick, from, released },
    'a session was handed over after this node stopped waiting: ended',
  );
  if (released)
    announceUnseenLeave(
      core,
      {
        session: summary.id,
        nick: summary.nick,
        nickKey: summary.nickKey,
        accountId: summary.account?.id ?? null,
        rooms: summary.rooms,
      },
      core.clock.now(),
    );
}

/**
 * What a session of a dead node was sent after message `seenMid`, from the store: its
 * rooms' messages (the lobby's too) and its private messages, up to the newest
 * message the store shows now (later ones arrive live), each room and the inbox capped as
 * the away log is. Its own messages are not in its log, nor those of people it blocks.
 */
async function fromStore(
  core: ChatCore,
  session: Session,
  seenMid: number | undefined,
): Promise<Replay> {
  if (seenMid === undefined) return { events: [], mids: [], lost: true, rebuilt: true };
  const horizon = await core.store.messages.lastId();
  const found: { id: number; ts: number; payload: EventPayload }[] = [];
  let lost = false;
  for (const key of [LOBBY, ...session.joinedRooms]) {
    const room = key === LOBBY ? undefined : core.rooms.get(key);
    const afterId = Math.max(seenMid, room?.historyFloor ?? 0);
    const messages = await core.store.messages.recentInRoom(
      key,
      AWAY_RING_CAPACITY + 1,
      horizon + 1,
      afterId,
    );
    if (messages.length > AWAY_RING_CAPACITY) {
      lost = true;
      messages.shift();
    }
    for (const message of messages)
      if (replayedTo(session, message.sender))
        found.push({
          id: message.id,
          ts: message.ts,
          payload: missedRoomMessage(message, room?.name ?? LOBBY),
        });
  }
  // An account's from its inbox; a guest's by its key (it has no inbox), the newest
  // `AWAY_RING_CAPACITY` after `seenMid` either way.
  const privates = session.account
    ? (
        await core.store.inbox.list(session.account.id, { all: true, limit: AWAY_RING_CAPACITY })
      ).filter((entry) => entry.id > seenMid && entry.id <= horizon)
    : await core.store.inbox.forGuest(
        session.guestKey,
        { afterId: seenMid, upToId: horizon },
        AWAY_RING_CAPACITY + 1,
      );
  if (privates.length > AWAY_RING_CAPACITY) {
    lost = true;
    privates.shift();
  }
  for (const entry of privates)
    if (replayedTo(session, entry.sender))
      found.push({ id: entry.id, ts: entry.ts, payload: missedPrivate(entry) });
  found.sort((a, b) => a.id - b.id);
  if (session.account) {
    // Shown as missed is read, as the login backlog has it: `/inbox` lists them no more.
    const ids = found.filter((item) => item.payload.ev === 'private').map((item) => item.id);
    await core.store.inbox.markDelivered(session.account.id, ids, core.clock.now());
    await core.store.inbox.markRead(session.account.id, ids, core.clock.now());
  }
  return {
    events: found.map((item) => core.events.make(item.payload, item.ts)),
    mids: found.map((item) => item.id),
    lost,
    rebuilt: true,
  };
}

/** After the reply: the session's new connection gets the replay, its rooms, then live events. */
function attach(
  core: ChatCore,
  session: Session,
  link: Link,
  replay: Replay,
  release: ReturnType<Session['holdEvents']>,
): void {
  const rooms: ChatEvent[] = [];
  for (const key of session.joinedRooms) {
    const room = core.rooms.get(key);
    if (room) rooms.push(core.events.make(roomEntered(room, true)));
  }
  const text = moveNotice(replay);
  const notice = text === undefined ? [] : [core.events.make({ ev: 'notice', text })];
  if (link.isClosed) {
    // Gone again before it was back: the session waits here for another resume.
    session.link = null;
    if (!core.resume.hold(session)) core.endSession(session, 'dropped');
    release([...replay.events, ...rooms, ...notice], replay.mids, replay.ids);
    return;
  }
  link.session = session;
  core.requestGuard.loggedIn(link);
  core.addresses.connected(session, link.outlet.address);
  release([...replay.events, ...rooms, ...notice], replay.mids, replay.ids);
}

/**
 * What the client is told it may have missed in the move, if anything. A handed-over log
 * is whole unless events fell out of it. A replay rebuilt from the store after the old
 * node's death never has what was not stored: joins, leaves, topic changes and notices; the
 * client is always told, since it cannot tell otherwise.
 */
function moveNotice(replay: Replay): string | undefined {
  if (!replay.rebuilt)
    return replay.lost
      ? 'Your session moved to another server node; some events from the move could not be kept and are missing (/history has the rooms’ messages)'
      : undefined;
  const missing: string[] = [];
  if (replay.lost) missing.push('some messages (/history has the rooms’ messages)');
  missing.push('joins, leaves, topic changes and notices');
  return `Your server node stopped and your session moved to another: the messages stored for you meanwhile are replayed, but ${missing.join('; ')} from then are missing (/members and /topic show your rooms as they are now)`;
}
