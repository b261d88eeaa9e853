import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { Logger } from '../../core/logger.js';
import type { ChatPort } from '../../core/port.js';
import type { ClosingCode } from '../../protocol/closing.js';
import type { RequestContext } from '../../web/router.js';
import { rejectUpgrade } from '../../web/web-listener.js';
import { Connection, ConnectionContext } from '../layer/connection.js';
import type { ConnectionSet } from '../layer/connection-set.js';
import { WebSocketProtocol } from './ws-protocol.js';
import { WebSocketWire } from './wire.js';

export interface WebSocketEndpointOptions {
  /** Origins besides the server's own whose pages may connect (`web.allowedOrigins`). */
  readonly allowedOrigins: readonly string[];
  readonly secure: boolean;
}

/** How long a refused connection may take to read why before it is cut. */
const REFUSE_FLUSH_MS = 1000;

/**
 * `/ws`: protocol v1 over WebSocket. Checks the page's origin (a page elsewhere must not
 * chat with its visitor's credentials), then hands each socket to the transport-neutral
 * connection layer: the server's one `ConnectionSet` does per-address admission across
 * transports and the deadlines, `Connection` the send queue, backpressure and bad input.
 */
export class WebSocketEndpoint {
  private readonly wss: WebSocketServer;
  private accepting = true;
  /** Shared by this endpoint's connections; made with the first. */
  private context: ConnectionContext | undefined;

  constructor(
    private readonly core: ChatPort,
    private readonly logger: Logger,
    private readonly set: ConnectionSet,
    private readonly options: WebSocketEndpointOptions,
  ) {
    this.wss = new WebSocketServer({
      noServer: true,
      // Refused as the frame header arrives, so an oversized message is never buffered.
      maxPayload: core.params['frame.maxBytes'],
      // Compression off: a chat line gains little, and inflating is a memory bomb to bound.
      perMessageDeflate: false,
      clientTracking: false,
    });
    set.start();
  }

  /** The upgrade handler for the web listener's `/ws`. */
  readonly handleUpgrade = (
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    context: RequestContext,
  ): void => {
    if (!this.accepting) return rejectUpgrade(socket, 503, 'Service Unavailable');
    const origin = request.headers.origin;
    if (origin !== undefined && !this.originAllowed(origin, request.headers.host, context)) {
      this.logger.warn(
        { event: 'ws_origin_refused', origin, address: context.clientAddress },
        'WebSocket from another origin refused',
      );
      return rejectUpgrade(socket, 403, 'Forbidden');
    }
    const address = context.clientAddress;
    const port = request.socket.remotePort ?? 0;
    const verdict = this.set.admit(address, port, this.transport);
    this.wss.handleUpgrade(request, socket, head, (ws) => {
      if (!verdict.ok) return this.refuse(ws, verdict.code, verdict.message);
      this.accept(ws, socket, address, port, verdict.group);
    });
  };

  private get transport(): string {
    return this.options.secure ? 'wss' : 'ws';
  }

  stopAccepting(): void {
    if (!this.accepting) return;
    this.accepting = false;
    this.set.stop();
  }

  private accept(
    ws: WebSocket,
    stream: Duplex,
    address: string,
    port: number,
    group: string,
  ): void {
    const protocol = new WebSocketProtocol(this.core.params['frame.maxBytes']);
    this.context ??= new ConnectionContext(this.core, this.logger, {
      transport: this.transport,
      family: 'websocket',
      telemetry: this.set.telemetry,
      // One frame per message: never concatenated into one write.
      coalesce: false,
    });
    const connection = new Connection(
      new WebSocketWire(ws, stream),
      protocol,
      this.context,
      address,
      port,
    );
    ws.on('message', (data: RawData, isBinary: boolean) => {
      protocol.binary = isBinary;
      try {
        connection.onData(Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer));
      } catch (error) {
        // A bug while reading one connection ends that connection, never the process.
        connection.readFailed(error);
      }
    });
    ws.on('error', (error) =>
      this.logger.info(
        { event: 'socket_error', address, port, err: error.message },
        'WebSocket error',
      ),
    );
    ws.on('close', () => {
      connection.onClosed();
      this.set.remove(connection);
    });
    this.set.add(connection, group);
  }

  /** Instead of `hello`, one `closing` event saying why, then a close (as native does). */
  private refuse(ws: WebSocket, code: ClosingCode, message: string): void {
    ws.on('error', () => undefined);
    const protocol = new WebSocketProtocol(0);
    ws.send(protocol.closing(code, message, this.core.clock.now()), { binary: false });
    ws.close(1008, code);
    setTimeout(() => ws.terminate(), REFUSE_FLUSH_MS).unref();
  }

  /**
   * The server's own origin is the one the page was loaded from: the same host (with port)
   * the browser asked for, over the matching scheme. Others only if configured.
   */
  private originAllowed(origin: string, host: string | undefined, context: RequestContext) {
    if (this.options.allowedOrigins.includes(origin)) return true;
    if (host === undefined) return false;
    try {
      return new URL(`${context.secure ? 'https' : 'http'}://${host}`).origin === origin;
    } catch {
      return false;
    }
  }
}
