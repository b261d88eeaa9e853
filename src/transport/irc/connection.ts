import type { Socket } from 'node:net';
import type { ChatCore } from '../../core/chat-core.js';
import type { Logger } from '../../core/logger.js';
import { dispatch } from './gateway.js';
import { translateEvent } from './events.js';
import { IrcClient, type IrcGatewayShared, type IrcWire } from './irc-client.js';
import { MAX_CLIENT_TAGS_BYTES, MAX_LINE_BYTES, formatMessage, parseMessage } from './message.js';
import { ERR } from './numerics.js';

/** Bytes a line may reach before its end: tags plus the 512-byte message. */
const MAX_PENDING_LINE = MAX_CLIENT_TAGS_BYTES + MAX_LINE_BYTES;
/** How long a closing connection may take to flush before it is cut. */
const CLOSE_FLUSH_MS = 2000;
/** Core requests in flight before reading pauses (messages pipeline in the core). */
const MAX_REQUESTS_IN_FLIGHT = 64;
/** Bad lines in a row (invalid UTF-8, NUL) before the connection is closed. */
const MAX_CONSECUTIVE_ERRORS = 10;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * One IRC connection over TCP or TLS: bytes to lines (CR-LF or LF, at most 512 bytes plus
 * tags), lines to the gateway one at a time, and the gateway's lines back with a capped
 * send queue.
 */
export class IrcConnection implements IrcWire {
  readonly transport: string;
  readonly address: string;
  readonly port: number;
  readonly client: IrcClient;
  lastReceivedAt: number;
  lastPingAt = 0;
  private buffer: Buffer = Buffer.alloc(0);
  /** An over-long line is being skipped up to its end. */
  private skipping = false;
  private readonly lines: string[] = [];
  private processing = false;
  private consecutiveErrors = 0;
  private outgoing: string[] = [];
  private flushScheduled = false;
  private ended = false;

  constructor(
    private readonly socket: Socket,
    private readonly core: ChatCore,
    private readonly logger: Logger,
    shared: IrcGatewayShared,
    secure: boolean,
    private readonly onClosed: (connection: IrcConnection) => void,
  ) {
    this.transport = secure ? 'irc+tls' : 'irc';
    this.address = socket.remoteAddress ?? 'unknown';
    this.port = socket.remotePort ?? 0;
    this.lastReceivedAt = core.clock.now();
    socket.setNoDelay(true);
    this.client = new IrcClient(core, this, shared);
    this.client.onEvent = translateEvent;
    socket.on('data', (chunk: Buffer) => {
      try {
        this.onData(chunk);
      } catch (error) {
        this.logger.error({ err: error, link: this.client.link.id }, 'IRC input failed');
        this.core.closeLink(
          this.client.link,
          'internal_error',
          'The server failed to read your input',
        );
      }
    });
    socket.on('error', (error) =>
      this.logger.info(
        { event: 'socket_error', address: this.address, err: error.message },
        'socket error',
      ),
    );
    socket.on('close', () => {
      shared.clients.delete(this.client);
      this.core.detach(this.client.link);
      this.onClosed(this);
    });
  }

  get isClosing(): boolean {
    return this.ended;
  }

  // ---- IrcWire -----------------------------------------------------------------------

  write(line: string): void {
    if (this.ended || this.socket.destroyed) return;
    this.outgoing.push(line);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  end(): void {
    if (this.ended) return;
    this.flush();
    this.ended = true;
    this.socket.end();
    setTimeout(() => this.socket.destroy(), CLOSE_FLUSH_MS).unref();
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.outgoing.length === 0 || this.ended || this.socket.destroyed) return;
    const text = this.outgoing.join('\r\n') + '\r\n';
    this.outgoing = [];
    // The SendQ: a client that does not read is dropped rather than buffered without end.
    if (this.socket.writableLength > this.core.params.sendqBytes) {
      this.logger.warn(
        {
          event: 'sendq_exceeded',
          address: this.address,
          link: this.client.link.id,
          queued: this.socket.writableLength,
        },
        'send queue full: dropping an IRC client that does not read',
      );
      this.ended = true;
      this.socket.destroy();
      this.core.closeLink(this.client.link, 'sendq_exceeded', 'SendQ exceeded');
      return;
    }
    this.socket.write(text);
  }

  ping(): void {
    this.lastPingAt = this.core.clock.now();
    this.write(formatMessage(undefined, 'PING', [this.client.serverName]));
  }

  destroy(): void {
    this.socket.destroy();
  }

  // ---- input -------------------------------------------------------------------------

  private onData(chunk: Buffer): void {
    if (this.ended) return;
    let data = this.buffer.length > 0 ? Buffer.concat([this.buffer, chunk]) : chunk;
    let start = 0;
    for (;;) {
      const newline = data.indexOf(10, start);
      if (newline < 0) break;
      const end = newline > start && data[newline - 1] === 13 ? newline - 1 : newline;
      if (this.skipping) this.skipping = false;
      else this.takeLine(data.subarray(start, end));
      start = newline + 1;
    }
    data = data.subarray(start);
    if (data.length > MAX_PENDING_LINE) {
      // A line without an end in sight: answered once, then skipped up to its end.
      if (!this.skipping) this.client.numeric(ERR.INPUTTOOLONG, 'Input line was too long');
      this.skipping = true;
      data = Buffer.alloc(0);
    }
    this.buffer = data.length > 0 ? Buffer.from(data) : Buffer.alloc(0);
    this.pump();
  }

  private takeLine(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.lastReceivedAt = this.core.clock.now();
    // Tags may take 4096 bytes; the rest of the line, CR-LF included, 512.
    let body = bytes;
    if (bytes[0] === 64) {
      const space = bytes.indexOf(32);
      if (space < 0 || space + 1 > MAX_CLIENT_TAGS_BYTES) return this.tooLong();
      body = bytes.subarray(space + 1);
    }
    if (body.length + 2 > MAX_LINE_BYTES) return this.tooLong();
    if (bytes.includes(0)) return this.badLine('INVALID_TEXT', 'NUL is not allowed in IRC lines');
    let text: string;
    try {
      text = utf8.decode(bytes);
    } catch {
      return this.badLine('INVALID_UTF8', 'Lines must be UTF-8 (UTF8ONLY)');
    }
    this.consecutiveErrors = 0;
    this.lines.push(text);
  }

  private tooLong(): void {
    this.client.numeric(ERR.INPUTTOOLONG, 'Input line was too long');
  }

  private badLine(code: string, message: string): void {
    this.client.failLine('*', code, message);
    if (++this.consecutiveErrors >= MAX_CONSECUTIVE_ERRORS)
      this.core.closeLink(this.client.link, 'too_many_errors', 'Too many bad lines in a row');
  }

  /** Runs queued lines one at a time, in order; reading pauses while many wait. */
  private pump(): void {
    if (this.lines.length > MAX_REQUESTS_IN_FLIGHT) this.socket.pause();
    if (this.processing) return;
    this.processing = true;
    void (async () => {
      while (this.lines.length > 0 && !this.ended && !this.client.link.isClosed) {
        const line = this.lines.shift()!;
        const message = parseMessage(line);
        if (!message) continue;
        try {
          await dispatch(this.client, message);
          await this.client.requestsBelow(MAX_REQUESTS_IN_FLIGHT);
        } catch (error) {
          this.client.failed(error, message);
        }
        if (this.lines.length <= MAX_REQUESTS_IN_FLIGHT / 2 && !this.ended) this.socket.resume();
      }
      this.processing = false;
    })();
  }
}
