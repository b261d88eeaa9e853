import type { GatewayPort, Link } from '../../core/port.js';
import { ERROR_CODES, type ErrorCode } from '../../protocol/errors.js';
import type { ChatEvent } from '../../protocol/events.js';
import { nameKey } from '../../protocol/names.js';
import type { Reply, SessionFrame } from '../../protocol/frames.js';
import type { Capability } from './capabilities.js';
import { IRC_ERROR_FORMS } from './error-replies.js';
import { formatMessage, lineSafe, type IrcMessage, type OutgoingTags } from './message.js';

/** The byte side of an IRC connection: lines out, through the connection's send queue. */
export interface IrcWire {
  /** Queues one line (without CR-LF). */
  write(line: string): void;
}

/** What one IRC client's gateway state shares with every other client of one listener. */
export interface IrcGatewayShared {
  readonly serverName: string;
  readonly createdAt: Date;
  readonly motd: readonly string[];
  /**
   * Away messages (Confab's `/away`) by nickname key, as `away` events told them: for users
   * on other nodes of a cluster, whose sessions this node cannot read.
   */
  readonly away: Map<string, string>;
  /** Who last set each room's topic, and when (RPL_TOPICWHOTIME), by room key. */
  readonly topicSetters: Map<string, { readonly by: string; readonly at: number }>;
}

/** Events waiting while something must come first (the welcome, a join's names). */
const MAX_HELD_EVENTS = 10_000;

/**
 * One IRC client as the gateway sees it: the state IRC keeps per connection (nickname
 * before login, capabilities, labels). Requests go to the core as Confab commands; what
 * comes back (through the connection layer, see irc-protocol.ts) is turned into IRC lines
 * by the handlers and event translators that take this object.
 */
export class IrcClient {
  readonly caps = new Set<Capability>();
  capVersion = 0;
  /** CAP LS or REQ before registration holds it until CAP END. */
  capNegotiating = false;
  /** NICK given before registration. */
  wantedNick: string | undefined;
  /** A SASL PLAIN exchange in progress: the base64 received so far. */
  sasl: { buffer: string } | undefined;
  /** Logged in by SASL (RPL_LOGGEDIN was sent then). */
  saslDone = false;
  /** A join's names being fetched; JOIN waits for it. */
  joinRendering: Promise<void> | null = null;
  user: { readonly username: string; readonly realname: string } | undefined;
  password: string | undefined;
  /** Welcome sent: registration is complete. */
  registered = false;
  /** The client asked to quit, or the connection is closing. */
  closing = false;
  /** Events held back (null when none are): before the welcome, or during a join. */
  private held: ChatEvent[] | null = [];
  /** Responses to a labeled command, collected until it is done (labeled-response). */
  private captured: string[] | null = null;
  private nextRequestId = 1;
  private readonly pending = new Map<number, (reply: Reply) => void>();
  /** Event translation, installed by the gateway (keeps this file to plumbing). */
  onEvent: (client: IrcClient, event: ChatEvent) => void = () => undefined;

  constructor(
    readonly core: GatewayPort,
    readonly link: Link,
    private readonly wire: IrcWire,
    readonly shared: IrcGatewayShared,
  ) {}

  get serverName(): string {
    return this.shared.serverName;
  }

  /** The nickname IRC addresses this client by: `*` until registration completes. */
  get nick(): string {
    return this.registered ? (this.link.session?.nick ?? '*') : '*';
  }

  /** `nick!user@host` of a Confab user as IRC clients see it. */
  mask(nick: string): string {
    return `${nick}!${nick}@${this.serverName}`;
  }

  has(cap: Capability): boolean {
    return this.caps.has(cap);
  }

  // ---- to the core -------------------------------------------------------------------

  /** Runs a Confab command through the core's command table; resolves with its reply. */
  request(cmd: string, args: object): Promise<Reply> {
    const id = this.nextRequestId++;
    const answered = new Promise<Reply>((resolve) => this.pending.set(id, resolve));
    void this.core.receive(this.link, { id, cmd, args });
    return answered;
  }

  // ---- from the core ------------------------------------------------------------------

  /** A reply or event for this connection (the connection layer hands it over). */
  fromCore(frame: SessionFrame): void {
    if ('ev' in frame) {
      if (this.held !== null) {
        this.held.push(frame);
        if (this.held.length > MAX_HELD_EVENTS)
          this.core.closeLink(this.link, 'sendq_exceeded', 'Too much output held back');
      } else this.onEvent(this, frame);
      return;
    }
    if (frame.re === null) {
      // An error about no request (a flood refusal before parsing): say it, never drop it.
      if (!frame.ok) this.failLine('*', frame.error.code, frame.error.message);
      return;
    }
    const resolve = this.pending.get(frame.re);
    if (!resolve) return;
    this.pending.delete(frame.re);
    resolve(frame);
    if (this.pendingWaiter && this.pending.size < this.pendingWaiter.below) {
      const { wake } = this.pendingWaiter;
      this.pendingWaiter = undefined;
      wake();
    }
  }

  private pendingWaiter: { below: number; wake: () => void } | undefined;

  /** Resolves once fewer than `count` requests wait for their reply. */
  requestsBelow(count: number): Promise<void> | undefined {
    if (this.pending.size < count || this.link.isClosed) return undefined;
    return new Promise((wake) => (this.pendingWaiter = { below: count, wake }));
  }

  /** The connection is closing: what a labeled command said so far goes out, then ERROR. */
  closingLine(message: string): string {
    this.closing = true;
    this.held = null;
    this.flushCapture(undefined);
    return formatMessage(undefined, 'ERROR', [lineSafe(`Closing link: ${message}`)]);
  }

