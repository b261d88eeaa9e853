import type { Bus, BusEnvelope, BusTarget, EventEnvelope } from '../bus/bus.js';
import type { Parameters } from '../config/parameters.js';
import type { Telemetry } from '../telemetry/telemetry.js';
import type { SessionTable } from './directory/session-table.js';
import type { ChatEvent, EventFactory, EventPayload } from './events.js';
import { LOBBY } from './rooms/lobby.js';
import type { RoomRegistry } from './rooms/room-registry.js';
import type { DirectoryEntry } from './directory/directory.js';
import { Session } from './session.js';
import { ReceivedMessages } from './nodes/received-messages.js';

export interface DeliveryDeps {
  readonly bus: Bus;
  readonly events: EventFactory;
  readonly sessions: SessionTable;
  readonly rooms: RoomRegistry;
  readonly params: () => Parameters;
  readonly telemetry: Telemetry;
  /** Sessions just ended by a login over them: what they are still sent is kept. */
  readonly replaced: { readonly size: number; offer(message: EventEnvelope): void };
  /** What the bus brings that is not an event (control, requests, heartbeats…). */
  readonly otherwise: (envelope: Exclude<BusEnvelope, EventEnvelope>) => void;
}

/**
 * Delivery of events: stamping and publishing through the bus, and, for what the bus
 * brings back, handing each event to the matching sessions this node holds. The part of
 * the core a cluster spreads over nodes: publishing goes to every node, delivery is local.
 */
export class Delivery {
  private readonly unsubscribe: () => void;
  /** Messages the bus brought here lately: see `replayBusGap`. */
  readonly received = new ReceivedMessages();

  constructor(private readonly deps: DeliveryDeps) {
    // One subscription per core: events here, everything else to the node link.
    this.unsubscribe = deps.bus.subscribe((envelope: BusEnvelope) => {
      if (envelope.type === 'event') this.deliverLocally(envelope);
      else deps.otherwise(envelope);
    });
  }

  /**
   * Who hears that `session` came, went or changed its name: everyone while the crowd (it
   * included) is small; above `presence.announceMax` online, only those who share a room,
   * since a notice to everyone for every login grows with the square of the crowd.
   */
  presenceAudience(session: Session): BusTarget {
    return this.presenceAudienceOf(session.joinedRooms);
  }

  /** `presenceAudience` of someone in these rooms (besides the lobby), held here or not. */
  presenceAudienceOf(rooms: Iterable<string>): BusTarget {
    if (this.deps.sessions.size <= this.deps.params()['presence.announceMax'])
      return { kind: 'everyone' };
    return { kind: 'rooms', rooms: [...rooms] };
  }

  /** Stamps an event and sends it through the bus to every node's matching sessions. */
  publish(
    target: BusTarget,
    payload: EventPayload,
    options: { exclude?: Session; senderKey?: string; ts?: number } = {},
  ): ChatEvent {
    const event = this.deps.events.make(payload, options.ts);
    this.publishEvent(target, event, options.exclude, options.senderKey);
    return event;
  }

  /**
   * Sends an event already stamped (`EventFactory.id`) through the bus: the message path
   * builds its event in one object, without a payload to copy or an options object.
   * `exclude` does not get it; sessions blocking `senderKey` do not either.
   */
  publishEvent(
    target: BusTarget,
    event: ChatEvent,
    exclude: Session | undefined,
    senderKey: string | undefined,
  ): void {
    const { bus } = this.deps;
    // One object per event, always of the same shape (no spread of optional parts): an
    // absent field is undefined, which JSON leaves out for a bus that serialises.
    const message: EventEnvelope = {
      type: 'event',
      origin: bus.nodeId,
      target,
      event,
      excludeSession: exclude?.id,
      senderKey,
    };
    bus.publish(message);
  }

  /** Sends an event to one session only. */
  sendTo(session: Session, payload: EventPayload): void {
    session.deliver(this.deps.events.make(payload));
  }

  /** Sends an event to one session wherever it is: here, or on the directory's node. */
  notify(target: Session | DirectoryEntry, payload: EventPayload): void {
    if (target instanceof Session) this.sendTo(target, payload);
    else if (target.node === this.deps.bus.nodeId) {
      const session = this.deps.sessions.get(target.session);
      if (session) this.sendTo(session, payload);
    } else this.sendToRemote(target.node, target.session, payload);
  }

  /** Sends an event to one session of another node, through the bus to that node only. */
  sendToRemote(node: string, session: string, payload: EventPayload): void {
    const { bus, events } = this.deps;
    bus.sendTo(node, {
      type: 'event',
      origin: bus.nodeId,
      target: { kind: 'sessions', ids: [session] },
      event: events.make(payload),
    });
  }

  /** Stops taking the bus's messages (the core is shutting down). */
  stop(): void {
    this.unsubscribe();
  }

  private deliverLocally(message: EventEnvelope): void {
    const { target, event } = message;
    if (event.ev === 'message' || event.ev === 'private') this.received.add(event.mid, event.ts);
    let recipients = 0;
    if (target.kind === 'sessions') {
      // A private message: its few recipients by id, without a generator per event.
      const { sessions } = this.deps;
      for (let index = 0; index < target.ids.length; index++) {
        const session = sessions.get(target.ids[index]!);
        if (session && this.deliverTo(session, message)) recipients++;
      }
    } else if (target.kind === 'room' || target.kind === 'everyone') {
      // A room's fan-out walks the members' set itself: through the generator below, each
      // member was one more generator step and one result object (about 40 bytes per
      // delivery, 4 KB per message to a room of 100).
      const { sessions, rooms } = this.deps;
      const members =
        target.kind === 'everyone' || target.room === LOBBY
          ? sessions.values()
          : rooms.get(target.room)?.members.values();
      if (members !== undefined)
        for (const session of members) if (this.deliverTo(session, message)) recipients++;
    } else {
      for (const session of this.resolveTarget(target))
        if (this.deliverTo(session, message)) recipients++;
    }
    if (recipients > 0) this.deps.telemetry.fannedOut(recipients);
    if (this.deps.replaced.size > 0) this.deps.replaced.offer(message);
  }

  /** Hands the event to one matching session; false when it is skipped. */
  private deliverTo(session: Session, message: EventEnvelope): boolean {
    if (session.id === message.excludeSession) return false;
    // Blocking is silent: the blocked sender is never told.
    if (message.senderKey !== undefined && session.blocks.has(message.senderKey)) return false;
    session.deliver(message.event);
    return true;
  }

  private *resolveTarget(target: BusTarget): Iterable<Session> {
    const { sessions, rooms } = this.deps;
    switch (target.kind) {
      case 'everyone':
        yield* sessions.values();
        return;
      case 'room':
        if (target.room === LOBBY) yield* sessions.values();
        else yield* rooms.get(target.room)?.members.values() ?? [];
        return;
      case 'rooms': {
        const seen = new Set<Session>();
        for (const key of target.rooms)
          for (const member of rooms.get(key)?.members.values() ?? [])
            if (!seen.has(member)) {
              seen.add(member);
              yield member;
            }
        return;
      }
      case 'nicks':
        for (const key of target.keys) {
          const session = sessions.findByNick(key);
          if (session) yield session;
        }
        return;
      case 'admins':
        for (const session of sessions.values())
          if (session.isAdmin && !target.except.includes(session.id)) yield session;
        return;
      case 'sessions':
        for (const id of target.ids) {
          const session = sessions.get(id);
          if (session) yield session;
        }
        return;
    }
  }
}
