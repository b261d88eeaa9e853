import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '../core/logger.js';
import { AddressList } from '../transport/address-list.js';
import { clientAddress } from './client-address.js';
import { Router, type RequestContext } from './router.js';
import { setSecurityHeaders } from './security-headers.js';
import { StaticFiles } from './static-files.js';

/** Takes over an HTTP connection that asked to upgrade (the WebSocket endpoint). */
export type UpgradeHandler = (
  request: http.IncomingMessage,
  socket: Duplex,
  head: Buffer,
  context: RequestContext,
) => void;

export interface WebListenerOptions {
  readonly host: string;
  readonly port: number;
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer };
  /** The built web client (`dist/web`). */
  readonly webRoot: string;
  readonly trustedProxies: readonly string[];
}

/** A request's head must arrive within this; a slowloris holds nothing for long. */
const HEADERS_TIMEOUT_MS = 10_000;
/**
 * A connection that moves no byte for this long is closed. Bodies are bounded by
 * inactivity, not by a total time: a file upload (PUT /file) may take minutes, but a
 * client that stops sending, or stops reading a download, is let go. (`ws` clears this
 * on an upgraded connection, which keeps its own ping deadlines.)
 */
const IDLE_TIMEOUT_MS = 30_000;

/**
 * The HTTP(S) listener: the browser client's files, `/ws`, and whatever other modules
 * register on `routes` (metrics, health checks). Every response carries the security
 * headers; the client's address is worked out once per request, trusting
 * `X-Forwarded-For` only from `net.trustedProxies`.
 */
export class WebListener {
  readonly routes = new Router();
  private readonly upgrades = new Map<string, UpgradeHandler>();
  private readonly server: http.Server;
  private readonly staticFiles: StaticFiles;
  private readonly trustedProxies: AddressList;
  private readonly secure: boolean;
  private readonly sockets = new Set<Socket>();

  constructor(
    private readonly options: WebListenerOptions,
    private readonly logger: Logger,
  ) {
    this.secure = options.tls !== undefined;
    this.trustedProxies = new AddressList(options.trustedProxies);
    this.staticFiles = new StaticFiles(options.webRoot);
    if (!this.staticFiles.isBuilt)
      logger.warn(
        { event: 'web_client_missing', root: options.webRoot },
        'the web client is not built (npm run build): the web port serves only /ws',
      );
    const serverOptions: http.ServerOptions = {
      headersTimeout: HEADERS_TIMEOUT_MS,
      requestTimeout: 0,
    };
    const onRequest = (request: http.IncomingMessage, response: http.ServerResponse) =>
      this.handle(request, response);
    this.server = options.tls
      ? https.createServer({ ...serverOptions, ...options.tls }, onRequest)
      : http.createServer(serverOptions, onRequest);
    this.server.setTimeout(IDLE_TIMEOUT_MS, (socket) => socket.destroy());
    this.server.on('upgrade', (request: http.IncomingMessage, socket: Duplex, head: Buffer) =>
      this.upgrade(request, socket, head),
    );
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    this.server.on('clientError', (error: Error, socket: Duplex) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      else socket.destroy();
      logger.info({ event: 'http_client_error', err: error.message }, 'bad HTTP request');
    });
    this.routes.setFallback((request, response, context) => {
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        response.setHeader('Allow', 'GET, HEAD');
        return plain(response, 405, 'Method not allowed\n');
      }
      if (this.staticFiles.serve(request, response, context.url.pathname)) return;
      if (!this.staticFiles.isBuilt && context.url.pathname === '/')
        return plain(response, 503, 'The web client is not built: run npm run build.\n');
      plain(response, 404, 'Not found\n');
    });
  }

  get isSecure(): boolean {
    return this.secure;
  }

  /** Routes an upgrade request for `path` (e.g. `/ws`) to `handler`. */
  onUpgrade(path: string, handler: UpgradeHandler): void {
    if (this.upgrades.has(path)) throw new Error(`upgrade path ${path} is already taken`);
    this.upgrades.set(path, handler);
  }

  listen(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      this.server.once('error', onError);
      this.server.listen({ host: this.options.host, port: this.options.port }, () => {
        this.server.off('error', onError);
        this.server.on('error', (error) => this.logger.error({ err: error }, 'web listener error'));
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  /**
   * Stops accepting and ends idle keep-alive connections; upgraded (WebSocket)
   * connections belong to their transport, which closes them.
   */
  stopAccepting(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
    });
  }

  /** Cuts whatever is still open (after the transports had their chance to say goodbye). */
  destroyAll(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  private context(request: http.IncomingMessage): RequestContext {
    const peer = request.socket.remoteAddress ?? 'unknown';
    return {
      // The Host header is the client's word: used for nothing but the path's base.
      url: new URL(request.url ?? '/', 'http://confab.invalid'),
      clientAddress: clientAddress(peer, request.headers['x-forwarded-for'], this.trustedProxies),
      secure:
        this.secure ||
        (this.trustedProxies.includes(peer) && request.headers['x-forwarded-proto'] === 'https'),
    };
  }

  private handle(request: http.IncomingMessage, response: http.ServerResponse): void {
    setSecurityHeaders(response);
    let context: RequestContext;
    try {
      context = this.context(request);
    } catch {
      return plain(response, 400, 'Bad request\n');
    }
    const method = request.method ?? 'GET';
    const resolved = this.routes.resolve(method, context.url.pathname);
    if (!('handler' in resolved)) {
      if (resolved.status === 405) response.setHeader('Allow', resolved.allow);
      const text = resolved.status === 404 ? 'Not found\n' : 'Method not allowed\n';
      return plain(response, resolved.status, text);
    }
    Promise.resolve()
      .then(() => resolved.handler(request, response, context))
      .catch((error: unknown) => {
        this.logger.error({ err: error, path: context.url.pathname }, 'web request failed');
        if (!response.headersSent) plain(response, 500, 'Internal error\n');
        else response.destroy();
      });
  }

  private upgrade(request: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    let context: RequestContext;
    try {
      context = this.context(request);
    } catch {
      return rejectUpgrade(socket, 400, 'Bad Request');
    }
    const handler = this.upgrades.get(context.url.pathname);
    if (!handler) return rejectUpgrade(socket, 404, 'Not Found');
    handler(request, socket, head, context);
  }
}

function plain(response: http.ServerResponse, status: number, text: string): void {
  response.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  });
  response.end(text);
}

/** Refuses an upgrade with a plain HTTP status before any WebSocket exists. */
export function rejectUpgrade(socket: Duplex, status: number, reason: string): void {
  if (socket.writable)
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n` +
        'X-Content-Type-Options: nosniff\r\n\r\n',
    );
  socket.destroy();
}
