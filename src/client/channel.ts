/**
 * What the shared client library needs of a transport: whole frames in, whole frames out,
 * and word of the close. A TCP or TLS socket (one JSON text per LF-terminated line, Node
 * only: client.ts) and a WebSocket (one JSON text per message, Node or browser:
 * websocket-channel.ts) are channels; the protocol above them is the same.
 */
export interface Channel {
  /** Where this channel goes, for messages (`host:port`, a URL). */
  readonly peer: string;
  /** Sends one frame's JSON text (the channel adds its own framing). */
  send(frame: string): void;
  /** Sends bytes as they are, framing and all (tests send malformed input this way). */
  sendRaw(data: string | Uint8Array): void;
  /** Closes politely: what was sent is still delivered. */
  close(): void;
  /** Closes at once, as a crash or a pulled cable would. */
  destroy(): void;
  /**
   * Sets who hears the channel: each whole frame's text, and the close once (with the
   * reason when it failed: cannot connect, a refused certificate). Frames that arrived
   * before this was called are handed over at once, in order.
   */
  listen(handlers: ChannelHandlers): void;
}

export interface ChannelHandlers {
  frame(text: string): void;
  close(error?: Error): void;
}

/**
 * Keeps what a channel receives until someone listens (a greeting can arrive in the same
 * read as the frames after it), then hands it straight through. Channels build on it.
 */
export class ChannelInbox {
  private handlers: ChannelHandlers | undefined;
  private readonly early: string[] = [];
  private closed: { error: Error | undefined } | undefined;

  frame(text: string): void {
    if (this.closed) return;
    if (this.handlers) this.handlers.frame(text);
    else this.early.push(text);
  }

  close(error?: Error): void {
    if (this.closed) return;
    this.closed = { error };
    this.handlers?.close(error);
  }

  listen(handlers: ChannelHandlers): void {
    this.handlers = handlers;
    // A handler may listen anew (the greeting's reader hands over to the client).
    while (this.early.length > 0 && this.handlers === handlers) handlers.frame(this.early.shift()!);
    if (this.closed && this.handlers === handlers) handlers.close(this.closed.error);
  }
}
