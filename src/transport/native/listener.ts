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
  private readonly connections = new Set<NativeConnection>();
  private sweepTimer: NodeJS.Timeout | undefined;
  private readonly addressLimits: AddressLimits;
  /** The address group each admitted socket counts against, until it closes. */
  private readonly admittedGroups = new WeakMap<net.Socket, string>();
  /** One shared close listener rather than a closure per connection. */
  private readonly releaseAddress: (this: net.Socket) => void;

  constructor(
    private readonly core: ChatCore,
    private readonly logger: Logger,
    private readonly options: ListenOptions,
  ) {
    this.addressLimits = options.addressLimits ?? new AddressLimits(core.clock, () => core.params);
    const { addressLimits, admittedGroups } = this;
    this.releaseAddress = function (this: net.Socket) {
      const group = admittedGroups.get(this);
      if (group === undefined) return;
      admittedGroups.delete(this);
      addressLimits.release(group);
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
        if (!verdict.ok) raw.destroy();
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
    for (const connection of this.connections) connection.destroy();
  }

  /** Counts a new connection against its address; it is released when the socket closes. */
  private admitAddress(socket: net.Socket): AddressVerdict {
    const verdict = this.addressLimits.admit(socket.remoteAddress ?? 'unknown');
    if (verdict.ok) {
      this.admittedGroups.set(socket, verdict.group);
      socket.on('close', this.releaseAddress);
    } else
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
    if (!this.options.tls) {
      const verdict = this.admitAddress(socket);
      if (!verdict.ok) {
        this.refuse(socket, verdict.code, verdict.message);
        return;
      }
    }
    const connection = new NativeConnection(
      socket,
      this.core,
      this.logger,
      this.options.tls !== undefined,
    );
    this.connections.add(connection);
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
    socket.on('close', () => {
      this.connections.delete(connection);
      this.logger.info(
        {
          event: 'disconnect',
          address: connection.address,
          port: connection.port,
          link: connection.link.id,
        },
        'connection closed',
      );
    });
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
    for (const connection of this.connections) {
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
