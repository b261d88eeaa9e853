import type { ChatPort, Link, Outlet } from '../../core/port.js';
import type { Logger } from '../../core/logger.js';
import type { ClosingCode } from '../../protocol/closing.js';
import type { ErrorCode } from '../../protocol/errors.js';
import { errorReply } from '../../protocol/frames.js';
import { serverFrameMaxBytes } from '../../protocol/version.js';
import { noTelemetry, type Telemetry, type TransportName } from '../../telemetry/telemetry.js';
import { Outbox } from './outbox.js';
import type { CoreFrame, WireProtocol } from './protocol.js';
import type { Wire } from './wire.js';

/** Bad inputs in a row before the server gives up on a connection. */
export const MAX_CONSECUTIVE_ERRORS = 10;
/** Requests waiting on one connection before the server stops reading from it. */
export const MAX_PENDING_REQUESTS = 64;
/** How long a closing connection may take to flush before it is cut. */
const CLOSE_FLUSH_MS = 2000;
/** This turn's output may reach this many SendQs before the peer is dropped anyway. */
const TURN_OUTPUT_FACTOR = 4;

export interface ConnectionOptions {
  /** `tcp`, `tls`, `websocket`, `irc`, ...: shown in logs and `/whois`. */
  readonly transport: string;
  /** The protocol family, for metrics. */
  readonly family: TransportName;
  readonly telemetry?: Telemetry;
  /** False for message-framed wires: frames are never concatenated into one write. */
  readonly coalesce?: boolean;
  /** True when the transport can carry file data (see `Outlet.sendBulk`). */
  readonly bulk?: boolean;
}

/**
 * What every connection of one listener shares, made once per listener: five fields fewer
 * per connection (40 bytes each at ten thousand idle connections).
 */
export class ConnectionContext {
  readonly transport: string;
  readonly family: TransportName;
  readonly telemetry: Telemetry;
  readonly coalesce: boolean;
  readonly bulk: boolean;

  constructor(
    readonly core: ChatPort,
    readonly logger: Logger,
    options: ConnectionOptions,
  ) {
    this.transport = options.transport;
    this.family = options.family;
    this.telemetry = options.telemetry ?? noTelemetry;
    this.coalesce = options.coalesce ?? true;
    this.bulk = options.bulk ?? true;
  }
}

/**
 * One client connection on any transport: the transport-neutral half. It owns the send
 * queue (byte cap, drop with a reason), read backpressure, bad-input counting and the
 * state the deadline sweep reads; the protocol turns bytes into requests and frames into
 * bytes; the core is reached only through its port.
 *
 * The transport feeds it: `onData` with each chunk read, `onClosed` once the wire closed.
 */
export class Connection extends Outbox implements Outlet {
  // The connection is its own send queue (an `Outbox`) rather than holding one: one object
  // per connection fewer, as the native protocol is its frame decoder.
  readonly link: Link;
  /** When the last whole input arrived (bytes of an unfinished frame do not count). */
  lastReceivedAt: number;
  lastPingAt = 0;
  private consecutiveErrors = 0;
  private pendingRequests = 0;
  private closing = false;
  /** Bytes of bulk frames (file chunks) written but not yet handed to the network. */
  private bulkBytes = 0;

  constructor(
    wire: Wire,
    private readonly protocol: WireProtocol,
    private readonly context: ConnectionContext,
    /** The client's address: the peer's, or what a trusted proxy said it is. */
    readonly address: string,
    readonly port: number,
  ) {
    super(wire, context.coalesce);
    const core = context.core;
    this.lastReceivedAt = core.clock.now();
    if (!context.bulk) {
      // Without bulk the core offers no file commands' data path to this connection.
      this.sendBulk = undefined;
      this.drained = undefined;
    }
    this.link = core.attach(this);
    const greeting = protocol.greeting(core.describe(), core.clock.now());
    if (greeting) this.push(greeting);
  }

  /** `tcp`, `tls`, `websocket`, `irc`, ...: shown in logs and `/whois`. */
  get transport(): string {
    return this.context.transport;
  }

  /** The protocol family, for metrics. */
  get family(): TransportName {
    return this.context.family;
  }

  private get port_(): ChatPort {
    return this.context.core;
  }

  private get logger(): Logger {
    return this.context.logger;
  }

  get isClosing(): boolean {
    return this.closing;
  }

  /**
   * True once the nickname step is done (the registration deadline no longer applies), and
   * the protocol's own registration too where it has one (IRC's CAP END and USER).
   */
  get isRegistered(): boolean {
    return this.port_.isRegistered(this.link) && (this.protocol.isRegistered?.() ?? true);
  }

  send(frame: CoreFrame): void {
    if (!this.roomInSendQueue()) return;
    let bytes = this.protocol.encode(frame);
    if (bytes === null) return;
    if (!('ev' in frame) && bytes.length > this.serverFrameLimit()) bytes = this.tooLarge(frame);
    // Frames of one event-loop turn (a fan-out, a replay) leave in one write.
    this.push(bytes, this.protocol.isLazy?.(frame) ?? false);
  }

  /**
   * Bytes a protocol produced on its own time rather than in `decode` or `encode` (an IRC
   * gateway's answer once the core replied): the same send queue and cap as frames.
   */
  write(bytes: Uint8Array): void {
    if (this.roomInSendQueue()) this.push(bytes);
  }

  /** False (and the peer dropped) when it stopped reading; false too once closing. */
  private roomInSendQueue(): boolean {
    if (this.closing || this.wire.destroyed) return false;
    // The SendQ is output left over from earlier turns, which a reading peer drains; this
    // turn's own output (one fan-out, one commit's worth of messages) does not count, up to
    // a hard cap that bounds memory. File data is paced by drained(), so it never counts.
    const limit = this.port_.params.sendqBytes;
    const leftOver = this.wire.writableLength - this.bulkBytes;
    if (leftOver > limit || this.pendingBytes > TURN_OUTPUT_FACTOR * limit) {
      this.dropUnreadingPeer(leftOver);
      return false;
    }
    return true;
  }

