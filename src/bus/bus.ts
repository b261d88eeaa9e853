import type { ChatEvent, LeaveReason } from '../core/events.js';
import type { ClosingCode } from '../protocol/closing.js';
import type { ErrorCode } from '../protocol/errors.js';

/**
 * The bus: everything that crosses between server nodes. A node holds its own sessions;
 * whatever concerns a session or a cache on another node travels as one of the typed
 * envelopes below. The in-process bus (local-bus.ts) is the single-node default and the
 * multi-node test's network; a Redis bus for cluster mode is another file implementing
 * `Bus`. Every envelope is plain JSON (no functions, no classes, no `undefined` that
 * matters), so a bus may serialise it.
 *
 * Guarantees a `Bus` gives (the core relies on nothing else):
 * - `publish` reaches every node that is subscribed, this one included; `sendTo` reaches
 *   one node (possibly this one). A node that is down misses what was sent meanwhile.
 * - Per origin, in order: two envelopes sent by one node, through `publish` or `sendTo` in
 *   any mix, are handed to each receiving node in the order they were sent.
 * - At most once per receiving node, never duplicated.
 * - Each envelope carries `origin`: the sender sets it to its own `nodeId`.
 */

// ---- events: what happened, delivered to every node's matching sessions ---------------

export type BusTarget =
  | { readonly kind: 'room'; readonly room: string }
  /** Members of any of these rooms, each once. */
  | { readonly kind: 'rooms'; readonly rooms: readonly string[] }
  | { readonly kind: 'nicks'; readonly keys: readonly string[] }
  | { readonly kind: 'sessions'; readonly ids: readonly string[] }
  /** Admins online, but for these sessions (monitor copies of private messages). */
  | { readonly kind: 'admins'; readonly except: readonly string[] }
  | { readonly kind: 'everyone' };

export interface EventEnvelope {
  readonly type: 'event';
  /** Node that published it. */
  readonly origin: string;
  readonly target: BusTarget;
  readonly event: ChatEvent;
  /** Session that caused it and does not get a copy (no echo to the sender). */
  readonly excludeSession?: string;
  /** Sender's nickname key: recipients who block it are skipped. */
  readonly senderKey?: string;
}

/** The name the event path has always used; an event envelope. */
export type BusMessage = EventEnvelope;

// ---- control: to the node that owns a session (or every node's copy of shared state) ---

/** Ends a session on its own node (kick, ban, an account logging in again elsewhere). */
export interface EndSessionControl {
  readonly type: 'end-session';
  readonly session: string;
  readonly reason: Extract<LeaveReason, 'kicked' | 'banned' | 'replaced'>;
  /** Said to everyone with the leave. */
  readonly message?: string;
  /** What the session's connection is told as it is closed. */
  readonly close: { readonly code: ClosingCode; readonly message: string };
  /** A notice the session gets first ("your account logged in elsewhere"). */
  readonly notice?: string;
}

/** Flood-control exemption of one session (`/exempt`). */
export interface ExemptControl {
  readonly type: 'exempt';
  readonly session: string;
  readonly exempt: boolean;
}

/** A room as every node keeps it (its members are each node's own sessions). */
export interface RoomInfo {
  readonly key: string;
  readonly name: string;
  readonly ownerName: string | null;
  readonly ownerAccountId: number | null;
  readonly storeId: number | null;
  readonly historyFloor: number;
  readonly createdAt: number;
  readonly topic: string | null;
}

/** Rooms changed on one node: every other node updates its copy. */
export type RoomControl =
  | { readonly type: 'room-created'; readonly room: RoomInfo }
  /** Members each node holds leave it and are told (`room_closed`). */
  | {
      readonly type: 'room-closed';
      readonly room: string;
      readonly name: string;
      readonly by: string;
    }
  | { readonly type: 'room-topic'; readonly room: string; readonly topic: string | null }
  /**
   * An account joined a persistent room or left it (or was deleted): every node's copy
   * knows its account members, so the account is back in it at a login on any node.
   */
  | {
      readonly type: 'room-member';
      readonly room: string;
      readonly accountId: number;
      readonly name: string;
      readonly member: boolean;
    };

/**
 * An account was deleted (its rows are gone): every node forgets what it keeps of it in
 * memory (its rooms' ownership and memberships, its blocks). The store may hand the id out
 * again, and a node that remembered it would give the next account those.
 */
export interface AccountDeletedControl {
  readonly type: 'account-deleted';
  readonly accountId: number;
}

export type Control = EndSessionControl | ExemptControl | RoomControl | AccountDeletedControl;

export interface ControlEnvelope {
  readonly type: 'control';
  readonly origin: string;
  readonly control: Control;
}

// ---- requests and responses: asking every node (or one) and gathering the answers ------

/** What one node tells about one of its sessions (who, whois, members, users). */
export interface SessionSummary {
  readonly id: string;
  readonly node: string;
  readonly nick: string;
  readonly nickKey: string;
  readonly account: { readonly id: number; readonly name: string; readonly role: string } | null;
  readonly loginAt: number;
  readonly lastInputAt: number;
  readonly away: string | null;
  /** False while the session waits to be resumed (its connection dropped). */
  readonly connected: boolean;
  readonly address: string | null;
  readonly rooms: readonly string[];
}