  // ---- lines out -----------------------------------------------------------------------

  /** Writes one line: collected while a labeled command is handled, else queued at once. */
  out(line: string): void {
    if (this.captured) this.captured.push(line);
    else this.wire.write(line);
  }

  /**
   * Holds events back until `releaseHeld`: before the welcome (a login's restored rooms
   * and missed messages come after it, as IRC clients expect), and while a join's names
   * are fetched (what is said in the room comes after its NAMES).
   */
  hold(): void {
    this.held ??= [];
  }

  releaseHeld(): void {
    let queue = this.held;
    this.held = null;
    while (queue && queue.length > 0) {
      const event = queue.shift()!;
      this.onEvent(this, event);
      // A join's names are being fetched: the rest waits again, in order.
      if (this.held !== null) {
        this.held = [...queue, ...(this.held as ChatEvent[])];
        queue = null;
      }
    }
  }

  startCapture(): void {
    this.captured = [];
  }

  /** Sends a labeled command's responses: one line tagged, several in a batch, none ACKed. */
  flushCapture(label: string | undefined): void {
    const lines = this.captured;
    this.captured = null;
    if (!lines) return;
    if (label === undefined) {
      for (const line of lines) this.wire.write(line);
      return;
    }
    const tag = `label=${escapeLabel(label)}`;
    if (lines.length === 0) {
      this.wire.write(`@${tag} :${this.serverName} ACK`);
      return;
    }
    if (lines.length === 1) {
      this.wire.write(addTag(lines[0]!, tag));
      return;
    }
    const id = this.batchId();
    this.wire.write(`@${tag} :${this.serverName} BATCH +${id} labeled-response`);
    // Lines of a nested batch carry only their own batch's tag.
    for (const line of lines)
      this.wire.write(/^@(?:[^ ]*;)?batch=/.test(line) ? line : addTag(line, `batch=${id}`));
    this.wire.write(`:${this.serverName} BATCH -${id}`);
  }

  private batchCounter = 0;
  batchId(): string {
    return `b${(++this.batchCounter).toString(36)}`;
  }

  /** A numeric from the server to this client: `:server NNN <nick> params…`. */
  numeric(code: string, ...params: string[]): void {
    this.out(formatMessage(this.serverName, code, [this.nick, ...params.map(lineSafe)]));
  }

  /** A server NOTICE to this client. */
  serverNotice(text: string): void {
    this.out(formatMessage(this.serverName, 'NOTICE', [this.nick, lineSafe(text)]));
  }

  /** A standard reply (`FAIL`), or a NOTICE saying the same to clients without the cap. */
  failLine(command: string, code: ErrorCode | string, message: string, ...context: string[]) {
    const form = (IRC_ERROR_FORMS as Record<string, { fail: string } | undefined>)[code];
    const failCode = form?.fail ?? code.toUpperCase();
    if (this.has('standard-replies'))
      this.out(
        formatMessage(
          this.serverName,
          'FAIL',
          [command, failCode, ...context, lineSafe(message)],
          [],
          true,
        ),
      );
    else this.serverNotice(`${command} failed: ${message}`);
  }

  /**
   * Tells the client a Confab command failed, the IRC way (docs/irc.md tables it):
   * a numeric where IRC has one, else a standard reply; `target` is what the IRC command
   * named. Returns true when the connection is to end.
   */
  replyError(
    command: string,
    error: { readonly code: ErrorCode; readonly message: string },
    target?: string,
  ): boolean {
    const form = IRC_ERROR_FORMS[error.code];
    const message = error.message || ERROR_CODES[error.code];
    if (form.numeric) {
      if (form.target) this.numeric(form.numeric, target ?? command, message);
      else this.numeric(form.numeric, message);
    } else this.failLine(command, error.code, message, ...(target === undefined ? [] : [target]));
    return form.close === true;
  }

  /** Tags for a message event this client has asked for (server-time, msgid, account). */
  messageTags(ts: number, msgid: string | undefined, account?: string | null): OutgoingTags {
    const tags: Array<readonly [string, string]> = [];
    if (this.has('server-time')) tags.push(['time', new Date(ts).toISOString()]);
    if (msgid !== undefined && this.has('message-tags')) tags.push(['msgid', msgid]);
    if (account && this.has('account-tag')) tags.push(['account', account]);
    return tags;
  }

  /** The away message of a user online (on any node), if they set one with AWAY or /away. */
  awayOf(nick: string): string | undefined {
    const key = nameKey(nick);
    const session = this.core.findSession(key);
    if (session) return session.awayMessage ?? undefined;
    return this.shared.away.get(key);
  }

  /** The account of an online Confab user, for account-tag and extended-join. */
  accountOf(nick: string): string | null {
    return this.core.findSession(nameKey(nick))?.account?.name ?? null;
  }

  /** The handler of one command failed inside the gateway: end this client, not the server. */
  failed(error: unknown, message: IrcMessage): void {
    this.core.logger.error(
      { err: error, command: message.command, link: this.link.id },
      'IRC command failed',
    );
    this.core.closeLink(this.link, 'internal_error', ERROR_CODES.internal_error);
  }
}

function escapeLabel(label: string): string {
  return label.replace(/[\\; \r\n]/g, '');
}

/** Adds a tag in front of a line that may have tags already. */
export function addTag(line: string, tag: string): string {
  return line.startsWith('@') ? `@${tag};${line.slice(1)}` : `@${tag} ${line}`;
}
