import type {
  Answer,
  BusEnvelope,
  EventEnvelope,
  Control,
  HandedOverSession,
  Invalidation,
  Query,
  RoomInfo,
  SessionSummary,
} from '../../bus/bus.js';
import { NodeLiveness } from '../../bus/liveness.js';
import { BusRequests, REQUEST_TIMEOUT_MS } from '../../bus/requests.js';
import { replaceSession } from '../accounts/login.js';
import { removeSession } from '../admin/targets.js';
import type { ChatCore } from '../chat-core.js';
import type { DirectoryEntry } from '../directory/directory.js';
import { StoreUnavailableError } from '../../store/store.js';
import { ChatError, ERROR_CODES } from '../errors.js';
import { notInRoom, removeFromRoom, type Remover } from '../rooms/room-removal.js';
import type { Room } from '../rooms/room.js';
import type { ChatEvent } from '../events.js';
import type { Session } from '../session.js';
import { handedOverTooLate } from '../resume/resume-elsewhere.js';
import { AbandonedSessions } from './abandoned-sessions.js';

/** What a node tells about one of its sessions. */
export function summarize(core: ChatCore, session: Session): SessionSummary {
  return {
    id: session.id,
    node: core.bus.nodeId,
    nick: session.nick,
    nickKey: session.nickKey,
    account: session.account,
    loginAt: session.connectedAt,
    lastInputAt: session.lastInputAt,
    away: session.awayMessage,
    connected: session.link !== null,
    address: session.link?.outlet.address ?? null,
    rooms: [...session.joinedRooms],
  };
}

export function roomInfo(room: Room): RoomInfo {
  return {
    key: room.key,
    name: room.name,
    ownerName: room.ownerName,
    ownerAccountId: room.owner.kind === 'account' ? room.owner.accountId : null,
    storeId: room.storeId,
    historyFloor: room.historyFloor,
    createdAt: room.createdAt,
    topic: room.topic,
  };
}

/**
 * This node's end of the bus, past events: requests to other nodes (who, whois, members,
 * takeover) and the answers to theirs, control messages for the sessions this node owns,
 * invalidated caches reloaded from the store, and heartbeats. Alone on its bus, a node
 * asks and answers itself, so one code path serves one node and many.
 */
export class NodeLink {
  readonly liveness: NodeLiveness;
  /** Dead nodes' sessions nobody resumed: announced gone by one surviving node. */
  readonly abandoned: AbandonedSessions;
  private readonly requests: BusRequests;
  /** Reloads other nodes' changes started and not yet finished (a barrier waits for them). */
  private readonly reloading = new Set<Promise<void>>();

  constructor(private readonly core: ChatCore) {
    this.liveness = new NodeLiveness(core.bus, core.clock, () => core.onlineCount);
    this.requests = new BusRequests(
      core.bus,
      core.clock,
      (query) => this.answer(query),
      REQUEST_TIMEOUT_MS,
      (_query, answer, from) => {
        if (answer.type === 'handed-over' && answer.session)
          void handedOverTooLate(core, answer.session, from);
      },
    );
    this.abandoned = new AbandonedSessions(core);
    this.liveness.onNodeLost((node) => {
      core.logger.warn({ event: 'node_lost', lost: node }, 'a node stopped answering');
      void core.directory.forgetNode(node);
    });
  }

  start(): void {
    this.liveness.start();
    this.abandoned.start();
  }

  stop(): void {
    this.liveness.stop();
    this.abandoned.stop();
    this.requests.stop();
  }

  // ---- asking ------------------------------------------------------------------------

  /** Every session online, on every node that answers. */
  async who(): Promise<SessionSummary[]> {
    return sessionsOf(await this.requests.askAll(this.liveness.liveNodes(), { type: 'who' }));
  }

  async whois(entry: DirectoryEntry): Promise<SessionSummary | undefined> {
    const answer = await this.askOwner(entry, { type: 'whois', nickKey: entry.nickKey });
    return answer ? sessionsOf([answer])[0] : undefined;
  }

  /** The online members of a room, on every node. */
  async members(room: string): Promise<SessionSummary[]> {
    const nodes = this.liveness.liveNodes();
    return sessionsOf(await this.requests.askAll(nodes, { type: 'members', room }));
  }

  /**
   * Resolves once every live node has handled what this node sent before (each answers a
   * `barrier` after the envelopes that came before it), or a silent one's answer timed out.
   */
  async barrier(): Promise<void> {
    await this.requests.askAll(this.liveness.liveNodes(), { type: 'barrier' });
  }

  /**
   * Resolves once every message on its way on any live node when asked has been fanned
   * out (see the `drain` query), or a silent node's answer timed out. A session that
   * quits waits for it, so a message stamped before its quit is not fanned out after it,
   * reaching neither the session nor (stamped before its last seen) its next login.
   */
  async drain(): Promise<void> {
    await this.requests.askAll(this.liveness.liveNodes(), { type: 'drain' });
  }

