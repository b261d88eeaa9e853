import type { Parameters } from '../config/parameters.js';
import type { ClosingCode } from '../protocol/closing.js';
import type { Limits } from '../protocol/events.js';
import type { Request } from '../protocol/frames.js';
import type { CommandInfo } from './catalog.js';
import type { Clock } from './clock.js';
import type { FileService } from './files/file-service.js';
import type { Logger } from './logger.js';
import type { Link, Outlet, Session } from './session.js';

export type { Link, Outlet, Session } from './session.js';

/** What a transport's greeting tells a client about the server. */
export interface ServerDescription {
  readonly server: string;
  readonly version: string;
  /** Protocol versions the server speaks, newest first. */
  readonly protocols: readonly number[];
  /** True when a lost connection's session can be resumed (`resume.graceSeconds` > 0). */
  readonly resume: boolean;
  readonly limits: Limits;
  /** The command catalogue's hash (see `catalogue`). */
  readonly catalogue: string;
}

/**
 * The narrow port through which every transport (native, WebSocket, IRC) reaches the core.
 * A transport owns bytes and connections; the core owns sessions and commands. Nothing else
 * of the core is a transport's business.
 *
 * A connection's life: `attach` when it opens (the transport then sends its own greeting),
 * `receive` for each request in order, `closeLink` when the transport ends it for a reason
 * the user should see (bad input, a deadline), `detach` once the connection is gone.
 */
export interface ChatPort {
  readonly clock: Clock;
  /** Current parameters (limits, deadlines); read them when needed, they change live. */
  readonly params: Parameters;
  attach(outlet: Outlet): Link;
  /** Hands over one request; never rejects. The reply comes through the link's outlet. */
  receive(link: Link, request: Request): Promise<void>;
  /**
   * Ends a connection from the server side with a closing code: its session, if any, leaves
   * with reason `dropped`, and the outlet is told to close.
   */
  closeLink(link: Link, code: ClosingCode, message: string): void;
  /**
   * The connection went silent or away without a goodbye (socket closed, ping timeout):
   * its session is held for a resume like a dropped socket. Idempotent.
   */
  detach(link: Link): void;
  /** True once the link finished the nickname step (or resumed a session). */
  isRegistered(link: Link): boolean;
  describe(): ServerDescription;
}

/** A session as a gateway may see it: who, whether an admin, away, which account. */
export interface SessionView {
  readonly nick: string;
  readonly isAdmin: boolean;
  readonly awayMessage: string | null;
  readonly account: { readonly name: string } | null;
  /** `null` while the session waits to be resumed (no connection). */
  readonly link: Link | null;
}

/** A room as a gateway may see it. */
export interface RoomView {
  readonly name: string;
  readonly createdAt: number;
  /** The owner's nickname as shown (the creator's). */
  readonly ownerName: string;
  isOwnedBy(session: Session): boolean;
}

/**
 * The port of a gateway that keeps its own picture of the chat beside the requests it
 * runs (IRC: WHO flags, MODE, LUSERS, account tags, the service user's help): the
 * `ChatPort` plus read-only lookups. Everything that changes anything still goes through
 * `receive`, as a command, so there is one implementation of each.
 */
export interface GatewayPort extends ChatPort {
  readonly logger: Logger;
  /** Sessions online on this node, away ones included. */
  readonly onlineCount: number;
  onlineSessions(): Iterable<SessionView>;
  /** A session online on this node by its name's key (`nameKey`). */
  findSession(nickKey: string): SessionView | undefined;
  readonly rooms: {
    get(key: string): RoomView | undefined;
    all(): Iterable<RoomView>;
  };
  /** The command catalogue (what `catalogue` answers). */
  commands(): readonly CommandInfo[];
}

/**
 * File bytes over HTTP (`/file?t=TOKEN`): what the web listener's file route may do with
 * a `filelink` token. The checks (size, quota, offsets, SHA-256) stay in the file service.
 */
export type HttpFilePort = Pick<
  FileService,
  'redeemLink' | 'openLinkBlob' | 'linkServed' | 'linkUploadState' | 'putLinkBytes' | 'finishUpload'
>;
