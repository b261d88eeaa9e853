import net from 'node:net';

/**
 * A minimal protocol v1 client for the load generator. `ChatClient` parses every frame
 * with JSON.parse and emits it; at hundreds of thousands of deliveries per second that
 * would make the generator, not the server, the bottleneck. This client speaks the same
 * frames (LF-terminated JSON) but only looks inside the ones the benchmark cares about:
 * replies (to pace senders) and messages carrying a benchmark marker.
 *
 * The marker is the start of the message text: `~SENDER.SEQ.MICROS ` where MICROS is the
 * sender's monotonic clock (process.hrtime, system-wide on Linux, so comparable across the
 * generator's processes).
 */
export interface Receiver {
  /** A benchmark message arrived at `client` at `now` (µs). */
  onMarked(client: BenchClient, sender: number, seq: number, sentAt: number, now: number): void;
  /** A reply to this client's request `re`. */
  onReply(client: BenchClient, re: number, ok: boolean, line: string): void;
}

/** What the generator needs of a client, whatever protocol it speaks. */
export interface BenchClient {
  readonly index: number;
  readonly isClosed: boolean;
  bytesIn: number;
  framesIn: number;
  /** Sends one benchmark message; its acknowledgement comes through `Receiver.onReply`. */
  sendMessage(target: MessageTarget, text: string): void;
  /** A setup step (`nick`, `create`, `join`), resolved when the server has answered. */
  call(cmd: string, args: object): Promise<{ ok: boolean; line: string }>;
  destroy(): void;
}

export type MessageTarget =
  | { readonly kind: 'room'; readonly room: string }
  | { readonly kind: 'private'; readonly to: string };

const MARK = '"text":"~';

/**
 * Every lean client of a process reads into this one buffer (`net.connect`'s `onread`):
 * each read is handled before the next, and a frame left unfinished is copied out. It
 * spares the generator a buffer and a stream event per read, the bulk of its cost per
 * delivery when each read carries one frame.
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

export function nowMicros(): number {
  const [seconds, nanos] = process.hrtime();
  return seconds * 1e6 + Math.floor(nanos / 1000);
}

export function markerText(sender: number, seq: number, sentAt: number, padding: string): string {
  return `~${sender}.${seq}.${sentAt} ${padding}`;
}

/** Reads the marker at `from` in a frame: [sender, seq, sentAt], or undefined. */
export function parseMarker(
  line: string,
  from = 0,
  mark = MARK,
): [number, number, number] | undefined {
  const at = line.indexOf(mark, from);
  if (at < 0) return undefined;
  let index = at + mark.length;
  const fields: number[] = [0, 0, 0];
  for (let field = 0; field < 3; field++) {
    let value = 0;
    let digits = 0;
    for (;;) {
      const code = line.charCodeAt(index);
      if (code < 48 || code > 57) break;
      value = value * 10 + (code - 48);
      index++;
      digits++;
    }
    if (digits === 0) return undefined;
    fields[field] = value;
    const separator = line.charCodeAt(index++);
    if (field < 2 ? separator !== 46 /* . */ : separator !== 32 /* space */) return undefined;
  }
  return fields as [number, number, number];
}

export class LeanClient implements BenchClient {
  bytesIn = 0;
  framesIn = 0;
  private partial: Buffer | undefined;
  /** Requests queued while a read is handled; undefined outside one. */
  private outgoing: string | undefined;
  private nextId = 1;
  private greeted = false;
  private readonly waiting = new Map<number, (ok: boolean, line: string) => void>();
  private closed = false;

  private constructor(
    readonly index: number,
    private readonly socket: net.Socket,
    private readonly receiver: Receiver,
    private onGreeting: (() => void) | undefined,
    private onClosed: ((why: Error) => void) | undefined,
  ) {
    socket.setNoDelay(true);
    socket.on('error', () => {
      // 'close' follows.
    });
    socket.on('close', () => {
      this.closed = true;
      const fail = this.onClosed;
      this.onClosed = undefined;
      fail?.(new Error('connection closed'));
      for (const waiter of this.waiting.values()) waiter(false, 'closed');
      this.waiting.clear();
    });
  }

