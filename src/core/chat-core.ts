import { nameSkeleton } from './accounts/confusables.js';
import type { Bus, BusTarget } from '../bus/bus.js';
import type { ServerConfig } from '../config/config.js';
import { isParameterKey, type Parameters } from '../config/parameters.js';
import type { Store } from '../store/store.js';
import { BlockRegistry } from './blocking/block-registry.js';
import { catalogueHash, type CommandInfo } from './catalog.js';
import type { ClosingCode } from '../protocol/closing.js';
import type { Request } from '../protocol/frames.js';
import { PROTOCOL_VERSION, PROTOCOL_VERSIONS, serverFrameMaxBytes } from '../protocol/version.js';
import type { ChatPort, ServerDescription } from './port.js';
import { AdminServices, CONSOLE_ACTOR } from './admin/admin-services.js';
import type { LoginAttempt } from './admin/moderation.js';
import type { NodeIds } from './ids/node-ids.js';
import type { Clock } from './clock.js';
import type { CommandDefinition } from './commands/command.js';
import { Delivery } from './delivery.js';
import type { ReceivedMessages } from './nodes/received-messages.js';
import {
  LocalDirectory,
  type DirectoryEntry,
  type SessionDirectory,
} from './directory/directory.js';
import { SessionTable } from './directory/session-table.js';
import { EventFactory, type ChatEvent, type EventPayload, type LeaveReason } from './events.js';
import { noAuditLog, type AuditLog, type Logger, type MessageLog } from './logger.js';
import { RequestGuard } from './limits/request-guard.js';
import { NAME_MAX_LENGTH } from './names.js';
import { LastSeenCheckpoints } from './presence/last-seen-checkpoints.js';
import { RecentPresence } from './presence/recent-presence.js';
import { LOBBY } from './rooms/lobby.js';
import { RoomRegistry } from './rooms/room-registry.js';
import { NodeLink } from './nodes/node-link.js';
import { RequestDispatcher } from './request-dispatcher.js';
import { SessionsByAddress } from './limits/sessions-by-address.js';
import { ResumeRegistry } from './resume/resume-registry.js';
import { Link, Session, type AccountRef, type Outlet } from './session.js';
import {
  SessionLifecycle,
  type ArrivingSession,
  type SessionObserver,
} from './sessions/session-lifecycle.js';
import { ReplacedSessions } from './sessions/replaced-sessions.js';
import { noTelemetry, type Telemetry } from '../telemetry/telemetry.js';

export { PROTOCOL_VERSION };
export { LOBBY };
export type { SessionObserver };

export interface CoreDeps {
  readonly config: ServerConfig;
  readonly store: Store;
  readonly bus: Bus;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly messageLog: MessageLog;
  /** Admin actions and security events (`logs/audit.log`); none when left out. */
  readonly auditLog?: AuditLog;
  /** Counters and timings for the operator (`/metrics`); none when left out. */
  readonly telemetry?: Telemetry;
  readonly commands: readonly CommandDefinition[];
  readonly version: string;
  /** This node's id blocks: event, session, connection and transfer ids. */
  readonly ids: NodeIds;
  /** Who is online on every node; default: this process only. */
  readonly directory?: SessionDirectory;
  /**
   * No other node shares this store or bus (the embedded default). With a store that
   * appends in call order, this node then fans messages out in id order (see `idOrdered`).
   */
  readonly alone?: boolean;
}

export type { Request };

/**
 * The chat core: sessions, presence, delivery and the one place every command is checked
 * and dispatched. It knows nothing of sockets or encodings: transports hand it requests
 * through a `Link` and receive frames through an `Outlet`.
 *
 * Split along the lines a cluster replaces: who is online (this node's `SessionTable`,
 * every node's `SessionDirectory`), delivery (`Delivery`: publish through the bus, deliver
 * locally) and a session's life (`SessionLifecycle`: login, rename, end). What stays here
 * is connections, wiring and shutdown, and the names commands call.
 */
export class ChatCore implements ChatPort {
  readonly config: ServerConfig;
  readonly store: Store;
  readonly bus: Bus;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly messageLog: MessageLog;
  readonly auditLog: AuditLog;
  readonly telemetry: Telemetry;
  readonly version: string;
  /** Event, session, connection and transfer ids, unique across nodes and restarts. */
  readonly ids: NodeIds;
  readonly events: EventFactory;
  readonly requestGuard: RequestGuard;
  /** Rooms other than the lobby, with their members (the lobby is every session). */
  readonly rooms: RoomRegistry;
  readonly blocks: BlockRegistry;
  /** Who left recently, for `/wholasthr` and `/whois`. */
  readonly recentPresence = new RecentPresence();
  /** Accounts online have their last-seen time written periodically (crash recovery). */
  readonly lastSeen: LastSeenCheckpoints;
  /** Moderation, shutdown countdown, idle timeout and audit (src/core/admin). */
  readonly admin: AdminServices;
  /** Resume tokens and sessions waiting to be resumed. */
  readonly resume: ResumeRegistry;
  /** Messages of sessions just replaced by a login, kept for that login. */
  readonly replaced: ReplacedSessions;
  /** Sessions per address, online and away (the ghost-session limits). */
  readonly addresses = new SessionsByAddress();
  /** Who is online on which node: nickname claims and cross-node lookups. */
  readonly directory: SessionDirectory;
  /** Requests, control messages and invalidations to and from the other nodes. */
  readonly nodes: NodeLink;

