/**
 * The connection layer's view of a transport's channel: the part of a Node stream it
 * uses. A `net.Socket` or `tls.TLSSocket` is one as it is (no wrapper: an idle connection
 * stays small); a WebSocket transport passes its socket, or a small adapter over `ws`.
 */
export interface Wire {
  /** Bytes written and not yet handed to the network: what the send queue caps. */
  readonly writableLength: number;
  readonly writableNeedDrain: boolean;
  readonly writable: boolean;
  readonly destroyed: boolean;
  write(chunk: Uint8Array, done?: (error?: Error | null) => void): boolean;
  /** Optional batching of several writes into one system call. */
  cork?(): void;
  uncork?(): void;
  /** Read backpressure: stop and restart delivering input. */
  pause(): unknown;
  resume(): unknown;
  /** Closes after what was written has been sent. */
  end(): unknown;
  /** Closes at once, dropping unsent output. */
  destroy(): unknown;
  on(event: 'drain' | 'close', listener: () => void): unknown;
  off(event: 'drain' | 'close', listener: () => void): unknown;
}
