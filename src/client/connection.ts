import type { CommandInfo } from '../protocol/catalog.js';
import type { ErrorCode } from '../protocol/errors.js';
import type { HelloEvent, ServerEvent } from '../protocol/events.js';
import type { Reply } from '../protocol/frames.js';
import { parseServerFrame } from '../protocol/parse.js';
import type { Channel } from './channel.js';
import { Emitter } from './emitter.js';
import { RoomTracker } from './room-tracker.js';

/**
 * The shared client library's transport-neutral part: the protocol over any `Channel`.
 * Terminal, line mode, browser, tests and benchmarks all speak through this one class.
 * Nothing here may import a Node module: the browser bundles it (client.ts adds TCP and
 * TLS for Node).
 */

export type { HelloEvent };
export type EventNamed<N extends ServerEvent['ev']> = Extract<ServerEvent, { ev: N }>;

/**
 * Catalogues already fetched in this process or page, by hash: many connections to one
 * server (or a reconnect) ask once. The hash names the exact catalogue, so a cached one
 * never goes stale.
 */
const catalogueCache = new Map<string, readonly CommandInfo[]>();

/** The server refused a request: `code` is one of the stable protocol error codes. */
export class RequestError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Readonly<Record<string, unknown>>,
  ) {
    super(message);
    this.name = 'RequestError';
  }
}

/** The connection failed or closed before a reply came. */
export class ConnectionClosedError extends Error {
  constructor(
    message: string,
    /** The server's `closing` code, when it gave one. */
    readonly code?: string,
  ) {
    super(message);
    this.name = 'ConnectionClosedError';
  }
}

/** What the server replies when a login (`nick`) or a `resume` succeeds. */
export interface ReadyInfo {
  readonly nick: string;
  readonly session: string;
  readonly account: boolean;
  readonly role: string;
  /** Single-use token to resume this session after a lost connection. */
  readonly resumeToken?: string;
  /** `resume` only. */
  readonly resumed?: boolean;
  /** Failed logins on the account since its last login (password logins only). */
  readonly failedLogins?: readonly { address: string; count: number; lastAt: number }[];
}

export interface CloseInfo {
  /** The server's `closing` reason, when it gave one. */
  readonly code: string | undefined;
  readonly message: string;
  /** True when this side closed (quit, close() or destroy()). */
  readonly byClient: boolean;
}

interface ClientEvents {
  [name: string]: unknown[];
  event: [ServerEvent];
  /** Every reply, matched or not (protocol checkers count them). */
  reply: [Reply];
  close: [CloseInfo];
}

export interface OpenOptions {
  /** Give up if the server has not greeted us within this many milliseconds. */
  readonly timeoutMs?: number;
}

/** Connection-level events are not part of the session's stream (protocol.md, Session resume). */
const UNCOUNTED = new Set<string>(['hello', 'ping', 'closing']);

/**
 * A protocol v1 client: reads the greeting, fetches the catalogue, sends requests and
 * matches their replies, answers keepalives, emits the server's events, and keeps what a
 * resume needs (the token and the last event id).
 */
export class ProtocolClient extends Emitter<ClientEvents> {
  readonly hello: HelloEvent;
  nick: string | undefined;
  sessionId: string | undefined;
  /** The rooms this client is in, kept up to date from the server's events. */
  readonly rooms = new RoomTracker();
  /**
   * The token to resume this session from a new connection if this one is lost
   * (open a new client, then `resume(token, lastEventId)`); rotated on every resume.
   */
  resumeToken: string | undefined;
  /** Id of the last event received: what a resume asks to continue after. */
  lastEventId: number | undefined;
  /**
   * Newest message id received (room or private): a resume's `seenMid`, from where a server
   * node that takes the session over after its node died reads what was missed.
   */
  lastMid: number | undefined;
  private nextId = 1;
  private catalogue: readonly CommandInfo[] = [];
  private readonly pending = new Map<
    number,
    { resolve: (data: Record<string, unknown>) => void; reject: (error: Error) => void }
  >();
  private closeInfo: CloseInfo | undefined;
  private serverClosing: { code: string; message: string } | undefined;
  private clientClosing = false;

  protected constructor(
    protected readonly channel: Channel,
    hello: HelloEvent,
  ) {
    super();
    this.hello = hello;
    channel.listen({ frame: (text) => this.onFrame(text), close: () => this.onClose() });
  }

