import type { InboxEntry, StoredMessage } from '../../store/store.js';
import type { ChatCore } from '../chat-core.js';
import { LOBBY } from './lobby.js';
import type { EventPayload } from '../events.js';
import { nameKey } from '../names.js';
import type { Session } from '../session.js';
import { roomEntered, type Room } from './room.js';

interface Missed {
  readonly id: number;
  readonly ts: number;
  readonly from: string;
  readonly payload: EventPayload;
}

/**
 * What a session is told right after its login reply: the rooms it is back in, then, for
 * an account, the private messages stored while it was away and what was said in its rooms
 * (the lobby included) since it was last seen, each room capped at `history.replay`, all
 * in the order of their ids and marked `replay: 'missed'`.
 *
 * Called at login once the session receives live events (subscribe first, then read):
 * live events are held from then on, the store is read, and the backlog goes out before
 * the held events, minus those the backlog carried already (the same message id). The
 * horizon (the newest id the store shows after the session subscribed) keeps messages
 * sent after the login live rather than replayed; any message it lets into the backlog
 * that also came live is dropped as a duplicate. So nothing is missed and nothing comes
 * twice whatever the store's latency, relying only on the store contract: what committed
 * before a read began is visible to it, and ids are unique.
 */
export function prepareLoginBacklog(
  core: ChatCore,
  session: Session,
  restoredRooms: readonly Room[],
  /** Messages up to this id were shown by the client before (a crash, a lost connection). */
  seenMid = 0,
): () => Promise<void> {
  const account = session.account;
  // A guest has no rooms to restore and nothing stored for it.
  if (!account) return async () => undefined;
  const release = session.holdEvents();
  const horizon = core.store.messages.lastId();
  // After the last-seen write of a session this login replaced (here; another node's
  // takeover answers once its own is stored), or the replay could start from before it.
  const stored = core
    .lastSeenWritten(account.id)
    .then(() => core.store.accounts.findById(account.id));
  // Never left unobserved: a failure is reported by the backlog below.
  horizon.catch(() => undefined);
  // Once the replay's start is read, the login is a last-seen checkpoint of its own: a
  // crash before the next periodic one does not replay this backlog a second time. (An
  // account never seen before gets no room replay at all: nothing to move on.)
  stored.then(
    (before) => {
      if (before && before.lastSeenAt !== null) core.lastSeen.loggedIn(session);
    },
    () => undefined,
  );
  return async () => {
    const entered = restoredRooms.map((room) => core.events.make(roomEntered(room, true)));
    let missed: Missed[];
    let capped: string[];
    try {
      ({ missed, capped } = await readBacklog(
        core,
        session,
        account.id,
        await horizon,
        await stored,
        seenMid,
      ));
    } catch (error) {
      release(entered, []);
      core.logger.error({ err: error, session: session.id }, 'could not deliver the login backlog');
      core.sendTo(session, {
        ev: 'notice',
        text: 'Messages you missed could not be loaded now; /inbox and /history show them',
      });
      return;
    }
    const replay = missed.filter((item) => !session.blocks.has(nameKey(item.from)));
    release(
      [
        ...entered,
        ...(capped.length > 0 ? [core.events.make(cappedNotice(core, capped))] : []),
        ...replay.map((item) => core.events.make(item.payload, item.ts)),
      ],
      replay.map((item) => item.id),
    );
    // A session that ended meanwhile gets its private messages at the next login.
    if (core.findSession(session.nickKey) !== session) return;
    try {
      const delivered = missed.filter((item) => item.payload.ev === 'private').map((m) => m.id);
      await core.store.inbox.markDelivered(account.id, delivered, core.clock.now());
      // Shown as missed is read: `/inbox` lists only what the person has not seen, so a
      // bot reading both does not handle a message twice.
      await core.store.inbox.markRead(account.id, delivered, core.clock.now());
      const unread = await core.store.inbox.unreadCount(account.id);
      if (unread > 0)
        core.sendTo(session, {
          ev: 'notice',
          text: `You have ${unread} unread private message${unread === 1 ? '' : 's'}: /inbox lists them`,
        });
    } catch (error) {
      core.logger.error({ err: error, session: session.id }, 'could not mark the backlog read');
    }
  };
}

