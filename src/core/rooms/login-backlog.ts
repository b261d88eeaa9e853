import type { StoredMessage } from '../../store/store.js';
import { LOBBY, type ChatCore } from '../chat-core.js';
import type { EventPayload } from '../events.js';
import { nameKey } from '../names.js';
import type { Session } from '../session.js';
import type { Room } from './room.js';

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
 * in the order they were sent and marked `replay: 'missed'`.
 *
 * Called synchronously at login: the store is asked for the account's last-seen time and
 * the newest message id at that instant, so messages after the login arrive live and the
 * backlog stops where live delivery began (nothing twice, nothing lost in between).
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
  const horizon = core.store.messages.lastId();
  const stored = core.store.accounts.findById(account.id);
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
    for (const room of restoredRooms)
      core.sendTo(session, {
        ev: 'room_entered',
        room: room.name,
        owner: room.ownerName,
        topic: room.topic,
        restored: true,
      });
    try {
      const upToId = await horizon;
      const lastSeenAt = (await stored)?.lastSeenAt ?? null;
      const missed: Missed[] = [];
      for (const entry of await core.store.inbox.undelivered(account.id, upToId))
        missed.push({
          id: entry.id,
          ts: entry.ts,
          from: entry.sender,
          payload: {
            ev: 'private',
            mid: entry.id,
            from: entry.sender,
            to: entry.to,
            text: entry.text,
            replay: 'missed',
          },
        });
      const limit = core.params['history.replay'];
      if (lastSeenAt !== null && limit > 0) {
        for (const key of [LOBBY, ...session.joinedRooms]) {
          const room = key === LOBBY ? undefined : core.rooms.get(key);
          if (key !== LOBBY && !room) continue;
          const messages = await core.store.messages.missedInRoom(
            key,
            { sinceTs: lastSeenAt, afterId: Math.max(room?.historyFloor ?? 0, seenMid), upToId },
            limit,
          );
          for (const message of messages) missed.push(roomMessage(message, room?.name ?? LOBBY));
        }
      }
      missed.sort((a, b) => a.id - b.id);
      // A session that ended meanwhile gets its private messages at the next login.
      if (core.findSession(session.nickKey) !== session) return;
      for (const item of missed) {
        if (session.blocks.has(nameKey(item.from))) continue;
        session.deliver(core.events.make(item.payload, item.ts));
      }
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
      core.logger.error({ err: error, session: session.id }, 'could not deliver the login backlog');
      core.sendTo(session, {
        ev: 'notice',
        text: 'Messages you missed could not be loaded now; /inbox and /history show them',
      });
    }
  };
}

function roomMessage(message: StoredMessage, roomName: string): Missed {
  return {
    id: message.id,
    ts: message.ts,
    from: message.sender,
    payload: {
      ev: 'message',
      mid: message.id,
      room: roomName,
      from: message.sender,
      text: message.text,
      replay: 'missed',
    },
  };
}