  /**
   * Waits on `channel` for the greeting (or the server's reason for turning us away), then
   * fetches the catalogue unless it is cached. `create` builds the client (a subclass's
   * constructor); the default builds a plain `ProtocolClient`.
   */
  static open<C extends ProtocolClient>(
    channel: Channel,
    options: OpenOptions = {},
    create: (channel: Channel, hello: HelloEvent) => C = (c, h) => new ProtocolClient(c, h) as C,
  ): Promise<C> {
    return new Promise<C>((resolve, reject) => {
      let settled = false;
      const fail = (error: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        channel.destroy();
        reject(error);
      };
      const timer = setTimeout(
        () => fail(new ConnectionClosedError(`No greeting from ${channel.peer} in time`)),
        options.timeoutMs ?? 10_000,
      );
      channel.listen({
        frame: (text) => {
          if (settled) return;
          const first = parseServerFrame(text);
          if (first && 'ev' in first && first.ev === 'closing') {
            // Turned away before the greeting (too many connections from this address...).
            fail(
              new ConnectionClosedError(
                `The server refused the connection: ${first.message}`,
                first.code,
              ),
            );
            return;
          }
          if (!first || !('ev' in first) || first.ev !== 'hello') {
            fail(
              new ConnectionClosedError(
                'The server did not greet with hello: is this a Confab server?',
              ),
            );
            return;
          }
          settled = true;
          clearTimeout(timer);
          const client = create(channel, first);
          client.loadCatalogue().then(
            () => resolve(client),
            (error: unknown) => {
              client.destroy();
              reject(error instanceof Error ? error : new Error(String(error)));
            },
          );
        },
        close: (error) =>
          fail(
            error ??
              new ConnectionClosedError(`${channel.peer} closed the connection before greeting`),
          ),
      });
    });
  }

  /** The server's command catalogue (fetched once per catalogue hash, then cached). */
  get commands(): readonly CommandInfo[] {
    return this.catalogue;
  }

  /** `hello` carries only the catalogue's hash: ask for the catalogue unless it is cached. */
  private async loadCatalogue(): Promise<void> {
    const cached = catalogueCache.get(this.hello.catalogue);
    if (cached) {
      this.catalogue = cached;
      return;
    }
    const reply = await this.request<{ hash: string; commands: CommandInfo[] }>('catalogue');
    catalogueCache.set(reply.hash, reply.commands);
    this.catalogue = reply.commands;
  }

  /** Requests sent on this connection so far (the library's own `catalogue` included). */
  get requestsSent(): number {
    return this.nextId - 1;
  }

  get isClosed(): boolean {
    return this.closeInfo !== undefined;
  }

