import type { Socket } from 'node:net';
import type { ChatCore } from '../../core/chat-core.js';
import type { Logger } from '../../core/logger.js';
import type { ErrorCode } from '../../core/errors.js';
import { errorReply, type Link, type Outlet, type ServerFrame } from '../../core/session.js';
import { encodeServerFrame, parseRequest } from '../../protocol/codec.js';
import { FrameDecoder } from '../../protocol/framing.js';
import { Outbox } from './outbox.js';

/** Events nobody waits for: they may be held briefly to share a write (see Outbox). */
const LAZY_EVENTS: ReadonlySet<string> = new Set(['online', 'offline', 'room_join', 'room_leave']);

/** Bad frames in a row before the server gives up on a connection. */
export const MAX_CONSECUTIVE_ERRORS = 10;
/** Requests waiting on one connection before the server stops reading from it. */
const MAX_PENDING_REQUESTS = 64;
/** How long a closing connection may take to flush before it is cut. */
const CLOSE_FLUSH_MS = 2000;

/**
 * One TCP (or TLS) connection speaking protocol v1: turns bytes into requests for the
 * core and the core's frames into bytes, with a capped send queue.
 */
/** This turn's output may reach this many SendQs before the peer is dropped anyway. */
const TURN_OUTPUT_FACTOR = 4;

/**
 * The connection behind each socket. Socket listeners are shared functions that look it
 * up, rather than three closures per connection: at ten thousand idle connections, every
 * hundred bytes per connection is a megabyte.
 */
const connections = new WeakMap<Socket, NativeConnection>();

function onSocketData(this: Socket, chunk: Buffer): void {
  const connection = connections.get(this);
  if (!connection) return;
  try {
    connection.onData(chunk);
  } catch (error) {
    // A bug while reading one connection ends that connection, never the process.
    connection.readFailed(error);
  }
}

function onSocketError(this: Socket, error: Error): void {
  connections.get(this)?.socketError(error);
}

function onSocketClose(this: Socket): void {
  connections.get(this)?.socketClosed();
}

export class NativeConnection implements Outlet {
  readonly transport: string;
  readonly address: string;
  readonly port: number;
  readonly link: Link;
  lastReceivedAt: number;
  lastPingAt = 0;
  private readonly decoder: FrameDecoder;
  private readonly outbox: Outbox;
  private consecutiveErrors = 0;
  private pendingRequests = 0;
  private closing = false;
  /** Bytes of bulk frames (file chunks) written but not yet handed to the network. */
  private bulkBytes = 0;

  constructor(
    private readonly socket: Socket,
    private readonly core: ChatCore,
    private readonly logger: Logger,
    secure: boolean,
    /** Called once the socket has closed and the core has been told. */
    private readonly onClosed?: (connection: NativeConnection) => void,
  ) {
    this.transport = secure ? 'tls' : 'tcp';
    this.address = socket.remoteAddress ?? 'unknown';
    this.port = socket.remotePort ?? 0;
    this.lastReceivedAt = core.clock.now();
    this.decoder = new FrameDecoder(core.params['frame.maxBytes']);
    this.outbox = new Outbox(socket);
    socket.setNoDelay(true);
    connections.set(socket, this);
    socket.on('data', onSocketData);
    socket.on('error', onSocketError);
    socket.on('close', onSocketClose);
    this.link = core.attach(this);
  }

  get isClosing(): boolean {
    return this.closing;
  }

  send(frame: ServerFrame): void {
    if (this.closing || this.socket.destroyed) return;
    // The SendQ is output left over from earlier turns, which a reading peer drains; this
    // turn's own output (one fan-out, one commit's worth of messages) does not count, up to
    // a hard cap that bounds memory. File data is paced by drained(), so it never counts.
    const limit = this.core.params.sendqBytes;
    const leftOver = this.socket.writableLength - this.bulkBytes;
    if (leftOver > limit || this.outbox.pendingBytes > TURN_OUTPUT_FACTOR * limit) {
      this.dropUnreadingPeer(leftOver);
      return;
    }
    // Frames of one event-loop turn (a fan-out, a replay) leave in one write.
    this.outbox.push(encodeServerFrame(frame), 'ev' in frame && LAZY_EVENTS.has(frame.ev));
  }

