import net from 'node:net';
import tls from 'node:tls';
import type { ChatPort } from '../../core/port.js';
import type { Logger } from '../../core/logger.js';
import type { ClosingCode } from '../../protocol/closing.js';
import { AddressList } from '../address-list.js';
import { Connection, ConnectionContext } from '../layer/connection.js';
import type { ConnectionSet } from '../layer/connection-set.js';
import { proxySignature, readProxyHeader } from '../proxy-protocol.js';
import { NativeProtocol } from './native-protocol.js';

export interface ListenOptions {
  readonly host: string;
  readonly port: number;
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer };
  /**
   * The balancers (`net.trustedProxies`) whose PROXY protocol header is believed on this
   * listener. A connection from one of them must begin with a header; a header from anyone
   * else closes the connection. Absent or empty: every header is refused.
   */
  readonly trustedProxies?: AddressList;
}

/** Where a connection comes from: the peer, or the client a trusted balancer relays. */
interface Endpoint {
  readonly address: string;
  readonly port: number;
}

/** How long a refused connection may take to read why before it is cut. */
const REFUSE_FLUSH_MS = 1000;

/**
 * The connection behind each socket. Socket listeners are shared functions that look it
 * up, rather than three closures per connection: at ten thousand idle connections, every
 * hundred bytes per connection is a megabyte.
 */
const CONNECTION = Symbol('connection');
/** A socket carrying its connection (set once accepted; undefined again once closed). */
type Carrier = net.Socket & { [CONNECTION]?: Connection | undefined };

function connectionOf(socket: net.Socket): Connection | undefined {
  return (socket as Carrier)[CONNECTION];
}

function onSocketData(this: net.Socket, chunk: Buffer): void {
  const connection = connectionOf(this);
  if (!connection) return;
  try {
    connection.onData(chunk);
  } catch (error) {
    // A bug while reading one connection ends that connection, never the process.
    connection.readFailed(error);
  }
}

/** The close listener of a listener's sockets: one per listener, which knows its set. */
function socketCloser(set: ConnectionSet): (this: net.Socket) => void {
  return function onSocketClose(this: net.Socket): void {
    const connection = connectionOf(this);
    if (!connection) return;
    (this as Carrier)[CONNECTION] = undefined;
    connection.onClosed();
    set.remove(connection);
  };
}

/**
 * Accepts native protocol connections on TCP or TLS and hands each to the connection
 * layer. Everything but the bytes' format and the sockets lives in the layer.
 *
 * Behind a balancer (PROXY protocol, see docs/protocol.md): a connection from a trusted
 * balancer is held until its header arrives, then admitted, logged and greeted as the
 * client it names. TLS comes after the header, so TLS sockets are made here from the raw
 * ones rather than by `tls.Server`.
 */
export class NativeListener {
  private readonly server: net.Server;
  private readonly secureContext: tls.SecureContext | undefined;
  private readonly trustedProxies: AddressList;
  /** TLS only: the address group each raw socket counts against, until it closes. */
  private readonly rawSocketGroups = new WeakMap<net.Socket, string>();
  /** One shared close listener for raw TLS sockets rather than a closure per socket. */
  private readonly releaseRawSocket: (this: net.Socket) => void;
  private readonly onSocketError: (this: net.Socket, error: Error) => void;
  /** Sockets still before their connection (PROXY header, TLS handshake): cut on stop. */
  private readonly early = new Set<net.Socket>();
  /** An untrusted plain connection's first read (shared, for the same reason). */
  private readonly onFirstSocketData: (this: net.Socket, chunk: Buffer) => void;
  /** Shared by this listener's sockets (see `socketCloser`). */
  private readonly onSocketClose: (this: net.Socket) => void;
  /** Shared by this listener's connections; made with the first. */
  private context: ConnectionContext | undefined;