  /** Sends a request; resolves with the reply's data or rejects with a `RequestError`. */
  request<T = Record<string, unknown>>(cmd: string, args: object = {}): Promise<T> {
    if (this.closeInfo)
      return Promise.reject(new ConnectionClosedError('The connection is closed'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (data: Record<string, unknown>) => void, reject });
      this.channel.send(JSON.stringify({ id, cmd, args }));
    });
  }

  /** Sends raw bytes (tests use this to send malformed input). */
  writeRaw(data: string | Uint8Array): void {
    this.channel.sendRaw(data);
  }

  /**
   * The nickname step. With a password, logs in to that account; `takeover` ends the
   * account's session elsewhere instead of being refused with `already_logged_in`;
   * `seenMid` asks the backlog for only what came after that message.
   */
  async login(
    nick: string,
    password?: string,
    options: { takeover?: boolean; seenMid?: number } = {},
  ): Promise<ReadyInfo> {
    const args: Record<string, unknown> = { nick };
    if (password !== undefined) args.password = password;
    if (options.takeover) args.takeover = true;
    if (options.seenMid !== undefined) args.seenMid = options.seenMid;
    return this.ready(await this.request<ReadyInfo & Record<string, unknown>>('nick', args));
  }

  /**
   * Takes back a session lost with another connection, instead of `login`. The server
   * replies like `login`, then sends the events missed after `lastEventId`, in order.
   * Rejects with `RequestError` code `resume_failed` when the token is forged, used or
   * expired: log in normally then. `seenMid`: the newest message id the client has.
   */
  async resume(token: string, lastEventId?: number, seenMid?: number): Promise<ReadyInfo> {
    const args: { token: string; lastEventId?: number; seenMid?: number } = { token };
    if (lastEventId !== undefined) args.lastEventId = lastEventId;
    if (seenMid !== undefined) args.seenMid = seenMid;
    const data = this.ready(
      await this.request<ReadyInfo & Record<string, unknown>>('resume', args),
    );
    // The replay continues the old connection's stream.
    this.lastEventId ??= lastEventId;
    return data;
  }

  private ready(data: ReadyInfo): ReadyInfo {
    this.nick = data.nick;
    this.sessionId = data.session;
    this.resumeToken = data.resumeToken;
    return data;
  }

  /** Leaves cleanly: the server tells everyone, then closes. */
  async quit(message?: string): Promise<void> {
    if (this.closeInfo) return;
    this.clientClosing = true;
    const closed = new Promise<void>((resolve) => this.once('close', () => resolve()));
    try {
      await this.request('quit', message === undefined ? {} : { message });
    } catch {
      // Already gone: nothing more to say.
    }
    await closed;
  }

  /** Closes the connection without a goodbye (as a crash would); the session can be resumed. */
  destroy(): void {
    this.clientClosing = true;
    this.channel.destroy();
  }

  /** Resolves with the next event matching `predicate`, or rejects after `timeoutMs`. */
  waitFor<E extends ServerEvent = ServerEvent>(
    predicate: (event: ServerEvent) => event is E,
    timeoutMs?: number,
  ): Promise<E>;
  waitFor(predicate: (event: ServerEvent) => boolean, timeoutMs?: number): Promise<ServerEvent>;
  waitFor(predicate: (event: ServerEvent) => boolean, timeoutMs = 5000): Promise<ServerEvent> {
    return new Promise((resolve, reject) => {
      const onEvent = (event: ServerEvent) => {
        if (!predicate(event)) return;
        cleanup();
        resolve(event);
      };
      const onClose = (info: CloseInfo) => {
        cleanup();
        reject(new ConnectionClosedError(`Closed while waiting: ${info.message}`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`No matching event within ${timeoutMs} ms`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.off('event', onEvent);
        this.off('close', onClose);
      };
      this.on('event', onEvent);
      this.on('close', onClose);
    });
  }

  /** Resolves when the connection has closed, with why. */
  closed(): Promise<CloseInfo> {
    if (this.closeInfo) return Promise.resolve(this.closeInfo);
    return new Promise((resolve) => this.once('close', resolve));
  }

  private onFrame(text: string): void {
    const frame = parseServerFrame(text);
    if (!frame) return;
    if ('ev' in frame) {
      this.rooms.observe(frame);
      // The last one received, not the greatest id: the server finds it by position in the
      // session's log, and ids do not grow along it (protocol.md, Identifiers).
      if (!UNCOUNTED.has(frame.ev)) this.lastEventId = (frame as { id: number }).id;
      if ((frame.ev === 'message' || frame.ev === 'private') && frame.mid > (this.lastMid ?? 0))
        this.lastMid = frame.mid;
      if (frame.ev === 'closing') this.serverClosing = { code: frame.code, message: frame.message };
      // Answer keepalives so the server knows this client is alive.
      if (frame.ev === 'ping' && !this.closeInfo) this.request('ping').catch(() => undefined);
      this.emit('event', frame);
      return;
    }
    this.onReply(frame);
  }

  private onReply(reply: Reply): void {
    this.emit('reply', reply);
    if (reply.re === null) return;
    const waiter = this.pending.get(reply.re);
    if (!waiter) return;
    this.pending.delete(reply.re);
    if (reply.ok) waiter.resolve(reply.data as Record<string, unknown>);
    else
      waiter.reject(new RequestError(reply.error.code, reply.error.message, reply.error.details));
  }

  private onClose(): void {
    if (this.closeInfo) return;
    this.closeInfo = {
      code: this.serverClosing?.code,
      message: this.serverClosing?.message ?? 'The server closed the connection',
      byClient: this.clientClosing,
    };
    for (const waiter of this.pending.values())
      waiter.reject(new ConnectionClosedError(`Connection closed: ${this.closeInfo.message}`));
    this.pending.clear();
    this.emit('close', this.closeInfo);
  }
}