  /**
   * The messages `session`, ended on `node` by a login here over it, was sent after its
   * end (see `ReplacedSessions`); that node keeps them no longer.
   */
  async replacedEvents(node: string, session: string): Promise<readonly ChatEvent[]> {
    const answer = await this.requests.ask(node, { type: 'replaced-events', session });
    return answer.type === 'events' ? answer.events : [];
  }

  /** Ends another node's session so its account may log in here; false if it could not. */
  async takeover(entry: DirectoryEntry): Promise<boolean> {
    const answer = await this.askOwner(entry, { type: 'takeover', session: entry.session });
    return answer?.type === 'done' && answer.ok;
  }

  /**
   * Asks the node holding `entry`'s session to take it out of `room` (`/remove`).
   * Resolves once done (its events are published before the answer, so they reach this
   * node first); rejects with the error that node gave (not in the room, its owner), or
   * `server_busy` when it did not answer.
   */
  async removeFromRoom(
    entry: DirectoryEntry,
    room: Room,
    by: Remover,
    reason: string | undefined,
  ): Promise<void> {
    const answer = await this.askOwner(entry, {
      type: 'remove-from-room',
      session: entry.session,
      room: room.key,
      by: by.nick,
      admin: by.admin,
      ...(reason !== undefined && { reason }),
    });
    if (answer?.type === 'refused')
      throw new ChatError(answer.code, answer.message, answer.details && { ...answer.details });
    if (answer?.type === 'done' && !answer.ok) throw notInRoom(entry.nick, room.name);
    if (answer?.type !== 'done')
      throw new ChatError('server_busy', `The node holding ${entry.nick} did not answer`);
  }

  /**
   * Asks `node` to hand over a session whose client resumes here: the handed-over
   * session, null when that node does not hold it, undefined when it did not answer
   * within `timeoutMs` (dead, or stalled). An answer after that is not lost: the session
   * it hands over is ended properly (`handedOverTooLate`).
   */
  async resumeTakeover(
    node: string,
    session: string,
    lastEventId: number | undefined,
    timeoutMs: number,
  ): Promise<HandedOverSession | null | undefined> {
    const query: Query =
      lastEventId === undefined
        ? { type: 'resume-takeover', session }
        : { type: 'resume-takeover', session, lastEventId };
    let answer: Answer;
    try {
      answer = await this.requests.ask(node, query, timeoutMs);
    } catch {
      return undefined;
    }
    return answer.type === 'handed-over' ? answer.session : null;
  }

  // ---- telling -----------------------------------------------------------------------

  /** A control message for the node that owns `entry`'s session. */
  control(entry: DirectoryEntry, control: Control): void {
    const { bus } = this.core;
    bus.sendTo(entry.node, { type: 'control', origin: bus.nodeId, control });
  }

  /** A change to shared state (rooms) for every other node. */
  broadcast(control: Control): void {
    const { bus } = this.core;
    bus.publish({ type: 'control', origin: bus.nodeId, control });
  }

  /**
   * An account was deleted from the store: this node forgets it now, every other node
   * when the control reaches it.
   */
  accountDeleted(accountId: number): void {
    this.forgetAccount(accountId);
    this.broadcast({ type: 'account-deleted', accountId });
  }

  /**
   * This node changed something in the store that other nodes keep a copy of. Resolves
   * once every live node has reloaded its copy (the barrier after it waits for their
   * reloads), so an admin's reply means the ban, suspension, lock, block or setting holds
   * on every node, not only once the reload happens to land.
   */
  async invalidate(invalidation: Invalidation): Promise<void> {
    const { bus } = this.core;
    bus.publish({ type: 'invalidate', origin: bus.nodeId, invalidation });
    await this.barrier();
  }

  // ---- receiving ---------------------------------------------------------------------

  /** What the bus brought this node, but events (the core's delivery takes those). */
  receive(envelope: Exclude<BusEnvelope, EventEnvelope>): void {
    switch (envelope.type) {
      case 'heartbeat':
        this.liveness.handle(envelope);
        return;
      case 'request':
      case 'response':
        this.requests.handle(envelope);
        return;
      case 'control':
        this.onControl(envelope.control, envelope.origin);
        return;
      case 'invalidate':
        // The sender changed its own copy when it wrote the store.
        if (envelope.origin !== this.core.bus.nodeId) {
          const reloading = this.reload(envelope.invalidation)
            .catch((error: unknown) =>
              this.core.logger.error(
                { err: error, invalidation: envelope.invalidation },
                'could not reload after a change on another node',
              ),
            )
            .finally(() => this.reloading.delete(reloading));
          this.reloading.add(reloading);
        }
        return;
    }
  }

  private async askOwner(entry: DirectoryEntry, query: Query): Promise<Answer | undefined> {
    try {
      return await this.requests.ask(entry.node, query);
    } catch {
      return undefined;
    }
  }

