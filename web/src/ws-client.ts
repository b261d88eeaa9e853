import type {
  CommandInfo,
  ErrorCode,
  HelloEvent,
  Reply,
  ServerEvent,
} from '../../src/protocol/index.js';

export type { HelloEvent };

/**
 * Catalogues fetched on this page, by hash: `hello` carries only the hash, so a reconnect
 * to the same server asks for nothing.
 */
const catalogues = new Map<string, readonly CommandInfo[]>();

/** The server refused a request: `code` is one of the stable protocol error codes. */
export class RequestError extends Error {
  constructor(
    readonly code: ErrorCode | string,
    message: string,
    readonly details?: Readonly<Record<string, unknown>>,
  ) {
    super(message);
    this.name = 'RequestError';
  }
}

/** The connection closed before a reply came. */
export class ConnectionClosedError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'ConnectionClosedError';
  }
}

export interface CloseInfo {
  /** The server's `closing` code, when it gave one. */
  readonly code: string | undefined;
  readonly message: string;
  readonly byClient: boolean;
}

/** Events the resume position counts (protocol.md, Session resume). */
const UNCOUNTED = new Set(['hello', 'ping', 'closing']);
const GREETING_TIMEOUT_MS = 10_000;

/**
 * Protocol v1 over a browser WebSocket: one JSON frame per message, requests matched to
 * replies by id, a `ping` event answered at once. The same contract as the terminal
 * client's connection, over the transport a page has.
 */
export class WsClient {
  readonly hello: HelloEvent;
  /** The `id` of the last event handled, for `resume`. */
  lastEventId: number | undefined;
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (data: unknown) => void; reject: (error: Error) => void }
  >();
  private readonly eventListeners = new Set<(event: ServerEvent) => void>();
  private readonly closeListeners = new Set<(info: CloseInfo) => void>();
  private closing: { code: string; message: string } | undefined;
  private closedByClient = false;
  private closed = false;

  private constructor(
    private readonly socket: WebSocket,
    hello: HelloEvent,
  ) {
    this.hello = hello;
    socket.addEventListener('message', (message) => this.onMessage(message));
    socket.addEventListener('close', () => this.handleClose());
  }

  private catalogue: readonly CommandInfo[] = [];

  get commands(): readonly CommandInfo[] {
    return this.catalogue;
  }

  /** The server's command catalogue, once per hash (the shared parser and /help use it). */
  private async loadCatalogue(): Promise<void> {
    const cached = catalogues.get(this.hello.catalogue);
    if (cached) {
      this.catalogue = cached;
      return;
    }
    const reply = await this.request<{ hash: string; commands: CommandInfo[] }>('catalogue');
    catalogues.set(reply.hash, reply.commands);
    this.catalogue = reply.commands;
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /** Opens `url` and waits for the server's greeting (or its reason for refusing). */
  static connect(url: string): Promise<WsClient> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url);
      let settled = false;
      const timer = setTimeout(
        () => fail(new ConnectionClosedError('No greeting from the server')),
        GREETING_TIMEOUT_MS,
      );
      const fail = (error: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.close();
        reject(error);
      };
      const onFirst = (message: MessageEvent) => {
        const frame = parseFrame(message.data);
        if (frame && 'ev' in frame && frame.ev === 'hello') {
          settled = true;
          clearTimeout(timer);
          socket.removeEventListener('message', onFirst);
          const client = new WsClient(socket, frame);
          client.loadCatalogue().then(
            () => resolve(client),
            (error: unknown) => reject(error as Error),
          );
        } else if (frame && 'ev' in frame && frame.ev === 'closing') {
          fail(new ConnectionClosedError(frame.message, frame.code));
        } else fail(new ConnectionClosedError('The server did not greet us'));
      };
      socket.addEventListener('message', onFirst);
      socket.addEventListener('close', () =>
        fail(new ConnectionClosedError('Cannot reach the server')),
      );
      socket.addEventListener('error', () =>
        fail(new ConnectionClosedError('Cannot reach the server')),
      );
    });
  }

  onEvent(listener: (event: ServerEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  onClose(listener: (info: CloseInfo) => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  request<T = Record<string, unknown>>(cmd: string, args: object = {}): Promise<T> {
    if (this.closed) return Promise.reject(new ConnectionClosedError('Not connected'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (data: unknown) => void, reject });
      this.socket.send(JSON.stringify({ id, cmd, args }));
    });
  }

  /** Leaves cleanly: `quit`, then the server closes. */
  async quit(message?: string): Promise<void> {
    this.closedByClient = true;
    await this.request('quit', message ? { message } : {}).catch(() => undefined);
  }

  /** Drops the connection without `quit` (the session waits to be resumed). */
  drop(): void {
    this.closedByClient = true;
    this.socket.close();
  }

  private onMessage(message: MessageEvent): void {
    const frame = parseFrame(message.data);
    if (!frame) return;
    if ('re' in frame) {
      const reply = frame as Reply;
      if (reply.re === null) return;
      const waiter = this.pending.get(reply.re);
      if (!waiter) return;
      this.pending.delete(reply.re);
      if (reply.ok) waiter.resolve(reply.data);
      else
        waiter.reject(new RequestError(reply.error.code, reply.error.message, reply.error.details));
      return;
    }
    const event = frame as ServerEvent;
    if (event.ev === 'ping') {
      this.request('ping').catch(() => undefined);
      return;
    }
    if (event.ev === 'closing') this.closing = { code: event.code, message: event.message };
    if ('id' in event && !UNCOUNTED.has(event.ev)) this.lastEventId = event.id;
    for (const listener of this.eventListeners) listener(event);
  }

  private handleClose(): void {
    if (this.closed) return;
    this.closed = true;
    const error = new ConnectionClosedError(
      this.closing?.message ?? 'Connection lost',
      this.closing?.code,
    );
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
    const info: CloseInfo = {
      code: this.closing?.code,
      message: this.closing?.message ?? 'Connection lost',
      byClient: this.closedByClient,
    };
    for (const listener of this.closeListeners) listener(info);
  }
}

function parseFrame(data: unknown): (Reply | ServerEvent) | undefined {
  if (typeof data !== 'string') return undefined;
  try {
    const value: unknown = JSON.parse(data);
    if (typeof value !== 'object' || value === null) return undefined;
    if ('ev' in value || 're' in value) return value as Reply | ServerEvent;
  } catch {
    // Not a frame: ignored, as the protocol asks of clients.
  }
  return undefined;
}

/** The endpoint on the server that served this page. */
export function endpointUrl(location: Location): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
}

/** An error as a line for people: the server's message with its stable code. */
export function describe(error: unknown): string {
  if (error instanceof RequestError) return `${error.message} (${error.code})`;
  if (error instanceof Error) return error.message;
  return String(error);
}
