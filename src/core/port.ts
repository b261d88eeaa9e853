import type { Parameters } from '../config/parameters.js';
import type { ClosingCode } from '../protocol/closing.js';
import type { Limits } from '../protocol/events.js';
import type { Request } from '../protocol/frames.js';
import type { Clock } from './clock.js';
import type { Link, Outlet } from './session.js';

export type { Link, Outlet } from './session.js';

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