  private answer(query: Query): Answer | Promise<Answer> {
    const { core } = this;
    switch (query.type) {
      case 'who':
        return {
          type: 'sessions',
          sessions: [...core.onlineSessions()].map((session) => summarize(core, session)),
        };
      case 'whois': {
        const session = core.findSession(query.nickKey);
        return { type: 'sessions', sessions: session ? [summarize(core, session)] : [] };
      }
      case 'members': {
        const room = core.rooms.get(query.room);
        const members = room ? [...room.members.values()] : [...core.onlineSessions()];
        return { type: 'sessions', sessions: members.map((session) => summarize(core, session)) };
      }
      case 'takeover': {
        const session = core.sessionById(query.session);
        if (!session) return { type: 'done', ok: true };
        replaceSession(core, session);
        // Answered once the ended session's last seen is stored: the asking node's login
        // reads it next, for where its replay starts.
        const accountId = session.account?.id;
        const written =
          accountId === undefined ? Promise.resolve() : core.lastSeenWritten(accountId);
        return written.then((): Answer => ({ type: 'done', ok: true }));
      }
      case 'barrier': {
        // After the reloads that envelopes before it started: see `invalidate`.
        if (this.reloading.size === 0) return { type: 'done', ok: true };
        return Promise.all(this.reloading).then((): Answer => ({ type: 'done', ok: true }));
      }
      case 'drain': {
        const settling: Promise<void>[] = [];
        for (const session of core.onlineSessions()) {
          const settled = session.sendsSettled();
          if (settled) settling.push(settled);
        }
        return Promise.all(settling).then((): Answer => ({ type: 'done', ok: true }));
      }
      case 'replaced-events':
        return { type: 'events', events: core.replaced.take(query.session) };
      case 'resume-takeover':
        return {
          type: 'handed-over',
          session: core.resume.handOver(query.session, query.lastEventId),
        };
      case 'remove-from-room':
        return this.removeHere(query);
    }
  }

  /**
   * Another node's `/remove` of a session held here; see `removeFromRoom`. Answers `done`
   * false when the session or the room is not here (it ended, left or closed meanwhile).
   */
  private async removeHere(query: Extract<Query, { type: 'remove-from-room' }>): Promise<Answer> {
    const { core } = this;
    const session = core.sessionById(query.session);
    const room = core.rooms.get(query.room);
    if (!session || !room) return { type: 'done', ok: false };
    try {
      await removeFromRoom(
        core,
        room,
        session,
        { nick: query.by, admin: query.admin },
        query.reason,
      );
      return { type: 'done', ok: true };
    } catch (error) {
      if (error instanceof ChatError)
        return {
          type: 'refused',
          code: error.code,
          message: error.message,
          ...(error.details !== undefined && { details: error.details }),
        };
      if (error instanceof StoreUnavailableError)
        return { type: 'refused', code: 'storage_failed', message: ERROR_CODES.storage_failed };
      core.logger.error({ err: error, query }, 'could not remove a session from a room');
      return { type: 'refused', code: 'internal_error', message: ERROR_CODES.internal_error };
    }
  }

  private onControl(control: Control, origin: string): void {
    const { core } = this;
    switch (control.type) {
      case 'end-session': {
        const session = core.sessionById(control.session);
        if (!session) return;
        if (control.notice !== undefined)
          core.sendTo(session, { ev: 'notice', text: control.notice });
        removeSession(
          core,
          session,
          control.message === undefined
            ? { reason: control.reason }
            : { reason: control.reason, message: control.message },
          control.close,
        ).catch((error: unknown) =>
          core.logger.error({ err: error, session: session.id }, 'could not end a session'),
        );
        return;
      }
      case 'exempt': {
        const session = core.sessionById(control.session);
        if (session) core.requestGuard.setExempt(session, control.exempt);
        return;
      }
      case 'room-created':
        if (origin !== core.bus.nodeId) core.rooms.adopt(control.room);
        return;
      case 'room-closed': {
        if (origin === core.bus.nodeId) return;
        for (const member of core.rooms.dropCopy(control.room))
          core.sendTo(member, { ev: 'room_closed', room: control.name, by: control.by });
        return;
      }
      case 'room-member':
        if (origin !== core.bus.nodeId) core.rooms.memberChanged(control);
        return;
      case 'room-topic': {
        const room = core.rooms.get(control.room);
        if (room && origin !== core.bus.nodeId) room.topic = control.topic;
        return;
      }
      case 'account-deleted':
        if (origin !== core.bus.nodeId) this.forgetAccount(control.accountId);
        return;
    }
  }

  /** Drops a deleted account from this node's memory: its rooms, memberships and blocks. */
  private forgetAccount(accountId: number): void {
    this.core.rooms.forgetAccount(accountId);
    this.core.blocks.forgetAccount(accountId);
  }

  private async reload(invalidation: Invalidation): Promise<void> {
    const { core } = this;
    switch (invalidation.what) {
      case 'bans':
      case 'suspensions':
      case 'switches':
        await core.admin.moderation.reload(invalidation.what);
        return;
      case 'blocks':
        await core.blocks.reloadAccount(invalidation.accountId);
        return;
      case 'rooms':
        return;
      case 'config':
        await core.reloadLiveSetting(invalidation.key);
        return;
    }
  }
}

function sessionsOf(answers: readonly Answer[]): SessionSummary[] {
  const sessions: SessionSummary[] = [];
  for (const answer of answers) if (answer.type === 'sessions') sessions.push(...answer.sessions);
  return sessions;
}
