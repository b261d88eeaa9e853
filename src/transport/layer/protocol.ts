import type { ClosingCode } from '../../protocol/closing.js';
import type { ErrorCode } from '../../protocol/errors.js';
import type { Request, SessionFrame } from '../../protocol/frames.js';
import type { ServerDescription } from '../../core/port.js';

/** What the core sends through a connection: replies and its session's events. */
export type CoreFrame = SessionFrame;

/** One thing a protocol read from its input. */
export type Input =
  /** A request for the core, its envelope checked. */
  | { readonly kind: 'request'; readonly request: Request }
  /**
   * Input the protocol could not use: the client is told (`re` when the request's id was
   * read), and too many in a row end the connection (`too_many_errors`).
   */
  | {
      readonly kind: 'bad';
      readonly code: ErrorCode;
      readonly message: string;
      readonly re: number | null;
    }
  /** Input that ends the connection at once (a frame over the limit): told, then closed. */
  | {
      readonly kind: 'fatal';
      readonly code: ErrorCode & ClosingCode;
      readonly message: string;
    }
  /** Bytes the protocol answers by itself, without the core (an IRC `PONG`, `CAP LS`). */
  | { readonly kind: 'send'; readonly bytes: Uint8Array }
  /** Anything else that shows the peer alive (a keepalive the core need not see). */
  | { readonly kind: 'alive' }
  /**
   * Good input the protocol handles itself (an IRC line, which its gateway turns into
   * requests): alive, and it ends a run of bad inputs as a request does.
   */
  | { readonly kind: 'accepted' };

/**
 * One protocol spoken on a connection (native JSON lines, JSON over WebSocket, IRC): how
 * input becomes requests and frames become bytes. One instance per connection, so a
 * protocol that keeps state (IRC's pending replies) keeps it here. Everything else (send
 * queue, deadlines, bad-input counting, backpressure) is the connection layer's.
 */
export interface WireProtocol {
  /** Input bytes (a chunk of a stream, or one whole message) to what they hold, in order. */
  decode(chunk: Uint8Array): readonly Input[];
  /** A frame's bytes, or null when this protocol has nothing to say for it. */
  encode(frame: CoreFrame): Uint8Array | null;
  /** The first bytes a new connection gets, or null for protocols where the client speaks first. */
  greeting(server: ServerDescription, now: number): Uint8Array | null;
  /** A keepalive asking the peer to answer. */
  ping(now: number): Uint8Array | null;
  /** The last frame before the server closes the connection. */
  closing(code: ClosingCode, message: string, now: number): Uint8Array | null;
  /** Frames nobody waits for (presence notices) may be held briefly to share a write. */
  isLazy?(frame: CoreFrame): boolean;
  /**
   * For protocols with a registration of their own beyond the core's nickname step (IRC:
   * USER and CAP END): false until it is done, so the registration deadline still applies.
   */
  isRegistered?(): boolean;
}
