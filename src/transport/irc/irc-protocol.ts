import type { GatewayPort } from '../../core/port.js';
import type { ClosingCode } from '../../protocol/closing.js';
import type { ErrorCode } from '../../protocol/errors.js';
import type { Connection } from '../layer/connection.js';
import type { CoreFrame, Input, WireProtocol } from '../layer/protocol.js';
import { translateEvent } from './events.js';
import { dispatch } from './gateway.js';
import { IrcClient, type IrcGatewayShared } from './irc-client.js';
import { MAX_CLIENT_TAGS_BYTES, MAX_LINE_BYTES, formatMessage, parseMessage } from './message.js';
import { ERR } from './numerics.js';

/** Bytes a line may reach before its end: tags plus the 512-byte message. */
const MAX_PENDING_LINE = MAX_CLIENT_TAGS_BYTES + MAX_LINE_BYTES;
/** Lines waiting (and core requests in flight) before reading pauses. */
const MAX_LINES_IN_FLIGHT = 64;

const utf8 = new TextDecoder('utf-8', { fatal: true });
const CRLF = '\r\n';
const ACCEPTED: Input = { kind: 'accepted' };

/**
 * IRC spoken over the shared connection layer: bytes to lines (CR-LF or LF, at most 512
 * bytes plus tags), lines to the gateway one at a time, in order; the core's replies to
 * the gateway, its events translated to IRC lines. Send queue, deadlines, bad-input
 * counting and per-address admission are the layer's, as for native and WebSocket.
 *
 * Unlike native requests, one IRC command may become several core requests awaited in
 * turn, so the gateway writes its lines through `Connection.write` when they are ready
 * rather than from `encode`.
 */
export class IrcProtocol implements WireProtocol {
  private client: IrcClient | undefined;
  private connection: Connection | undefined;
  private buffer: Buffer = Buffer.alloc(0);
  /** An over-long line is being skipped up to its end. */
  private skipping = false;
  private readonly lines: string[] = [];
  private processing = false;
  /** Commands of refused lines, for the FAIL the layer's error reply becomes. */
  private readonly refusedCommands: string[] = [];

  constructor(
    private readonly core: GatewayPort,
    private readonly shared: IrcGatewayShared,
  ) {}

  /** Binds the gateway state to its connection, once the layer has attached it. */
  bind(connection: Connection): IrcClient {
    this.connection = connection;
    const client = new IrcClient(
      this.core,
      connection.link,
      { write: (line) => connection.write(Buffer.from(line + CRLF)) },
      this.shared,
    );
    client.onEvent = translateEvent;
    this.client = client;
    return client;
  }

  get ircClient(): IrcClient | undefined {
    return this.client;
  }

  // ---- WireProtocol ------------------------------------------------------------------

  decode(chunk: Uint8Array): readonly Input[] {
    const inputs: Input[] = [];
    let data: Buffer =
      this.buffer.length > 0 ? Buffer.concat([this.buffer, chunk]) : Buffer.from(chunk);
    let start = 0;
    for (;;) {
      const newline = data.indexOf(10, start);
      if (newline < 0) break;
      const end = newline > start && data[newline - 1] === 13 ? newline - 1 : newline;
      if (this.skipping) this.skipping = false;
      else this.takeLine(data.subarray(start, end), inputs);
      start = newline + 1;
    }
    data = data.subarray(start);
    if (data.length > MAX_PENDING_LINE) {
      // A line without an end in sight: answered once, then skipped up to its end.
      if (!this.skipping) inputs.push(this.tooLong());
      this.skipping = true;
      data = Buffer.alloc(0);
    }
    this.buffer = data.length > 0 ? Buffer.from(data) : Buffer.alloc(0);
    this.pump();
    return inputs;
  }

  encode(frame: CoreFrame): Uint8Array | null {
    const client = this.client;
    if (!client) return null;
    if (!('ev' in frame) && frame.re === null && !frame.ok && this.refusedCommands.length > 0) {
      // A line refused before it was parsed (the layer counts those): told as a FAIL on
      // the line's own command, as the UTF8ONLY specification shows it.
      client.failLine(this.refusedCommands.shift()!, frame.error.code, frame.error.message);
      return null;
    }
    client.fromCore(frame);
    return null;
  }