export type Query =
  /** Every session a node holds (`/who`, `/users`, `/whoelse`). */
  | { readonly type: 'who' }
  /** The session with this nickname key, if the node holds it (`/whois`). */
  | { readonly type: 'whois'; readonly nickKey: string }
  /** Sessions in this room (`/members`). */
  | { readonly type: 'members'; readonly room: string }
  /**
   * Hand over a session whose client resumes on another node: the owner closes its old
   * connection (if still open), lets it go quietly (no leave is announced, the nickname
   * stays claimed for the asker) and answers with what it had not yet sent.
   */
  | {
      readonly type: 'resume-takeover';
      readonly session: string;
      /** The client's last event id (`resume`'s `lastEventId`), if it gave one. */
      readonly lastEventId?: number;
    }
  /**
   * Answered at once: since one origin's envelopes arrive in order, a node that answers
   * has handled everything the asker sent before it (a room it created, say).
   */
  | { readonly type: 'barrier' }
  /**
   * Answered once every message the node had on its way when asked (stored or being
   * stored, not yet fanned out) has been fanned out or has failed: since one origin's
   * envelopes arrive in order, the asker has then received them all (a clean `quit`).
   */
  | { readonly type: 'drain' }
  /** End an account's session so that it may log in elsewhere (`takeover`). */
  | { readonly type: 'takeover'; readonly session: string }
  /**
   * The login that replaced `session` (a `takeover`) now receives live events: the owner
   * answers with the messages the ended session was sent after its end, and stops keeping
   * them (`ReplacedSessions`).
   */
  | { readonly type: 'replaced-events'; readonly session: string }
  /**
   * Take one of the node's sessions out of a room (`/remove` by the owner or an admin on
   * another node, who checked that they may). The owner checks the rest where the session
   * is (in the room; not its owner unless `admin`): `done`, or `refused` with the error.
   */
  | {
      readonly type: 'remove-from-room';
      readonly session: string;
      readonly room: string;
      /** The remover's nickname, and whether they are an admin. */
      readonly by: string;
      readonly admin: boolean;
      readonly reason?: string;
    };

/** A handed-over session: enough for another node to carry it on. */
export interface HandedOverSession {
  readonly summary: SessionSummary;
  /** Events of its log after the client's last one, oldest first, with their ids. */
  readonly missed: readonly ChatEvent[];
  /** Some events had fallen out of its log before these. */
  readonly lost: boolean;
}

export type Answer =
  | { readonly type: 'sessions'; readonly sessions: readonly SessionSummary[] }
  | { readonly type: 'handed-over'; readonly session: HandedOverSession | null }
  | { readonly type: 'done'; readonly ok: boolean }
  /** Events, oldest first, with their ids (`replaced-events`). */
  | { readonly type: 'events'; readonly events: readonly ChatEvent[] }
  /** The asked node would not do it, for the reason a local command would have given. */
  | {
      readonly type: 'refused';
      readonly code: ErrorCode;
      readonly message: string;
      readonly details?: Readonly<Record<string, unknown>>;
    };

export interface RequestEnvelope {
  readonly type: 'request';
  readonly origin: string;
  /** Unique at the origin; the answer carries it back. */
  readonly id: string;
  readonly query: Query;
}

export interface ResponseEnvelope {
  readonly type: 'response';
  readonly origin: string;
  /** The request's id. */
  readonly id: string;
  readonly answer: Answer;
}

// ---- invalidations: a cache every node keeps changed in the store ----------------------

export type Invalidation =
  | { readonly what: 'bans' }
  | { readonly what: 'suspensions' }
  | { readonly what: 'switches' /* the lock and monitoring */ }
  | { readonly what: 'blocks'; readonly accountId: number }
  | { readonly what: 'rooms' }
  | { readonly what: 'config'; readonly key: string };

export interface InvalidateEnvelope {
  readonly type: 'invalidate';
  readonly origin: string;
  readonly invalidation: Invalidation;
}

// ---- liveness ---------------------------------------------------------------------------

export interface HeartbeatEnvelope {
  readonly type: 'heartbeat';
  readonly origin: string;
  /** Sender's clock, milliseconds since the epoch. */
  readonly at: number;
  /** Sessions the node holds. */
  readonly sessions: number;
  /** True in a node's last heartbeat: it is stopping, forget it now. */
  readonly leaving?: boolean;
}

export type BusEnvelope =
  | EventEnvelope
  | ControlEnvelope
  | RequestEnvelope
  | ResponseEnvelope
  | InvalidateEnvelope
  | HeartbeatEnvelope;

export interface Bus {
  /** This node's id: unique among the nodes on this bus, for this run. */
  readonly nodeId: string;
  /** To every node, this one included. */
  publish(envelope: BusEnvelope): void;
  /** To node `node` only (this one included, when it is this one). */
  sendTo(node: string, envelope: BusEnvelope): void;
  /** Every envelope this node receives, in arrival order. Returns an unsubscribe. */
  subscribe(handler: (envelope: BusEnvelope) => void): () => void;
  /**
   * Resolves when the bus can carry messages now (a broker answers), rejects otherwise
   * (`/readyz`: a node cut off from the others takes no new clients).
   */
  ping(): Promise<void>;
  /** Stops sending and receiving; resolves when pending sends are flushed. */
  close(): Promise<void>;
}
