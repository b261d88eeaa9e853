import net from 'node:net';
import {
  nowMicros,
  parseMarker,
  type BenchClient,
  type MessageTarget,
  type Receiver,
} from './lean-client.js';

/**
 * The load generator's IRC client: the same job as `LeanClient`, over the IRC gateway. It
 * negotiates only `echo-message`, so the echo of each PRIVMSG is its acknowledgement
 * (echoes come back in the order sent, once stored, as native replies do), and an error
 * numeric or failure notice is a refusal. Benchmark messages are PRIVMSGs whose text
 * starts with the marker.
 */
const IRC_MARK = ' :~';

export class IrcLeanClient implements BenchClient {
  bytesIn = 0;
  framesIn = 0;
  private partial: Buffer | undefined;
  private outgoing: string | undefined;
  private closed = false;
  private nick = '';
  /** `:nick!` — how lines from this client itself start. */
  private ownPrefix = '';
  /** A setup step waiting for its answer. */
  private pendingCall: ((line: string) => boolean) | undefined;

  private constructor(
    readonly index: number,
    private readonly socket: net.Socket,
    private readonly receiver: Receiver,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      this.pendingCall?.('ERROR :closed');
    });
  }

  static connect(options: {
    index: number;
    host: string;
    port: number;
    localAddress?: string;
    receiver: Receiver;
    timeoutMs: number;
  }): Promise<IrcLeanClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({
        host: options.host,
        port: options.port,
        ...(options.localAddress !== undefined && { localAddress: options.localAddress }),
      });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error('IRC connect timed out'));
      }, options.timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(new IrcLeanClient(options.index, socket, options.receiver));
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private write(line: string): void {
    if (this.outgoing !== undefined) this.outgoing += line + '\r\n';
    else this.socket.write(line + '\r\n');
  }

  sendMessage(target: MessageTarget, text: string): void {
    this.write(`PRIVMSG ${target.kind === 'room' ? `#${target.room}` : target.to} :${text}`);
  }

  call(cmd: string, args: object): Promise<{ ok: boolean; line: string }> {
    if (this.closed) return Promise.resolve({ ok: false, line: 'closed' });
    const { nick, room } = args as { nick?: string; room?: string };
    return new Promise((resolve) => {
      const done = (ok: boolean, line: string) => {
        this.pendingCall = undefined;
        resolve({ ok, line });
        return true;
      };
      if (cmd === 'nick' && nick !== undefined) {
        this.nick = nick;
        this.ownPrefix = `:${nick}!`;
        this.pendingCall = (line) =>
          line.includes(` 366 ${nick} #lobby `)
            ? done(true, line)
            : / 43[23] |^ERROR/.test(line)
              ? done(false, line)
              : false;
        this.write('CAP REQ :echo-message');
        this.write(`NICK ${nick}`);
        this.write(`USER ${nick} 0 * :${nick}`);
        this.write('CAP END');
        return;
      }
      if ((cmd === 'join' || cmd === 'create') && room !== undefined) {
        this.pendingCall = (line) =>
          line.includes(` 366 ${this.nick} #${room} `)
            ? done(true, line)
            : / 4\d\d /.test(line) && line.startsWith(':confab')
              ? done(false, line)
              : false;
        this.write(`JOIN #${room}`);
        return;
      }
      resolve({ ok: false, line: `${cmd} has no IRC form in the benchmark client` });
    });
  }

  destroy(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.bytesIn += chunk.length;
    const now = nowMicros();
    const data = this.partial === undefined ? chunk : Buffer.concat([this.partial, chunk]);
    let start = 0;
    this.outgoing = '';
    try {
      for (;;) {
        const lf = data.indexOf(10, start);
        if (lf < 0) break;
        const end = lf > start && data[lf - 1] === 13 ? lf - 1 : lf;
        this.onLine(data.toString('latin1', start, end), now);
        start = lf + 1;
      }
    } finally {
      const outgoing = this.outgoing;
      this.outgoing = undefined;
      if (outgoing !== '' && !this.closed) this.socket.write(outgoing);
    }
    this.partial = start === data.length ? undefined : Buffer.from(data.subarray(start));
  }

  private onLine(line: string, now: number): void {
    this.framesIn++;
    if (this.pendingCall?.(line)) return;
    if (line.startsWith('PING ')) {
      this.write(`PONG ${line.slice(5)}`);
      return;
    }
    const privmsg = line.indexOf(' PRIVMSG ');
    if (privmsg > 0) {
      // Our own message echoed: stored and sent, as a native reply says.
      if (line.startsWith(this.ownPrefix)) {
        this.receiver.onReply(this, 0, true, line);
        return;
      }
      const marker = parseMarker(line, privmsg, IRC_MARK);
      if (marker) this.receiver.onMarked(this, marker[0], marker[1], marker[2], now);
      return;
    }
    // A refusal: an error numeric, a FAIL, or the NOTICE that stands for one.
    if (/^:\S+ (4\d\d|FAIL) /.test(line) || line.includes(`NOTICE ${this.nick} :PRIVMSG failed`))
      this.receiver.onReply(this, 0, false, line);
  }
}
