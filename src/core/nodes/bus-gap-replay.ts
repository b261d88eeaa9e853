import type { ChatCore } from '../chat-core.js';
import type { EventPayload } from '../events.js';
import { LOBBY } from '../rooms/lobby.js';
import { missedPrivate, missedRoomMessage, replayedTo } from '../rooms/login-backlog.js';
import type { Session } from '../session.js';
import type { StoredMessage } from '../../store/store.js';

/**
 * How far before the bus went away a replay looks: a message sent just before was perhaps
 * still being stored, or on its way through the broker, when the connection broke.
 */
export const BUS_GAP_LOOKBACK_MS = 2_000;
/** Most messages replayed per room and per session's private messages. */
export const BUS_GAP_REPLAY_MAX = 1_000;

/**
 * After a gap in the bus (the broker went away, or this node's connection to it): what the
 * other nodes fanned out meanwhile never reached this node's sessions, though it is stored
 * (nothing is fanned out unstored). Every session here (those away waiting to be resumed
 * too) gets what was sent to it from `BUS_GAP_LOOKBACK_MS` before `downSince` on, that this
 * node did not receive, marked `replay: "missed"`, then a notice. The ordinary rule for a
 * replay holds: the sessions hold live events first, then the store is read, and a live
 * copy of a replayed message (a node still sending what it held while the broker was away)
 * is dropped by its id. Call it once the bus carries envelopes again.
 */
export async function replayBusGap(core: ChatCore, downSince: number): Promise<void> {
  const since = downSince - BUS_GAP_LOOKBACK_MS;
  const sessions = [...core.onlineSessions()];
  if (sessions.length === 0) return;
  const releases = sessions.map((session) => session.holdEvents());
  const replays = new Map<Session, Missed[]>();
  try {
    const horizon = await core.store.messages.lastId();
    // Read after the hold: a message received from here on is live, and the rest is stored.
    const received = core.receivedMessages.since(since);
    const byRoom = await roomMessages(core, sessions, since, horizon, received.mids);
    for (const session of sessions) {
      const missed: Missed[] = [];
      for (const key of [LOBBY, ...session.joinedRooms])
        for (const message of byRoom.get(key) ?? [])
          if (replayedTo(session, message.from)) missed.push(message);
      for (const entry of await privatesOf(core, session, since, horizon, received.mids))
        if (replayedTo(session, entry.from)) missed.push(entry);
      replays.set(
        session,
        missed.sort((a, b) => a.id - b.id),
      );
    }
    if (!received.complete)
      core.logger.warn(
        { event: 'bus_gap_replay_overlap', since },
        'more messages arrived around the gap than are remembered: a few may be replayed twice',
      );
  } catch (error) {
    core.logger.error({ err: error }, 'could not replay what the bus missed');
    sessions.forEach((session, index) =>
      releases[index]!(
        [
          core.events.make({
            ev: 'notice',
            text: 'This server node lost touch with the others for a moment, and the messages sent meanwhile could not be loaded: /history and /inbox have them',
          }),
        ],
        [],
      ),
    );
    return;
  }
  let replayed = 0;
  const received = core.receivedMessages;
  sessions.forEach((session, index) => {
    const missed = replays.get(session) ?? [];
    replayed += missed.length;
    // Received now, as far as this node goes: a later gap's replay does not send it again.
    for (const item of missed) received.add(item.id, item.ts);
    const notice =
      missed.length === 0
        ? []
        : [
            core.events.make({
              ev: 'notice',
              text: 'This server node lost touch with the others for a moment: the messages above were sent meanwhile; joins, leaves and topic changes from then may be missing (/members and /topic show your rooms as they are now)',
            }),
          ];
    releases[index]!(
      [...missed.map((item) => core.events.make(item.payload, item.ts)), ...notice],
      missed.map((item) => item.id),
    );
  });
  core.logger.info(
    { event: 'bus_gap_replayed', since, sessions: sessions.length, messages: replayed },
    'replayed what the bus missed',
  );
  // Replayed private messages were seen, as the login backlog has it.
  for (const [session, missed] of replays) {
    const account = session.account;
    const ids = missed.filter((item) => item.payload.ev === 'private').map((item) => item.id);
    if (!account || ids.length === 0) continue;
    try {
      await core.store.inbox.markDelivered(account.id, ids, core.clock.now());
      await core.store.inbox.markRead(account.id, ids, core.clock.now());
    } catch (error) {
      core.logger.warn({ err: error, account: account.id }, 'could not mark the replay read');
    }
  }
}

interface Missed {
  readonly id: number;
  readonly ts: number;
  readonly from: string;
  readonly payload: EventPayload;
}

/** Each room's (and the lobby's) messages of the window this node did not receive. */
async function roomMessages(
  core: ChatCore,
  sessions: readonly Session[],
  since: number,
  horizon: number,
  received: ReadonlySet<number>,
): Promise<Map<string, Missed[]>> {
  const keys = new Set<string>([LOBBY]);
  for (const session of sessions) for (const key of session.joinedRooms) keys.add(key);
  const byRoom = new Map<string, Missed[]>();
  for (const key of keys) {
    const room = key === LOBBY ? undefined : core.rooms.get(key);
    if (key !== LOBBY && !room) continue;
    const messages: StoredMessage[] = await core.store.messages.missedInRoom(
      key,
      { sinceTs: since, afterId: room?.historyFloor ?? 0, upToId: horizon },
      BUS_GAP_REPLAY_MAX,
    );
    byRoom.set(
      key,
      messages
        .filter((message) => !received.has(message.id) && (!room || message.ts >= room.createdAt))
        .map((message) => ({
          id: message.id,
          ts: message.ts,
          from: message.sender,
          payload: missedRoomMessage(message, room?.name ?? LOBBY),
        })),
    );
  }
  return byRoom;
}

/** The session's private messages of the window this node did not receive. */
async function privatesOf(
  core: ChatCore,
  session: Session,
  since: number,
  horizon: number,
  received: ReadonlySet<number>,
): Promise<Missed[]> {
  const entries = session.account
    ? await core.store.inbox.list(session.account.id, { all: true, limit: BUS_GAP_REPLAY_MAX })
    : await core.store.inbox.forGuest(
        session.guestKey,
        { afterId: 0, upToId: horizon },
        BUS_GAP_REPLAY_MAX,
      );
  return entries
    .filter((entry) => entry.ts >= since && entry.id <= horizon && !received.has(entry.id))
    .map((entry) => ({
      id: entry.id,
      ts: entry.ts,
      from: entry.sender,
      payload: missedPrivate(entry),
    }));
}
