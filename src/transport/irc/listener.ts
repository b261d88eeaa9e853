import net from 'node:net';
import tls from 'node:tls';
import type { ChatCore } from '../../core/chat-core.js';
import type { Logger } from '../../core/logger.js';
import type { ConnectionSet } from '../layer/connection-set.js';
import { IrcConnection } from './connection.js';
import type { IrcGatewayShared } from './irc-client.js';
import { formatMessage } from './message.js';

export interface IrcListenOptions {
  readonly host: string;
  readonly port: number;
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer };
  /** The server's connection set: per-address limits count across every listener. */
  readonly connections: ConnectionSet;
  /** State shared by every IRC listener of one server (away messages, clients). */
  readonly shared: IrcGatewayShared;
}

const SWEEP_INTERVAL_MS = 1000;
const REFUSE_FLUSH_MS = 1000;

/** The MOTD: where Confab's own commands are, since IRC has no word for most of them. */
export const DEFAULT_MOTD: readonly string[] = [
  'This is Confab, a self-hosted chat server; IRC is one way in.',
  'Everyone online is in #lobby. /join #name makes a room if there is none.',
  'Confab commands IRC has no word for: /msg Confab help',
  '(inbox, block NAME, files, register PASSWORD, and for admins ban NAME 2h).',
];

export function createIrcShared(serverName: string, now: number): IrcGatewayShared {
  return {
    serverName,
    createdAt: new Date(now),
    motd: DEFAULT_MOTD,
    away: new Map(),
    clients: new Set(),
  };
}

/** Accepts IRC clients on TCP or TLS; deadlines checked by one periodic sweep. */
export class IrcListener {
  private readonly server: net.Server;
  private readonly connections = new Map<IrcConnection, string>();
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly core: ChatCore,
    private readonly logger: Logger,
    private readonly options: IrcListenOptions,
  ) {
    const onSocket = (socket: net.Socket) => this.accept(socket);
    this.server = options.tls
      ? tls.createServer(
          {
            cert: options.tls.cert,
            key: options.tls.key,
            handshakeTimeout: core.params.registrationTimeoutSeconds * 1000,
          },
          onSocket,
        )
      : net.createServer(onSocket);
    this.server.on('error', (error) => this.logger.error({ err: error }, 'IRC listener error'));
    if (options.tls)
      this.server.on('tlsClientError', (error: Error, socket: tls.TLSSocket) => {
        this.logger.info(
          { event: 'tls_error', address: socket.remoteAddress, err: error.message },
          'TLS handshake failed',
        );
        socket.destroy();
      });
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
            this.logger.error({ err: error }, 'IRC connection sweep failed');
          }
        }, SWEEP_INTERVAL_MS);
        this.sweepTimer.unref();
        resolve(this.server.address() as net.AddressInfo);
      });
    });
  }

  stopAccepting(): Promise<void> {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  destroyAll(): void {
    for (const connection of this.connections.keys()) connection.destroy();
  }

  private accept(socket: net.Socket): void {
    const verdict = this.options.connections.admit(
      socket.remoteAddress ?? 'unknown',
      socket.remotePort ?? 0,
      'irc',
    );
    if (!verdict.ok) {
      socket.on('error', () => undefined);
      socket.end(formatMessage(undefined, 'ERROR', [`Closing link: ${verdict.message}`]) + '\r\n');
      setTimeout(() => socket.destroy(), REFUSE_FLUSH_MS).unref();
      return;
    }
    const connection = new IrcConnection(
      socket,
      this.core,
      this.logger,
      this.options.shared,
      this.options.tls !== undefined,
      (closed) => {
        const group = this.connections.get(closed);
        if (group === undefined) return;
        this.connections.delete(closed);
        this.options.connections.release(group);
      },
    );
    this.connections.set(connection, verdict.group);
    this.logger.info(
      {
        event: 'connect',
        transport: connection.transport,
        address: connection.address,
        link: connection.client.link.id,
      },
      'IRC connection opened',
    );
  }

  private sweep(): void {
    const params = this.core.params;
    const now = this.core.clock.now();
    const registrationMs = params.registrationTimeoutSeconds * 1000;
    const pingMs = params['ping.intervalSeconds'] * 1000;
    const timeoutMs = params['ping.timeoutSeconds'] * 1000;
    for (const connection of this.connections.keys()) {
      if (connection.isClosing) continue;
      const { link } = connection.client;
      if (!connection.client.registered && now - link.openedAt > registrationMs) {
        this.core.closeLink(link, 'registration_timeout', 'Registration timed out');
        continue;
      }
      const silentMs = now - connection.lastReceivedAt;
      const pinged = connection.lastPingAt >= connection.lastReceivedAt;
      if (silentMs > timeoutMs && pinged && now - connection.lastPingAt >= timeoutMs - pingMs)
        this.core.closeLink(
          link,
          'ping_timeout',
          `Ping timeout: ${Math.round(silentMs / 1000)} seconds`,
        );
      else if (silentMs > pingMs && !pinged) connection.ping();
    }
  }
}
