import net from 'node:net';
import tls from 'node:tls';
import type { ChatCore } from '../../core/chat-core.js';
import type { Logger } from '../../core/logger.js';
import { encodeServerFrame } from '../../protocol/codec.js';
import { AddressLimits, type AddressVerdict } from '../address-limits.js';
import { NativeConnection } from './connection.js';

export interface ListenOptions {
  readonly host: string;
  readonly port: number;
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer };
  /** Per-address counts shared by every listener of one server (else each has its own). */
  readonly addressLimits?: AddressLimits;
}

/** How often connection deadlines (registration, keepalive) are checked. */
const SWEEP_INTERVAL_MS = 1000;
/** How long a refused connection may take to read why before it is cut. */
const REFUSE_FLUSH_MS = 1000;

/**
 * Accepts protocol v1 connections on TCP or TLS and hands each to the core. Deadlines are
 * checked by one periodic sweep rather than a timer per connection, which keeps an idle
 * connection cheap.
 */
export class NativeListener {
  private readonly server: net.Server;
  /**
   * Open connections, each with the address group it counts against until it closes
   * (null for TLS, whose raw socket was counted, and released, before its handshake).
   */
  private readonly connections = new Map<NativeConnection, string | null>();
  private sweepTimer: NodeJS.Timeout | undefined;
  private readonly addressLimits: AddressLimits;
  /** TLS only: the address group each raw socket counts against, until it closes. */
  private readonly rawSocketGroups = new WeakMap<net.Socket, string>();
  /** One shared close listener for raw TLS sockets rather than a closure per socket. */
  private readonly releaseRawSocket: (this: net.Socket) => void;
  /**
   * One shared hook for every closed connection: at ten thousand idle connections a
   * closure and a `close` listener each is a megabyte and more.
   */
  private readonly connectionClosed: (connection: NativeConnection) => void;

  constructor(
    private readonly core: ChatCore,
    private readonly logger: Logger,
    private readonly options: ListenOptions,
  ) {
    this.addressLimits = options.addressLimits ?? new AddressLimits(core.clock, () => core.params);
    const { addressLimits, rawSocketGroups, connections } = this;
    this.releaseRawSocket = function (this: net.Socket) {
      const group = rawSocketGroups.get(this);
      if (group === undefined) return;
      rawSocketGroups.delete(this);
      addressLimits.release(group);
    };
    this.connectionClosed = (connection) => {
      const group = connections.get(connection);
      if (group === undefined) return;
      connections.delete(connection);
      if (group !== null) addressLimits.release(group);
      logger.info(
        {
          event: 'disconnect',
          address: connection.address,
          port: connection.port,
          link: connection.link.id,
        },
        'connection closed',
      );
    };
    const onSocket = (socket: net.Socket) => this.accept(socket);
    this.server = options.tls
      ? tls.createServer(
          {
            cert: options.tls.cert,
            key: options.tls.key,
            // A handshake that never finishes is a slowloris too: same deadline as a login.
            handshakeTimeout: core.params.registrationTimeoutSeconds * 1000,
          },
          onSocket,
        )
      : net.createServer(onSocket);
    this.server.on('error', (error) => this.logger.error({ err: error }, 'listener error'));
    if (options.tls) {
      // Per-address limits apply before the handshake, so refused peers cost no crypto. A
      // refused TLS peer cannot be told why (that would need the handshake): it is cut off.
      this.server.on('connection', (raw: net.Socket) => {
        const verdict = this.admitAddress(raw);
        if (!verdict.ok) {
          raw.destroy();
          return;
        }
        this.rawSocketGroups.set(raw, verdict.group);
        raw.on('close', this.releaseRawSocket);
      });
      this.server.on('tlsClientError', (error: Error, socket: tls.TLSSocket) => {
        this.logger.info(
          { event: 'tls_error', address: socket.remoteAddress, err: error.message },
          'TLS handshake failed',
        );
        // With a listener Node leaves the socket open: a timed-out handshake must end here.
        socket.destroy();
      });
    }
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  listen(): Promise<net.AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      this.server.once('error', onError);
      this.server.listen({ host: this.options.host, port: this.options.port }, () => {
        this.server.off('error', onError);
        this.sweepTimer = setInterval(() => {
          try {
            this.sweep();
          } catch (error) {
            this.logger.error({ err: error }, 'connection sweep failed');
          }
        }, SWEEP_INTERVAL_MS);
        this.sweepTimer.unref();
        resolve(this.server.address() as net.AddressInfo);
      });
    });
  }

  /** Stops accepting; existing connections stay until the core closes them. */
  stopAccepting(): Promise<void> {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  destroyAll(): void {
    for (const connection of this.connections.keys()) connection.destroy();
  }

  /** Counts a new connection against its address; the caller releases it at close. */
  private admitAddress(socket: net.Socket): AddressVerdict {
    const verdict = this.addressLimits.admit(socket.remoteAddress ?? 'unknown');
    if (!verdict.ok)
      this.logger.warn(
        {
          event: 'connection_refused',
          code: verdict.code,
          address: socket.remoteAddress,
          port: socket.remotePort,
        },
        'connection refused',
      );
    return verdict;
  }

  private accept(socket: net.Socket): void {
    // TLS connections were admitted before their handshake.
    let group: string | null = null;
    if (!this.options.tls) {
      const verdict = this.admitAddress(socket);
      if (!verdict.ok) {
        this.refuse(socket, verdict.code, verdict.message);
        return;
      }
      group = verdict.group;
    }
    const connection = new NativeConnection(
      socket,
      this.core,
      this.logger,
      this.options.tls !== undefined,
      this.connectionClosed,
    );
    // 'close' comes in a later turn, so the hook finds the connection here.
    this.connections.set(connection, group);
    this.logger.info(
      {
        event: 'connect',
        transport: connection.transport,
        address: connection.address,
        port: connection.port,
        link: connection.link.id,
      },
      'connection opened',
    );
  }

  /**
   * Turns a connection away before it costs anything: instead of `hello` it gets one
   * `closing` event saying why, and the socket is closed.
   */
  private refuse(socket: net.Socket, code: string, message: string): void {
    socket.on('error', () => undefined);
    socket.end(encodeServerFrame(this.core.events.make({ ev: 'closing', code, message })));
    setTimeout(() => socket.destroy(), REFUSE_FLUSH_MS).unref();
  }

  private sweep(): void {
    this.addressLimits.prune();
    const params = this.core.params;
    const now = this.core.clock.now();
    const registrationMs = params.registrationTimeoutSeconds * 1000;
    const pingMs = params['ping.intervalSeconds'] * 1000;
    const timeoutMs = params['ping.timeoutSeconds'] * 1000;
    for (const connection of this.connections.keys()) {
      if (connection.isClosing) continue;
      const link = connection.link;
      if (!link.session && now - link.openedAt > registrationMs) {
        this.core.closeLink(link, 'registration_timeout', 'No nickname chosen in time');
        continue;
      }
      const silentMs = now - connection.lastReceivedAt;
      const pinged = connection.lastPingAt >= connection.lastReceivedAt;
      // Never drop a connection before it was pinged and had the rest of the timeout to
      // answer: on a busy server a late sweep must not cut off a client it never asked.
      if (silentMs > timeoutMs && pinged && now - connection.lastPingAt >= timeoutMs - pingMs) {
        this.core.closeLink(
          link,
          'ping_timeout',
          `No data for ${Math.round(silentMs / 1000)} seconds`,
        );
      } else if (silentMs > pingMs && !pinged) {
        connection.ping();
      }
    }
  }
}