  constructor(
    private readonly core: ChatPort,
    private readonly logger: Logger,
    private readonly set: ConnectionSet,
    private readonly options: ListenOptions,
  ) {
    const { rawSocketGroups } = this;
    this.onSocketClose = socketCloser(set);
    this.trustedProxies = options.trustedProxies ?? new AddressList([]);
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
    /** First bytes of an untrusted connection while they could still be a PROXY signature. */
    const partialPrefaces = new WeakMap<net.Socket, Buffer>();
    // A header from a peer that is not a trusted balancer could claim any address: the
    // connection is closed. Anything else is the client's first bytes.
    this.onFirstSocketData = function (this: net.Socket, chunk: Buffer) {
      const connection = connectionOf(this);
      if (!connection) return;
      const held = partialPrefaces.get(this);
      const bytes = held ? Buffer.concat([held, chunk]) : chunk;
      const signature = proxySignature(bytes);
      if (signature === 'partial') {
        partialPrefaces.set(this, bytes);
        return;
      }
      partialPrefaces.delete(this);
      this.off('data', onFirstData);
      this.on('data', onSocketData);
      if (signature === 'none') {
        onSocketData.call(this, bytes);
        return;
      }
      logger.warn(
        { event: 'proxy_refused', address: connection.address, port: connection.port, signature },
        'PROXY header from an untrusted address',
      );
      connection.end('proxy_refused', UNTRUSTED_HEADER);
    };
    const onFirstData = this.onFirstSocketData;
    if (options.tls)
      this.secureContext = tls.createSecureContext({
        cert: options.tls.cert,
        key: options.tls.key,
      });
    this.server = net.createServer((raw) => this.onRawSocket(raw));
    this.server.on('error', (error) => this.logger.error({ err: error }, 'listener error'));
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
      // The server's close waits for every socket; these have nobody to say goodbye to.
      for (const socket of this.early) socket.destroy();
      this.early.clear();
    });
  }

  private onRawSocket(raw: net.Socket): void {
    raw.on('error', this.onSocketError);
    const peer: Endpoint = { address: raw.remoteAddress ?? 'unknown', port: raw.remotePort ?? 0 };
    if (this.trustedProxies.includes(peer.address)) {
      this.readProxyHeader(raw, peer);
      return;
    }
    if (!this.options.tls) {
      // The native protocol's server speaks first: greet at once, check the first read.
      const group = this.admit(raw, peer);
      if (group !== undefined) this.accept(raw, peer, group, undefined, true);
      return;
    }
    // Per-address limits apply before the handshake, so refused peers cost no crypto.
    if (this.admit(raw, peer) === undefined) return;
    // A TLS client speaks first, so its first bytes can be checked before the handshake.
    this.readPreface(raw, peer, (bytes) => {
      const signature = proxySignature(bytes);
      if (signature === 'partial') return false;
      if (signature === 'none') {
        raw.unshift(bytes);
        this.startTls(raw, peer);
      } else {
        this.logger.warn(
          { event: 'proxy_refused', address: peer.address, port: peer.port, signature },
          'PROXY header from an untrusted address',
        );
        raw.destroy();
      }
      return true;
    });
  }

  /**
   * A trusted balancer's connection: nothing is sent or admitted until its header says whom
   * it relays. No header, or a malformed one, closes the connection (see docs/protocol.md).
   */
  private readProxyHeader(raw: net.Socket, peer: Endpoint): void {
    this.readPreface(raw, peer, (bytes) => {
      const read = readProxyHeader(bytes);
      if (read.kind === 'incomplete') return false;
      if (read.kind !== 'header') {
        const message =
          read.kind === 'absent'
            ? 'A connection from a trusted balancer must begin with a PROXY protocol header'
            : `Malformed PROXY protocol header: ${read.reason}`;
        this.logger.warn(
          { event: 'proxy_refused', address: peer.address, port: peer.port, err: message },
          'bad PROXY header from a trusted balancer',
        );
        if (this.options.tls) raw.destroy();
        else this.refuse(raw, 'proxy_refused', message);
        return true;
      }
      const { header } = read;
      const client: Endpoint = header.command === 'proxy' ? header.source : peer;
      this.logger.info(
        {
          event: 'proxied',
          address: client.address,
          port: client.port,
          proxy: peer.address,
          proxyPort: peer.port,
          version: header.version,
          command: header.command,
        },
        'PROXY header',
      );
      const rest = bytes.subarray(read.length);
      const group = this.admit(raw, client);
      if (group === undefined) return true;
      if (this.options.tls) {
        if (rest.length > 0) raw.unshift(rest);
        this.startTls(raw, client);
      } else {
        this.accept(raw, client, group, rest, false);
      }
      return true;
    });
  }

  /**
   * Collects a connection's first bytes until `decide` takes them (returns true), within
   * the registration deadline. The socket is left paused with nothing read past them.
   */
  private readPreface(raw: net.Socket, peer: Endpoint, decide: (bytes: Buffer) => boolean): void {
    let bytes: Buffer = Buffer.alloc(0);
    this.early.add(raw);
    const timer = setTimeout(() => {
      this.logger.info(
        { event: 'preface_timeout', address: peer.address, port: peer.port },
        'no PROXY header or TLS hello in time',
      );
      raw.destroy();
    }, this.core.params.registrationTimeoutSeconds * 1000);
    const onData = (chunk: Buffer) => {
      bytes = bytes.length === 0 ? chunk : Buffer.concat([bytes, chunk]);
      raw.pause();
      if (!decide(bytes)) {
        raw.resume();
        return;
      }
      clearTimeout(timer);
      this.early.delete(raw);
      raw.off('data', onData);
      raw.off('close', onClose);
    };
    const onClose = () => {
      clearTimeout(timer);
      this.early.delete(raw);
    };
    raw.on('data', onData);
    raw.on('close', onClose);
  }

  /** Counts a connection against its address; undefined when it was turned away. */
  private admit(raw: net.Socket, client: Endpoint): string | undefined {
    const verdict = this.set.admit(client.address, client.port, this.transport);
    if (!verdict.ok) {
      // A refused TLS peer cannot be told why (that would need the handshake): it is cut off.
      if (this.options.tls) raw.destroy();
      else this.refuse(raw, verdict.code, verdict.message);
      return undefined;
    }
    if (this.options.tls) {
      this.rawSocketGroups.set(raw, verdict.group);
      raw.on('close', this.releaseRawSocket);
    }
    return verdict.group;
  }

  /** The handshake on a raw socket whose preface was read; the connection once it is done. */
  private startTls(raw: net.Socket, client: Endpoint): void {
    const socket = new tls.TLSSocket(raw, { isServer: true, secureContext: this.secureContext! });
    // A handshake that never finishes is a slowloris too: same deadline as a login.
    const timer = setTimeout(
      () => socket.destroy(),
      this.core.params.registrationTimeoutSeconds * 1000,
    );
    const onHandshakeError = (error: Error) => {
      clearTimeout(timer);
      this.logger.info(
        { event: 'tls_error', address: client.address, err: error.message },
        'TLS handshake failed',
      );
      socket.destroy();
    };
    socket.on('error', onHandshakeError);
    this.early.add(socket);
    socket.on('close', () => {
      clearTimeout(timer);
      this.early.delete(socket);
    });
    socket.once('secure', () => {
      clearTimeout(timer);
      this.early.delete(socket);
      socket.off('error', onHandshakeError);
      // Counted against its address with the raw socket, which closes with it.
      this.accept(socket, client, null, undefined, false);
    });
  }

  private accept(
    socket: net.Socket,
    client: Endpoint,
    group: string | null,
    rest: Buffer | undefined,
    checkFirstRead: boolean,
  ): void {
    socket.setNoDelay(true);
    this.context ??= new ConnectionContext(this.core, this.logger, {
      transport: this.transport,
      family: 'native',
      telemetry: this.set.telemetry,
    });
    const connection = new Connection(
      socket,
      new NativeProtocol(this.core.params['frame.maxBytes']),
      this.context,
      client.address,
      client.port,
    );
    (socket as Carrier)[CONNECTION] = connection;
    socket.on('data', checkFirstRead ? this.onFirstSocketData : onSocketData);
    // A raw socket has had it since it was accepted.
    if (socket instanceof tls.TLSSocket) socket.on('error', this.onSocketError);
    socket.on('close', this.onSocketClose);
    this.set.add(connection, group);
    // Bytes that came with a PROXY header are the client's first.
    if (rest && rest.length > 0) onSocketData.call(socket, rest);
    socket.resume();
  }

  /**
   * Turns a connection away before it costs anything: instead of `hello` it gets one
   * `closing` event saying why, and the socket is closed.
   */
  private refuse(socket: net.Socket, code: ClosingCode, message: string): void {
    socket.end(new NativeProtocol(0).closing(code, message, this.core.clock.now()));
    setTimeout(() => socket.destroy(), REFUSE_FLUSH_MS).unref();
  }
}

const UNTRUSTED_HEADER =
  'A PROXY protocol header is accepted only from an address in net.trustedProxies';