  /** Connects and resolves once the server's hello has arrived. */
  static connect(options: {
    index: number;
    host: string;
    port: number;
    localAddress?: string;
    receiver: Receiver;
    timeoutMs: number;
  }): Promise<LeanClient> {
    return new Promise((resolve, reject) => {
      // The client is made just after its socket, in the same turn: before any read.
      const reading: { client?: LeanClient } = {};
      const socket = net.connect({
        host: options.host,
        port: options.port,
        ...(options.localAddress !== undefined && { localAddress: options.localAddress }),
        onread: {
          buffer: READ_BUFFER,
          callback: (bytes: number, buffer: Uint8Array) => {
            reading.client?.onData(Buffer.from(buffer.buffer, buffer.byteOffset, bytes));
            return true; // keep reading
          },
        },
      });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error('no greeting in time'));
      }, options.timeoutMs);
      const client: LeanClient = new LeanClient(
        options.index,
        socket,
        options.receiver,
        () => {
          clearTimeout(timer);
          resolve(client);
        },
        (why) => {
          clearTimeout(timer);
          reject(why);
        },
      );
      reading.client = client;
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Sends a request whose JSON `args` is given already encoded; returns its id. */
  send(cmd: string, argsJson: string): number {
    const id = this.nextId++;
    const frame = `{"id":${id},"cmd":"${cmd}","args":${argsJson}}\n`;
    // Requests sent while a read is handled (the next ones, as replies come in) leave
    // together when it ends: one write per read rather than one per request.
    if (this.outgoing !== undefined) this.outgoing += frame;
    else this.socket.write(frame);
    return id;
  }

  sendMessage(target: MessageTarget, text: string): void {
    if (target.kind === 'room')
      this.send('say', `{"room":${JSON.stringify(target.room)},"text":"${text}"}`);
    else this.send('msg', `{"to":[${JSON.stringify(target.to)}],"text":"${text}"}`);
  }

  /** Sends a request and resolves with whether it succeeded and the reply frame. */
  call(cmd: string, args: object): Promise<{ ok: boolean; line: string }> {
    if (this.closed) return Promise.resolve({ ok: false, line: 'closed' });
    const id = this.send(cmd, JSON.stringify(args));
    return new Promise((resolve) => this.waiting.set(id, (ok, line) => resolve({ ok, line })));
  }

  destroy(): void {
    this.socket.destroy();
  }

  onData(chunk: Buffer): void {
    this.bytesIn += chunk.length;
    const now = nowMicros();
    // Work on bytes: most frames (presence notices, other traffic) are only counted, and
    // only replies and benchmark messages are turned into strings.
    const data = this.partial === undefined ? chunk : Buffer.concat([this.partial, chunk]);
    let start = 0;
    this.outgoing = '';
    try {
      for (;;) {
        const lf = data.indexOf(10, start);
        if (lf < 0) break;
        this.onLine(data, start, lf, now);
        start = lf + 1;
      }
    } finally {
      const outgoing = this.outgoing;
      this.outgoing = undefined;
      if (outgoing !== '' && !this.closed) this.socket.write(outgoing);
    }
    // Copy the unfinished frame: the socket may reuse the chunk's memory.
    this.partial = start === data.length ? undefined : Buffer.from(data.subarray(start));
  }

  private onLine(data: Buffer, start: number, end: number, now: number): void {
    this.framesIn++;
    // `{"re":` — a reply; `{"ev":"message"` / `{"ev":"private"` may carry a marker.
    if (data[start + 2] === 114 /* r */) {
      const line = data.toString('latin1', start, end);
      const re = Number.parseInt(line.slice(6), 10);
      const ok = line.indexOf('"ok":true') > 0;
      const waiter = this.waiting.get(re);
      if (waiter) {
        this.waiting.delete(re);
        waiter(ok, line);
      } else {
        this.receiver.onReply(this, re, ok, line);
      }
      return;
    }
    if (!this.greeted) {
      this.greeted = true;
      const greet = this.onGreeting;
      this.onGreeting = undefined;
      this.onClosed = undefined;
      greet?.();
      return;
    }
    const kind = data[start + 7];
    if (kind !== 109 /* m */ && kind !== 112 /* p */) return;
    const marker = parseMarker(data.toString('latin1', start, end));
    if (marker) this.receiver.onMarked(this, marker[0], marker[1], marker[2], now);
  }
}