  greeting(): Uint8Array | null {
    // IRC clients speak first.
    return null;
  }

  ping(): Uint8Array | null {
    return Buffer.from(formatMessage(undefined, 'PING', [this.shared.serverName]) + CRLF);
  }

  closing(_code: ClosingCode, message: string): Uint8Array | null {
    const line = this.client?.closingLine(message);
    return line === undefined ? null : Buffer.from(line + CRLF);
  }

  isRegistered(): boolean {
    return this.client?.registered ?? false;
  }

  /** The connection is gone: lines still queued are dropped. */
  closed(): void {
    this.lines.length = 0;
  }

  // ---- input -------------------------------------------------------------------------

  private takeLine(bytes: Buffer, inputs: Input[]): void {
    if (bytes.length === 0) return;
    // Tags may take 4096 bytes; the rest of the line, CR-LF included, 512.
    let body = bytes;
    if (bytes[0] === 64) {
      const space = bytes.indexOf(32);
      if (space < 0 || space + 1 > MAX_CLIENT_TAGS_BYTES) return void inputs.push(this.tooLong());
      body = bytes.subarray(space + 1);
    }
    if (body.length + 2 > MAX_LINE_BYTES) return void inputs.push(this.tooLong());
    if (bytes.includes(0))
      return void inputs.push(this.refuse(bytes, 'bad_request', 'NUL is not allowed in IRC lines'));
    let text: string;
    try {
      text = utf8.decode(bytes);
    } catch {
      return void inputs.push(
        this.refuse(bytes, 'invalid_utf8', 'Lines must be valid UTF-8 (UTF8ONLY)'),
      );
    }
    this.lines.push(text);
    inputs.push(ACCEPTED);
  }

  /** ERR_INPUTTOOLONG, answered at once; the line is lost, the connection goes on. */
  private tooLong(): Input {
    const nick = this.client?.nick ?? '*';
    const line = formatMessage(this.shared.serverName, ERR.INPUTTOOLONG, [
      nick,
      'Input line was too long',
    ]);
    return { kind: 'send', bytes: Buffer.from(line + CRLF) };
  }

  /** A line the gateway cannot take; the layer answers it and counts it. */
  private refuse(bytes: Buffer, code: ErrorCode, message: string): Input {
    this.refusedCommands.push(commandOf(bytes));
    return { kind: 'bad', code, message, re: null };
  }

  /** Runs queued lines one at a time, in order; reading pauses while many wait. */
  private pump(): void {
    const client = this.client;
    const connection = this.connection;
    if (!client || !connection) return;
    if (this.lines.length > MAX_LINES_IN_FLIGHT) connection.wire.pause();
    if (this.processing) return;
    this.processing = true;
    void (async () => {
      while (this.lines.length > 0 && !connection.isClosing && !client.link.isClosed) {
        const line = this.lines.shift()!;
        const message = parseMessage(line);
        if (!message) continue;
        try {
          await dispatch(client, message);
          await client.requestsBelow(MAX_LINES_IN_FLIGHT);
        } catch (error) {
          client.failed(error, message);
        }
        if (this.lines.length <= MAX_LINES_IN_FLIGHT / 2 && !connection.isClosing)
          connection.wire.resume();
      }
      this.processing = false;
    })();
  }
}

/** The command word of a raw line (after its tags and source), for a FAIL about it. */
function commandOf(bytes: Buffer): string {
  const words = bytes.toString('latin1').split(' ');
  let index = 0;
  while (index < words.length && (words[index]!.startsWith('@') || words[index] === '')) index++;
  if (words[index]?.startsWith(':')) index++;
  while (index < words.length && words[index] === '') index++;
  const command = words[index]?.toUpperCase() ?? '';
  return /^[A-Z]+$|^\d{3}$/.test(command) ? command : '*';
}
