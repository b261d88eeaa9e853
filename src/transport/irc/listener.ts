import net from 'node:net';
import tls from 'node:tls';
import type { GatewayPort } from '../../core/port.js';
import type { Logger } from '../../core/logger.js';
import { Connection, ConnectionContext } from '../layer/connection.js';
import type { ConnectionSet } from '../layer/connection-set.js';
import type { IrcGatewayShared } from './irc-client.js';
import { IrcProtocol } from './irc-protocol.js';
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
    topicSetters: new Map(),
  };
}

/**
 * Accepts IRC clients on TCP or TLS and hands each to the shared connection layer (send
 * queue, backpressure, bad-input counting, deadlines, per-address admission, telemetry),
 * speaking IRC through `IrcProtocol`, as native and WebSocket clients are handed to it.
 */
export class IrcListener {
  private readonly server: net.Server;
  /** TLS only: the address group each raw socket counts against, until it closes. */
  private readonly rawSocketGroups = new WeakMap<net.Socket, string>();
  /** Shared by this listener's connections; made with the first. */
  private context: ConnectionContext | undefined;

  constructor(
    private readonly core: GatewayPort,
    private readonly logger: Logger,
    private readonly options: IrcListenOptions,
  ) {
    const onSocket = (socket: net.Socket) => this.accept(socket);
    const set = options.connections;
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
    if (options.tls) {
      // Per-address limits apply before the handshake, so refused peers cost no crypto.
      this.server.on('connection', (raw: net.Socket) => {
        const verdict = set.admit(raw.remoteAddress ?? 'unknown', raw.remotePort ?? 0, 'irc+tls');
        if (!verdict.ok) {
          raw.destroy();
          return;
        }
        this.rawSocketGroups.set(raw, verdict.group);
        raw.on('close', () => {
          const group = this.rawSocketGroups.get(raw);
          if (group === undefined) return;
          this.rawSocketGroups.delete(raw);
          set.release(group);
        });
      });
      this.server.on('tlsClientError', (error: Error, socket: tls.TLSSocket) => {
        this.logger.info(
          { event: 'tls_error', address: socket.remoteAddress, err: error.message },
          'TLS handshake failed',
        );
        socket.destroy();
      });
    }
  }

  listen(): Promise<net.AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      this.server.once('error', onError);
      this.server.listen({ host: this.options.host, port: this.options.port }, () => {
        this.server.off('error', onError);
        this.options.connections.start();
        resolve(this.server.address() as net.AddressInfo);
      });
    });
  }

  /** Stops accepting; open connections stay until the core closes them (see ConnectionSet). */
  stopAccepting(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.server.listening) {
        resolve();
        return;
      }
      this.options.connections.stop();
      this.server.close(() => resolve());
    });
  }

  private accept(socket: net.Socket): void {
    const address = socket.remoteAddress ?? 'unknown';
    const port = socket.remotePort ?? 0;
    const set = this.options.connections;
    // TLS connections were admitted before their handshake.
    let group: string | null = null;
    if (!this.options.tls) {
      const verdict = set.admit(address, port, 'irc');
      if (!verdict.ok) {
        socket.on('error', () => undefined);
        socket.end(
          formatMessage(undefined, 'ERROR', [`Closing link: ${verdict.message}`]) + '\r\n',
        );
        setTimeout(() => socket.destroy(), REFUSE_FLUSH_MS).unref();
        return;
      }
      group = verdict.group;
    }
    socket.setNoDelay(true);
    const protocol = new IrcProtocol(this.core, this.options.shared);
    this.context ??= new ConnectionContext(this.core, this.logger, {
      transport: this.options.tls ? 'irc+tls' : 'irc',
      family: 'irc',
      telemetry: set.telemetry,
      // File data does not travel over IRC: offers arrive as notices (service.ts).
      bulk: false,
    });
    const connection = new Connection(socket, protocol, this.context, address, port);
    protocol.bind(connection);
    socket.on('data', (chunk: Buffer) => {
      try {
        connection.onData(chunk);
      } catch (error) {
        // A bug while reading one connection ends that connection, never the process.
        connection.readFailed(error);
      }
    });
    socket.on('error', (error) =>
      this.logger.info(
        { event: 'socket_error', address, port, err: error.message },
        'socket error',
      ),
    );
    socket.on('close', () => {
      protocol.closed();
      connection.onClosed();
      set.remove(connection);
    });
    set.add(connection, group);
  }
}
