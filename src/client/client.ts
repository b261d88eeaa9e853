import net from 'node:net';
import tls from 'node:tls';
import { WebSocket } from 'ws';
import { FrameDecoder } from '../protocol/framing.js';
import { ChannelInbox, type Channel } from './channel.js';
import { ConnectionClosedError, ProtocolClient, type HelloEvent } from './connection.js';
import { webSocketChannel } from './websocket-channel.js';

/**
 * The client library for Node: the transport-neutral `ProtocolClient` (connection.ts, which
 * the browser uses too) over TCP, TLS or a WebSocket. Everything the library offers is
 * re-exported here, so Node code imports from one place.
 */
export {
  ConnectionClosedError,
  RequestError,
  type CloseInfo,
  type EventNamed,
  type HelloEvent,
  type ReadyInfo,
} from './connection.js';
export type { Channel } from './channel.js';

export interface ConnectOptions {
  readonly host: string;
  readonly port: number;
  /** TLS: verify against the system CAs, or the given CA; `checkServerIdentity` may pin. */
  readonly tls?: tls.ConnectionOptions;
  /**
   * TLS: called once the handshake is done, before anything is read or sent; returning an
   * error refuses the server (certificate pinning, see tls-trust.ts).
   */
  readonly verifyTls?: (socket: tls.TLSSocket) => Error | undefined;
  /** Source address to connect from (tests and benchmarks use several 127.0.0.x). */
  readonly localAddress?: string;
  /** Give up if the server has not greeted us within this many milliseconds. */
  readonly timeoutMs?: number;
  /** Client's own frame limit for what the server sends (events can exceed a request). */
  readonly maxFrameBytes?: number;
  /**
   * Bytes written on the TCP connection before anything else, TLS included: a PROXY
   * protocol header, for tools and tests that stand in for a balancer.
   */
  readonly preface?: Uint8Array;
}

export interface WebSocketConnectOptions {
  /** Give up if the server has not greeted us within this many milliseconds. */
  readonly timeoutMs?: number;
  /** `Origin` to send (the server admits its own and `web.allowedOrigins`). */
  readonly origin?: string;
  /** TLS options for `wss://` (a private CA, for one). */
  readonly tls?: tls.ConnectionOptions;
  /** Largest message accepted from the server. */
  readonly maxFrameBytes?: number;
}

/**
 * A protocol v1 client in Node: the line client, the full-screen client, the tests and the
 * benchmarks use it. `connect` goes over TCP or TLS, `connectWebSocket` over `/ws`.
 */
export class ChatClient extends ProtocolClient {
  static connect(options: ConnectOptions): Promise<ChatClient> {
    return ProtocolClient.open(socketChannel(options), options, ChatClient.create);
  }

  static connectWebSocket(url: string, options: WebSocketConnectOptions = {}): Promise<ChatClient> {
    const socket = new WebSocket(url, {
      maxPayload: options.maxFrameBytes ?? 16 * 1024 * 1024,
      ...(options.origin !== undefined && { origin: options.origin }),
      ...options.tls,
    });
    return ProtocolClient.open(webSocketChannel(socket, url), options, ChatClient.create);
  }

  private static create(this: void, channel: Channel, hello: HelloEvent): ChatClient {
    return new ChatClient(channel, hello);
  }
}

/** Native framing over TCP or TLS: one JSON text per LF-terminated line. */
function socketChannel(options: ConnectOptions): Channel {
  const peer = `${options.host}:${options.port}`;
  const where = {
    host: options.host,
    port: options.port,
    ...(options.localAddress !== undefined && { localAddress: options.localAddress }),
  };
  let socket: net.Socket;
  if (options.preface) {
    const raw = net.connect(where);
    raw.write(options.preface);
    socket = options.tls ? tls.connect({ host: options.host, ...options.tls, socket: raw }) : raw;
  } else {
    socket = options.tls ? tls.connect({ ...where, ...options.tls }) : net.connect(where);
  }
  socket.setNoDelay(true);
  const inbox = new ChannelInbox();
  let failure: Error | undefined;
  let connected = false;
  socket.once(options.tls ? 'secureConnect' : 'connect', () => (connected = true));
  if (options.verifyTls && socket instanceof tls.TLSSocket) {
    const verify = options.verifyTls;
    const secure = socket;
    secure.once('secureConnect', () => {
      const refusal = verify(secure);
      if (refusal) {
        failure = refusal;
        secure.destroy();
      }
    });
  }
  const decoder = new FrameDecoder(options.maxFrameBytes ?? 16 * 1024 * 1024);
  socket.on('data', (chunk: Buffer) => {
    for (const result of decoder.push(chunk)) if (result.kind === 'frame') inbox.frame(result.text);
  });
  socket.on('error', (error) => {
    // 'close' follows; before the connection is up, this is why it failed.
    if (!connected)
      failure ??= new ConnectionClosedError(`Cannot connect to ${peer}: ${error.message}`);
  });
  socket.on('close', () => inbox.close(failure));
  return {
    peer,
    send: (frame) => socket.write(frame + '\n'),
    sendRaw: (data) => socket.write(data),
    close: () => socket.end(),
    destroy: () => socket.destroy(),
    listen: (handlers) => inbox.listen(handlers),
  };
}