  private readonly dispatcher: RequestDispatcher;
  private readonly delivery: Delivery;
  private readonly sessions = new SessionTable();
  private readonly lifecycle: SessionLifecycle;
  /** Hash of the catalogue as sent; every greeting names it, clients cache by it. */
  readonly catalogueHash: string;
  /**
   * Every session of this store gets its messages in id order: this node is alone and
   * its store commits and resolves appends in call order (`MessageStore.appendsInOrder`).
   * Then a client that received message N received every earlier one meant for it, and
   * its `seenMid` may cut the login backlog; in a cluster (messages from several nodes
   * interleave on the bus) or on a store without that order it may not.
   */
  readonly idOrdered: boolean;
  private readonly links = new Set<Link>();
  private shuttingDown = false;

  constructor(deps: CoreDeps) {
    this.config = deps.config;
    this.store = deps.store;
    this.bus = deps.bus;
    this.idOrdered = deps.alone === true && deps.store.messages.appendsInOrder;
    this.clock = deps.clock;
    this.logger = deps.logger;
    this.messageLog = deps.messageLog;
    this.auditLog = deps.auditLog ?? noAuditLog;
    this.telemetry = deps.telemetry ?? noTelemetry;
    this.version = deps.version;
    this.ids = deps.ids;
    this.events = new EventFactory(() => this.clock.now(), deps.ids);
    this.requestGuard = new RequestGuard(this.clock, () => this.params);
    this.rooms = new RoomRegistry(this.store, (change) =>
      this.nodes.broadcast({ type: 'room-member', ...change }),
    );
    this.blocks = new BlockRegistry(this.store);
    this.resume = new ResumeRegistry(this);
    this.replaced = new ReplacedSessions(this);
    this.lastSeen = new LastSeenCheckpoints(this);
    this.dispatcher = new RequestDispatcher(this, deps.commands);
    this.delivery = new Delivery({
      bus: this.bus,
      events: this.events,
      sessions: this.sessions,
      rooms: this.rooms,
      params: () => this.params,
      otherwise: (envelope) => this.nodes.receive(envelope),
      replaced: this.replaced,
      telemetry: this.telemetry,
    });
    this.catalogueHash = catalogueHash(this.dispatcher.catalogue);
    this.admin = new AdminServices(this);
    this.directory = deps.directory ?? new LocalDirectory();
    this.nodes = new NodeLink(this);
    this.lifecycle = new SessionLifecycle(this, this.sessions);
  }

  /** Loads the state the core keeps in memory (rooms, blocks); once, before connections. */
  async restore(): Promise<void> {
    // Accounts made before skeletons were kept get theirs now (once; then none lack one).
    await this.store.accounts.fillSkeletons(nameSkeleton);
    await this.rooms.load();
    await this.blocks.load();
  }

  /** Another node changed a live setting: take the stored value (or its absence). */
  async reloadLiveSetting(key: string): Promise<void> {
    if (!isParameterKey(key)) return;
    const stored = (await this.store.settings.liveValues()).find((each) => each.key === key);
    if (stored) this.config.setLive(key, stored.value);
    else this.config.resetLive(key);
  }

