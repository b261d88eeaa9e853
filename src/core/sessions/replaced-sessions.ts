import type { BusTarget, EventEnvelope } from '../../bus/bus.js';
import type { BlockList } from '../blocking/block-registry.js';
import type { ChatCore } from '../chat-core.js';
import type { TimerHandle } from '../clock.js';
import type { ChatEvent } from '../events.js';
import { AWAY_RING_CAPACITY } from '../resume/event-ring.js';
import { LOBBY } from '../rooms/lobby.js';
import type { Session } from '../session.js';

/**
 * How long the messages of a replaced session wait for the login that replaced it: longer
 * than that login may take from the old session's end to its subscription (a takeover from
 * another node waits up to its request timeout, then claims).
 */
const KEEP_MS = 15_000;

/** A replaced session's messages after its end, and what it would have matched. */
interface Kept {
  readonly session: string;
  readonly nickKey: string;
  readonly accountId: number;
  readonly rooms: ReadonlySet<string>;
  readonly blocks: BlockList;
  readonly events: ChatEvent[];
  readonly timer: TimerHandle;
}

/**
 * The messages a session ended by a login over it (`replaced`) is sent after its end, kept
 * for that login. Between the old session's end and the new one's subscription (its
 * directory claim, a takeover on another node) a message fanned out reaches neither: it
 * was stamped before the old session's last seen, so the new login's replay, which starts
 * there, does not carry it either. So whatever would have reached the old session is kept
 * here until the new one, once it receives live events, takes it (`take`, or the
 * `replaced-events` request from another node); duplicates of what it then receives live
 * or replayed are dropped by event id and message id (`Session.holdEvents`).
 *
 * Only messages (room and private) are kept: presence, topics and notices describe a
 * state the new session is told afresh. Kept messages nobody takes (the new login failed)
 * are, for private ones, marked undelivered so they come at the account's next login.
 */
export class ReplacedSessions {
  private readonly kept = new Map<string, Kept>();

  constructor(private readonly core: ChatCore) {}

  /** How many ended sessions' messages are kept: delivery asks only while there are some. */
  get size(): number {
    return this.kept.size;
  }

  /** `session` is ending, replaced by a new login of its account: keep what it is sent. */
  keep(session: Session): void {
    const account = session.account;
    if (!account) return;
    const id = session.id;
    this.kept.set(id, {
      session: id,
      nickKey: session.nickKey,
      accountId: account.id,
      rooms: new Set(session.joinedRooms),
      blocks: session.blocks,
      events: [],
      timer: this.core.clock.setTimeout(() => this.expire(id), KEEP_MS),
    });
  }

  /** Delivery: an event this node hands to its sessions; kept where the ended one matches. */
  offer(message: EventEnvelope): void {
    const { event } = message;
    if ((event.ev !== 'message' && event.ev !== 'private') || event.replay !== undefined) return;
    for (const kept of this.kept.values()) {
      if (message.excludeSession === kept.session) continue;
      if (message.senderKey !== undefined && kept.blocks.has(message.senderKey)) continue;
      if (!matches(message.target, kept)) continue;
      if (kept.events.length >= AWAY_RING_CAPACITY) {
        this.core.logger.warn(
          { event: 'replaced_overflow', session: kept.session },
          'too many messages for a replaced session: later ones are not kept',
        );
        continue;
      }
      kept.events.push(event);
    }
  }

  /**
   * The login that replaced `session` receives live events now: what the ended session
   * was sent since its end, oldest first ([] when nothing is kept here), no longer kept.
   */
  take(session: string): ChatEvent[] {
    const kept = this.kept.get(session);
    if (!kept) return [];
    this.kept.delete(session);
    this.core.clock.clearTimeout(kept.timer);
    return kept.events;
  }

  /** The core stops: nothing waits any more. */
  stop(): void {
    for (const id of [...this.kept.keys()]) this.expire(id);
  }

  /** Nobody took them: private messages wait for the account's next login. */
  private expire(session: string): void {
    const kept = this.kept.get(session);
    if (!kept) return;
    this.kept.delete(session);
    this.core.clock.clearTimeout(kept.timer);
    const mids = kept.events.flatMap((event) => (event.ev === 'private' ? [event.mid] : []));
    if (mids.length === 0) return;
    this.core.store.inbox.markUndelivered(kept.accountId, mids).catch((error: unknown) => {
      this.core.logger.warn(
        { err: error, account: kept.accountId, messages: mids },
        'could not keep the private messages of a replaced session for the next login',
      );
    });
  }
}

/** Whether an event for `target` would have reached the ended session. */
function matches(target: BusTarget, kept: Kept): boolean {
  switch (target.kind) {
    case 'everyone':
      return true;
    case 'room':
      return target.room === LOBBY || kept.rooms.has(target.room);
    case 'rooms':
      return target.rooms.some((room) => kept.rooms.has(room));
    case 'nicks':
      return target.keys.includes(kept.nickKey);
    case 'sessions':
      return target.ids.includes(kept.session);
    case 'admins':
      return false;
  }
}