/**
 * Told before a backlog that had to leave out older messages of some rooms: without it,
 * a person back from a long absence would take the newest `history.replay` for all that
 * was said.
 */
function cappedNotice(core: ChatCore, rooms: readonly string[]): EventPayload {
  const limit = core.params['history.replay'];
  const names = rooms.map((room) => (room === LOBBY ? 'the lobby' : `#${room}`)).join(', ');
  return {
    ev: 'notice',
    text: `More was said while you were away than is replayed here (the last ${limit} per room) in ${names}: /history shows older messages`,
  };
}

/**
 * The account's stored private messages and its rooms' messages since it was last seen;
 * `capped` names the rooms (by name) where more was said than the replay carries.
 */
async function readBacklog(
  core: ChatCore,
  session: Session,
  accountId: number,
  upToId: number,
  before: { lastSeenAt: number | null } | undefined,
  seenMid: number,
): Promise<{ missed: Missed[]; capped: string[] }> {
  const lastSeenAt = before?.lastSeenAt ?? null;
  const missed: Missed[] = [];
  const capped: string[] = [];
  // What the client says it has seen cuts the replay only where that says what else it
  // has seen: on a node alone, messages reach it in id order. In a cluster a message with
  // a smaller id can arrive after a greater one, so the whole window is replayed (clients
  // recognise a message they have by its mid).
  const seenUpTo = core.idOrdered ? seenMid : 0;
  for (const entry of await core.store.inbox.undelivered(accountId, upToId))
    missed.push({ id: entry.id, ts: entry.ts, from: entry.sender, payload: missedPrivate(entry) });
  const limit = core.params['history.replay'];
  if (lastSeenAt !== null && limit > 0) {
    for (const key of [LOBBY, ...session.joinedRooms]) {
      const room = key === LOBBY ? undefined : core.rooms.get(key);
      if (key !== LOBBY && !room) continue;
      // One more than the replay carries tells whether anything older was left out.
      const messages = (
        await core.store.messages.missedInRoom(
          key,
          { sinceTs: lastSeenAt, afterId: Math.max(room?.historyFloor ?? 0, seenUpTo), upToId },
          limit + 1,
        )
      ).filter((message) => !room || message.ts >= room.createdAt);
      if (messages.length > limit) {
        messages.splice(messages.indexOf(sentFirst(messages)), 1);
        capped.push(room?.name ?? LOBBY);
      }
      for (const message of messages) missed.push(roomMessage(message, room?.name ?? LOBBY));
    }
  }
  return { missed: missed.sort((a, b) => a.id - b.id), capped };
}

/** The one sent first (by `ts`, then id: the order `missedInRoom` keeps the newest by). */
function sentFirst(messages: readonly StoredMessage[]): StoredMessage {
  return messages.reduce((first, message) =>
    message.ts < first.ts || (message.ts === first.ts && message.id < first.id) ? message : first,
  );
}

function roomMessage(message: StoredMessage, roomName: string): Missed {
  return {
    id: message.id,
    ts: message.ts,
    from: message.sender,
    payload: missedRoomMessage(message, roomName),
  };
}

/**
 * Whether a replay rebuilt from the store (a resume after a node's death, a gap in the
 * bus) shows `session` a message from `sender`: never its own, which its log never held,
 * nor one from someone it blocks.
 */
export function replayedTo(session: Session, sender: string): boolean {
  const key = nameKey(sender);
  return key !== session.nickKey && !session.blocks.has(key);
}

/** A stored room message replayed to someone who missed it (login backlog, resume). */
export function missedRoomMessage(message: StoredMessage, roomName: string): EventPayload {
  return {
    ev: 'message',
    mid: message.id,
    room: roomName,
    from: message.sender,
    text: message.text,
    replay: 'missed',
  };
}

/** A stored private message replayed to a recipient who missed it (login backlog, resume). */
export function missedPrivate(entry: InboxEntry): EventPayload {
  return {
    ev: 'private',
    mid: entry.id,
    from: entry.sender,
    to: entry.to,
    text: entry.text,
    replay: 'missed',
  };
}