  sendBulk(frame: ServerFrame): void {
    if (this.closing || this.socket.destroyed) return;
    const bytes = encodeServerFrame(frame);
    // Frames queued earlier in this turn go first: coalescing never reorders output.
    this.outbox.flush();
    this.bulkBytes += bytes.length;
    this.socket.write(bytes, () => {
      this.bulkBytes -= bytes.length;
    });
  }

  drained(): Promise<void> {
    if (!this.socket.writableNeedDrain || this.socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }

  close(code: string, message: string): void {
    if (this.closing) return;
    this.send(this.core.events.make({ ev: 'closing', code, message }));
    this.closing = true;
    this.outbox.flush();
    this.socket.end();
    setTimeout(() => this.socket.destroy(), CLOSE_FLUSH_MS).unref();
  }

  /**
   * The peer stopped reading: drop it rather than buffer without bound. Nothing more is
   * queued for it (not even `closing`, which it would not read), and its buffered output is
   * released at once.
   */
  private dropUnreadingPeer(leftOver: number): void {
    this.closing = true;
    this.logger.warn(
      {
        event: 'sendq_exceeded',
        address: this.address,
        port: this.port,
        link: this.link.id,
        queued: leftOver,
        pending: this.outbox.pendingBytes,
      },
      'send queue full: dropping a client that does not read',
    );
    this.socket.destroy();
    this.core.closeLink(
      this.link,
      'sendq_exceeded',
      'Too much output queued: the client is not reading',
    );
  }

  ping(): void {
    this.lastPingAt = this.core.clock.now();
    this.send(this.core.events.make({ ev: 'ping' }));
  }

  /** Reading failed on this connection: it ends, the process goes on. */
  readFailed(error: unknown): void {
    this.logger.error({ err: error, link: this.link.id }, 'connection input failed');
    this.core.closeLink(this.link, 'internal_error', 'The server failed to read your input');
  }

  socketError(error: Error): void {
    this.logger.info(
      { event: 'socket_error', address: this.address, port: this.port, err: error.message },
      'socket error',
    );
  }

  socketClosed(): void {
    connections.delete(this.socket);
    this.core.detach(this.link);
    this.onClosed?.(this);
  }

  onData(chunk: Buffer): void {
    if (this.closing) return;
    const results = this.decoder.push(chunk);
    // Only whole frames count as life: a peer trickling a frame that never ends (slowloris)
    // is as silent as one sending nothing.
    if (results.length > 0) this.lastReceivedAt = this.core.clock.now();
    for (const result of results) {
      if (this.closing) return;
      if (result.kind === 'error') {
        const limit = this.core.params['frame.maxBytes'];
        if (result.code === 'frame_too_large') {
          this.sendError('frame_too_large', `A frame may hold at most ${limit} bytes`);
          this.core.closeLink(
            this.link,
            'frame_too_large',
            `A frame may hold at most ${limit} bytes`,
          );
          return;
        }
        this.badInput('invalid_utf8', 'The frame is not valid UTF-8');
        continue;
      }
      if (result.text.trim() === '') continue;
      const parsed = parseRequest(result.text);
      if (!parsed.ok) {
        this.badInput(parsed.code, parsed.message, parsed.re);
        continue;
      }
      this.consecutiveErrors = 0;
      this.pendingRequests++;
      if (this.pendingRequests >= MAX_PENDING_REQUESTS) this.socket.pause();
      this.core.receive(this.link, parsed.request).finally(() => {
        this.pendingRequests--;
        if (this.pendingRequests < MAX_PENDING_REQUESTS / 2 && !this.closing) this.socket.resume();
      });
    }
  }

  private badInput(code: ErrorCode, message: string, re: number | null = null): void {
    this.sendError(code, message, re);
    if (++this.consecutiveErrors >= MAX_CONSECUTIVE_ERRORS)
      this.core.closeLink(this.link, 'too_many_errors', 'Too many bad requests in a row');
  }

  private sendError(code: ErrorCode, message: string, re: number | null = null): void {
    this.send(errorReply(re, code, message));
  }

  destroy(): void {
    this.socket.destroy();
  }
}