  get params(): Parameters {
    return this.config.params;
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  commands(): readonly CommandInfo[] {
    return this.dispatcher.catalogue;
  }

  observeSessions(observer: SessionObserver): void {
    this.lifecycle.observers.push(observer);
  }

  // ---- connections -------------------------------------------------------------------

  /**
   * A transport accepted a connection. The core says nothing: the greeting belongs to the
   * transport's protocol (see `describe`).
   */
  attach(outlet: Outlet): Link {
    const link = new Link(this.ids.link(), outlet, this.clock.now());
    this.links.add(link);
    return link;
  }

  isRegistered(link: Link): boolean {
    return link.session !== null;
  }

  /** What a transport's greeting says about this server; see `ChatPort.describe`. */
  describe(): ServerDescription {
    const params = this.params;
    return {
      server: this.config.server.serverName,
      version: this.version,
      protocols: PROTOCOL_VERSIONS,
      resume: params['resume.graceSeconds'] > 0,
      limits: {
        frameMaxBytes: params['frame.maxBytes'],
        serverFrameMaxBytes: serverFrameMaxBytes(params['frame.maxBytes']),
        messageMaxLength: params['message.maxLength'],
        nickMaxLength: NAME_MAX_LENGTH,
        fileMaxBytes: params['files.maxBytes'],
      },
      catalogue: this.catalogueHash,
    };
  }

  /**
   * The server console: a link with an admin identity that is not online (not in `/who`,
   * gets no chat events), so console commands go through the same table as everyone's.
   */
  attachConsole(outlet: Outlet): Link {
    const link = new Link('console', outlet, this.clock.now());
    link.session = new Session({
      id: 'console',
      nick: CONSOLE_ACTOR,
      nickKey: CONSOLE_ACTOR,
      account: { id: 0, name: CONSOLE_ACTOR, role: 'admin' },
      now: this.clock.now(),
      link,
    });
    // The operator at the server's terminal is not a flood risk.
    this.requestGuard.setExempt(link.session, true);
    return link;
  }

  /** The transport's connection is gone (closed by either side). */
  detach(link: Link): void {
    if (link.isClosed) return;
    link.markClosed();
    this.links.delete(link);
    const session = link.session;
    if (session && session.link === link) {
      session.link = null;
      // Dropped without a goodbye: the session waits to be resumed, if resume is on.
      if (!this.resume.hold(session)) this.endSession(session, 'dropped');
    }
  }

  /**
   * Handles one request; requests of one link are handled in order, one at a time, each
   * metered by the request guard as it arrives. Never rejects: whatever goes wrong with
   * one request ends that link, not the process.
   */
  receive(link: Link, request: Request): Promise<void> {
    return this.dispatcher.receive(link, request);
  }

  /** Ends a link from the server side: its session (if any) leaves with `reason`. */
  closeLink(link: Link, code: ClosingCode, message: string, reason: LeaveReason = 'dropped'): void {
    const session = link.session;
    if (session && session.link === link) this.endSession(session, reason, message);
    link.outlet.close(code, message);
    this.detach(link);
  }

  // ---- sessions ----------------------------------------------------------------------

  findSession(nickKey: string): Session | undefined {
    return this.sessions.findByNick(nickKey);
  }

  /** A session this node holds, by id. */
  sessionById(id: string): Session | undefined {
    return this.sessions.get(id);
  }

  /**
   * The session holding `nickKey` on another node, from the directory. Ask after
   * `findSession` (this node's own, answered without waiting) found nothing.
   */
  async findRemote(nickKey: string): Promise<DirectoryEntry | undefined> {
    const entry = await this.directory.find(nickKey);
    return entry && entry.node !== this.bus.nodeId ? entry : undefined;
  }

  onlineSessions(): IterableIterator<Session> {
    return this.sessions.values();
  }

  get onlineCount(): number {
    return this.sessions.size;
  }

  /** This node's sessions by kind, for the metrics (a scrape walks them once). */
  sessionCounts(): { guests: number; accounts: number; away: number } {
    return this.sessions.counts();
  }

  /**
   * Checks that a new login may happen now. Called before the slow part of a login
   * (password hashing) and again, synchronously, just before the session is created, when
   * `attempt` says who is logging in from where (bans, the lock). `replacing` is a session
   * this login will end (an account taking over its own session): it neither holds the
   * nickname nor a place against `maxUsers`.
   */
  checkLoginAllowed(nickKey: string, attempt?: LoginAttempt, replacing?: Session): void {
    this.lifecycle.checkLoginAllowed(nickKey, attempt, replacing);
  }

  /**
   * Creates a session for a link that finished the nickname step and tells everyone. The
   * nickname is claimed in the directory first (on every node at once); the checks run
   * again once the claim is held, synchronously with the session's creation.
   * `replacing` is the id of a session this login takes over (its claim may be taken).
   */
  async login(
    link: Link,
    nick: string,
    nickKey: string,
    account: AccountRef | null,
    /** `seenMid`: the client has shown messages up to this id already (login backlog). */
    options: {
      readonly seenMid?: number | undefined;
      /** A session this login takes over: its claim on the nickname may be taken. */
      readonly replacing?: string | undefined;
      /** The node that held `replacing`, when not this one. */
      readonly replacingOn?: string | undefined;
    } = {},
  ): Promise<Session> {
    return this.lifecycle.login(link, nick, nickKey, account, options);
  }

  /** A session registered or deleted its account: the directory shows it as it is now. */
  accountChanged(session: Session): Promise<void> {
    return this.lifecycle.accountChanged(session);
  }

  /** Renames a session (a guest's `/nick`, or a guest registering keeps the same key). */
  rename(session: Session, nick: string, nickKey: string): Promise<void> {
    return this.lifecycle.rename(session, nick, nickKey);
  }

  /** Resolves once the account's latest logout here has its last-seen time stored. */
  lastSeenWritten(accountId: number): Promise<void> {
    return this.lifecycle.lastSeenWritten(accountId);
  }

  /** See `SessionLifecycle.adopt`: a session moving here from another node. */
  adoptSession(init: ArrivingSession, link: Link): Session {
    return this.lifecycle.adopt(init, link);
  }

  /** See `SessionLifecycle.removeQuietly`: a session leaving this node unannounced. */
  removeQuietly(session: Session): void {
    this.lifecycle.removeQuietly(session);
  }

  /** Removes a session and announces its leave, once. */
  endSession(session: Session, reason: LeaveReason, message?: string): void {
    this.lifecycle.end(session, reason, message);
  }

  /**
   * Before the server ends an account's session (kick, ban, idle timeout, shutdown), as
   * before its own `quit`: the messages already on their way on any node reach it first
   * (`NodeLink.drain`, at most 2 s). Fanned out after its end they would reach neither it
   * nor, stamped before its last seen, its next login. A guest has no next login: it is
   * not kept waiting. Resolves whether the session is still here to be ended.
   */
  async drainBeforeEnd(session: Session): Promise<boolean> {
    if (session.account) await this.nodes.drain();
    return this.sessions.get(session.id) === session;
  }

  // ---- delivery (src/core/delivery.ts) ----------------------------------------------

  presenceAudience(session: Session): BusTarget {
    return this.delivery.presenceAudience(session);
  }

  /** See `Delivery.presenceAudienceOf`. */
  presenceAudienceOf(rooms: Iterable<string>): BusTarget {
    return this.delivery.presenceAudienceOf(rooms);
  }

  /** Stamps an event and sends it through the bus to every node's matching sessions. */
  publish(
    target: BusTarget,
    payload: EventPayload,
    options: { exclude?: Session; senderKey?: string; ts?: number } = {},
  ): ChatEvent {
    return this.delivery.publish(target, payload, options);
  }

  /** Publishes an event stamped already; see `Delivery.publishEvent`. */
  publishEvent(
    target: BusTarget,
    event: ChatEvent,
    exclude: Session | undefined,
    senderKey: string | undefined,
  ): void {
    this.delivery.publishEvent(target, event, exclude, senderKey);
  }

  /** Messages the bus brought to this node lately (see `replayBusGap`). */
  get receivedMessages(): ReceivedMessages {
    return this.delivery.received;
  }

  /** Sends an event to one session only. */
  sendTo(session: Session, payload: EventPayload): void {
    this.delivery.sendTo(session, payload);
  }

  /** Sends an event to one session wherever it is: here, or on the directory's node. */
  notify(target: Session | DirectoryEntry, payload: EventPayload): void {
    this.delivery.notify(target, payload);
  }

  /** True when `recipient` blocks the sender with nickname key `senderKey`. */
  isBlocking(recipient: Session, senderKey: string): boolean {
    return recipient.blocks.has(senderKey);
  }

  // ---- shutdown ----------------------------------------------------------------------

  /**
   * Tells everyone the server stops in `seconds`, refuses new logins meanwhile, then ends
   * every session cleanly. Resolves when all sessions are closed.
   */
  async shutdown(seconds: number, reason?: string): Promise<void> {
    this.admin.stop();
    if (!this.shuttingDown) {
      this.shuttingDown = true;
      this.logger.info({ event: 'shutdown', seconds, reason }, 'shutting down');
      this.publish(
        { kind: 'everyone' },
        reason === undefined ? { ev: 'shutdown', seconds } : { ev: 'shutdown', seconds, reason },
      );
      if (seconds > 0)
        await new Promise<void>((resolve) => this.clock.setTimeout(resolve, seconds * 1000));
    }
    // As for every end the server decides: see `drainBeforeEnd`.
    for (const session of this.sessions.values())
      if (session.account) {
        await this.nodes.drain();
        break;
      }
    for (const session of [...this.sessions.values()]) {
      const link = session.link;
      this.endSession(session, 'shutdown', reason);
      link?.outlet.close('shutting_down', reason ?? 'The server is shutting down');
    }
    // Checkpoints ran through the countdown; every logout is recorded now.
    this.lastSeen.stop();
    for (const link of [...this.links]) {
      link.outlet.close('shutting_down', reason ?? 'The server is shutting down');
      this.detach(link);
    }
    for (const observer of this.lifecycle.observers) observer.stopping?.();
    this.nodes.stop();
    this.delivery.stop();
    this.replaced.stop();
  }
}
