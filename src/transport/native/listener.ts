import net from 'node:net';
import tls from 'node:tls';
import type { ChatPort } from '../../core/port.js';
import type { Logger } from '../../core/logger.js';
import type { ClosingCode } from '../../protocol/closing.js';
import { Connection } from '../layer/connection.js';
import type { ConnectionSet } from '../layer/connection-set.js';
import { NativeProtocol } from './native-protocol.js';

export interface ListenOptions {
  readonly host: string;
  readonly port: number;
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer };
}

/** How long a refused connection may take to read why before it is cut. */
const REFUSE_FLUSH_MS = 1000;

/**
 * The connection behind each socket. Socket listeners are shared functions that look it
 * up, rather than three closures per connection: at ten thousand idle connections, every
 * hundred bytes per connection is a megabyte.
 */
const connections = new WeakMap<net.Socket, Connection>();
/** The set each socket's connection belongs to, for the shared close listener. */
const sets = new WeakMap<Connection, ConnectionSet>();

function onSocketData(this: net.Socket, chunk: Buffer): void {
  const connection = connections.get(this);
  if (!connection) return;
  try {
    connection.onData(chunk);
  } catch (error) {
    // A bug while reading one connection ends that connection, never the process.
    connection.readFailed(error);
  }
}

function onSocketClose(this: net.Socket): void {
  const connection = connections.get(this);
  if (!connection) return;
  connections.delete(this);
  connection.onClosed();
  sets.get(connection)?.remove(connection);
}

/**
 * Accepts native protocol connections on TCP or TLS and hands each to the connection
 * layer. Everything but the bytes' format and the sockets lives in the layer.
 */
export class NativeListener {
  private readonly server: net.Server;
  /** TLS only: the address group each raw socket counts against, until it closes. */
  private readonly rawSocketGroups = new WeakMap<net.Socket, string>();
  /** One shared close listener for raw TLS sockets rather than a closure per socket. */
  private readonly releaseRawSocket: (this: net.Socket) => void;
  private readonly onSocketError: (this: net.Socket, error: Error) => void;

  constructor(
    private readonly core: ChatPort,
    private readonly logger: Logger,
    private readonly set: ConnectionSet,
    private readonly options: ListenOptions,
  ) {
    const { rawSocketGroups } = this;
    this.releaseRawSocket = function (this: net.Socket) {
      const group = rawSocketGroups.get(this);
      if (group === undefined) return;
      rawSocketGroups.delete(this);
      set.release(group);
    };
    this.onSocketError = function (this: net.Socket, error: Error) {
      logger.info(
        {
          event: 'socket_error',
          address: this.remoteAddress,
          port: this.remotePort,
          err: error.message,
        },
        'socket error',
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
        const verdict = set.admit(raw.remoteAddress ?? 'unknown', raw.remotePort ?? 0, 'tls');
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

  get transport(): 'tls' | 'tcp' {
    return this.options.tls ? 'tls' : 'tcp';
  }

  listen(): Promise<net.AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      this.server.once('error', onError);
      this.server.listen({ host: this.options.host, port: this.options.port }, () => {
        this.server.off('error', onError);
        this.set.start();
        resolve(this.server.address() as net.AddressInfo);
      });
    });
  }

  /** Stops accepting; existing connections stay until the core closes them. */
  stopAccepting(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.server.listening) {
        resolve();
        return;
      }
      this.set.stop();
      this.server.close(() => resolve());
    });
  }

  private accept(socket: net.Socket): void {
    const address = socket.remoteAddress ?? 'unknown';
    const port = socket.remotePort ?? 0;
    // TLS connections were admitted before their handshake.
    let group: string | null = null;
    if (!this.options.tls) {
      const verdict = this.set.admit(address, port, 'tcp');
      if (!verdict.ok) {
        this.refuse(socket, verdict.code, verdict.message);
        return;
      }
      group = verdict.group;
    }
    socket.setNoDelay(true);
    const connection = new Connection(
      socket,
      this.core,
      new NativeProtocol(this.core.params['frame.maxBytes']),
      this.logger,
      { transport: this.transport, family: 'native', address, port, telemetry: this.set.telemetry },
    );
    connections.set(socket, connection);
    sets.set(connection, this.set);
    socket.on('data', onSocketData);
    socket.on('error', this.onSocketError);
    socket.on('close', onSocketClose);
    this.set.add(connection, group);
  }

  /**
   * Turns a connection away before it costs anything: instead of `hello` it gets one
   * `closing` event saying why, and the socket is closed.
   */
  private refuse(socket: net.Socket, code: ClosingCode, message: string): void {
    socket.on('error', () => undefined);
    socket.end(new NativeProtocol(0).closing(code, message, this.core.clock.now()));
    setTimeout(() => socket.destroy(), REFUSE_FLUSH_MS).unref();
  }
}
