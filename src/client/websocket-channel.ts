import { ChannelInbox, type Channel, type ChannelHandlers } from './channel.js';
import { ConnectionClosedError } from './connection.js';

/**
 * What the channel uses of a WebSocket: the browser's own and the `ws` package's (in Node)
 * both have it. One protocol frame is one text message, so there is no framing of our own.
 */
export interface WebSocketLike {
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  /** `ws` only: drops the connection without a closing handshake. */
  terminate?(): void;
  addEventListener(type: 'message', listener: (event: { readonly data: unknown }) => void): void;
  addEventListener(type: 'open' | 'close' | 'error', listener: () => void): void;
}

/**
 * A channel over a WebSocket that is being opened (or is open). Failing to open closes the
 * channel with a `ConnectionClosedError` naming the URL; binary messages are not frames
 * and are ignored, as the protocol asks of clients.
 */
export function webSocketChannel(socket: WebSocketLike, url: string): Channel {
  const inbox = new ChannelInbox();
  let open = false;
  socket.addEventListener('open', () => (open = true));
  socket.addEventListener('message', (event) => {
    if (typeof event.data === 'string') inbox.frame(event.data);
  });
  socket.addEventListener('error', () => {
    // Before the handshake this is the only word of why; after it, 'close' follows.
    if (!open) inbox.close(new ConnectionClosedError(`Cannot connect to ${url}`));
  });
  socket.addEventListener('close', () => inbox.close());
  return {
    peer: url,
    send: (frame) => socket.send(frame),
    sendRaw: (data) => socket.send(data),
    close: () => socket.close(1000),
    destroy: () => (socket.terminate ? socket.terminate() : socket.close()),
    listen: (handlers: ChannelHandlers) => inbox.listen(handlers),
  };
}