  sendBulk?(frame: CoreFrame): void {
    if (this.closing || this.wire.destroyed) return;
    const bytes = this.protocol.encode(frame);
    if (bytes === null) return;
    // Frames queued earlier in this turn go first: coalescing never reorders output.
    this.flush();
    this.bulkBytes += bytes.length;
    this.wire.write(bytes, () => {
      this.bulkBytes -= bytes.length;
    });
  }

  drained?(): Promise<void> {
    if (!this.wire.writableNeedDrain || this.wire.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.wire.off('drain', done);
        this.wire.off('close', done);
        resolve();
      };
      this.wire.on('drain', done);
      this.wire.on('close', done);
    });
  }

  close(code: ClosingCode, message: string): void {
    if (this.closing) return;
    const last = this.protocol.closing(code, message, this.port_.clock.now());
    if (last && !this.wire.destroyed) this.push(last);
    this.closing = true;
    this.flush();
    this.wire.end();
    setTimeout(() => this.wire.destroy(), CLOSE_FLUSH_MS).unref();
  }

  /** Asks the peer to show it is alive (the deadline sweep calls this). */
  ping(): void {
    this.lastPingAt = this.port_.clock.now();
    if (this.closing || this.wire.destroyed) return;
    const bytes = this.protocol.ping(this.lastPingAt);
    if (bytes) this.push(bytes);
  }

  /**
   * The peer went silent: the connection is cut without a goodbye it could not read, and
   * its session is held for a resume exactly as if the socket had closed.
   */
  timedOut(code: ClosingCode, message: string): void {
    if (this.closing) return;
    this.logger.info(
      { event: code, address: this.address, port: this.port, link: this.link.id },
      message,
    );
    this.close(code, message);
    this.port_.detach(this.link);
  }

  /** Ends the connection for a reason the user should see (its session leaves). */
  end(code: ClosingCode, message: string): void {
    this.port_.closeLink(this.link, code, message);
  }

  /** Bytes from the wire. A throw here is the transport's to catch (see `readFailed`). */
  onData(chunk: Uint8Array): void {
    if (this.closing) return;
    const inputs = this.protocol.decode(chunk);
    // Only whole inputs count as life: a peer trickling a frame that never ends (slowloris)
    // is as silent as one sending nothing.
    if (inputs.length > 0) this.lastReceivedAt = this.port_.clock.now();
    for (const input of inputs) {
      if (this.closing) return;
      switch (input.kind) {
        case 'request':
          this.consecutiveErrors = 0;
          this.forward(input.request);
          break;
        case 'bad':
          this.badInput(input.code, input.message, input.re);
          break;
        case 'fatal':
          this.send(errorReply(null, input.code, input.message));
          this.end(input.code, input.message);
          return;
        case 'send':
          this.push(input.bytes);
          break;
        case 'accepted':
          this.consecutiveErrors = 0;
          break;
        case 'alive':
          break;
      }
    }
  }

  /** Reading failed on this connection: it ends, the process goes on. */
  readFailed(error: unknown): void {
    this.logger.error({ err: error, link: this.link.id }, 'connection input failed');
    this.end('internal_error', 'The server failed to read your input');
  }

  /** The wire closed (either side): the core lets the session wait for a resume. */
  onClosed(): void {
    this.port_.detach(this.link);
  }

  destroy(): void {
    this.wire.destroy();
  }

  private forward(request: Parameters<ChatPort['receive']>[1]): void {
    this.pendingRequests++;
    if (this.pendingRequests >= MAX_PENDING_REQUESTS) this.wire.pause();
    void this.port_.receive(this.link, request).finally(() => {
      this.pendingRequests--;
      if (this.pendingRequests < MAX_PENDING_REQUESTS / 2 && !this.closing) this.wire.resume();
    });
  }

  private badInput(code: ErrorCode, message: string, re: number | null): void {
    this.send(errorReply(re, code, message));
    if (++this.consecutiveErrors >= MAX_CONSECUTIVE_ERRORS)
      this.end('too_many_errors', 'Too many bad requests in a row');
  }

  private serverFrameLimit(): number {
    return serverFrameMaxBytes(this.port_.params['frame.maxBytes']);
  }

  /** A reply over the announced frame limit is replaced by an error the client can read. */
  private tooLarge(frame: CoreFrame): Uint8Array {
    const re = 're' in frame ? frame.re : null;
    const limit = this.serverFrameLimit();
    this.logger.warn({ event: 'reply_too_large', link: this.link.id, re }, 'reply too large');
    return (
      this.protocol.encode(
        errorReply(re, 'reply_too_large', `The reply would exceed ${limit} bytes`, { limit }),
      ) ?? new Uint8Array()
    );
  }

  /**
   * The peer stopped reading: drop it rather than buffer without bound. Nothing more is
   * queued for it (not even `closing`, which it would not read), and its buffered output is
   * released at once.
   */
  private dropUnreadingPeer(leftOver: number): void {
    this.closing = true;
    this.context.telemetry.sendQueueDropped(this.family);
    this.logger.warn(
      {
        event: 'sendq_exceeded',
        address: this.address,
        port: this.port,
        link: this.link.id,
        queued: leftOver,
        pending: this.pendingBytes,
      },
      'send queue full: dropping a client that does not read',
    );
    this.wire.destroy();
    this.port_.closeLink(
      this.link,
      'sendq_exceeded',
      'Too much output queued: the client is not reading',
    );
  }
}
