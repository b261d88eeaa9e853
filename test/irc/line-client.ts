import net from 'node:net';

/**
 * A bare IRC connection for protocol tests: sends exact lines, records every line the
 * server sends, and waits (bounded) for the one a test expects.
 */
export class IrcLineClient {
  readonly lines: string[] = [];
  private partial = '';
  private readonly waiters = new Set<() => void>();
  private closedFlag = false;
  readonly closed: Promise<void>;
  /** Lines already handed out by `next`. */
  private consumed = 0;

  private constructor(readonly socket: net.Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      const parts = (this.partial + chunk).split('\r\n');
      this.partial = parts.pop() ?? '';
      this.lines.push(...parts);
      for (const wake of [...this.waiters]) wake();
    });
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) =>
      socket.on('close', () => {
        this.closedFlag = true;
        for (const wake of [...this.waiters]) wake();
        resolve();
      }),
    );
  }

  static connect(port: number): Promise<IrcLineClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host: '127.0.0.1' }, () =>
        resolve(new IrcLineClient(socket)),
      );
      socket.once('error', reject);
    });
  }

  /** Connects and registers as a guest with `nick`; resolves after the welcome's NAMES. */
  static async register(
    port: number,
    nick: string,
    caps: readonly string[] = [],
  ): Promise<IrcLineClient> {
    const client = await IrcLineClient.connect(port);
    if (caps.length > 0) {
      client.send('CAP LS 302');
      client.send(`CAP REQ :${caps.join(' ')}`);
    }
    client.send(`NICK ${nick}`);
    client.send(`USER ${nick} 0 * :${nick}`);
    if (caps.length > 0) client.send('CAP END');
    await client.next(/ 366 \S+ #lobby /);
    return client;
  }

  get isClosed(): boolean {
    return this.closedFlag;
  }

  send(line: string | Buffer): void {
    this.socket.write(typeof line === 'string' ? line + '\r\n' : line);
  }

  /** The next line (after those already returned) matching `pattern`. */
  async next(pattern: RegExp | string, timeoutMs = 5000): Promise<string> {
    const matches = (line: string) =>
      typeof pattern === 'string' ? line.includes(pattern) : pattern.test(line);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (let i = this.consumed; i < this.lines.length; i++)
        if (matches(this.lines[i]!)) {
          this.consumed = i + 1;
          return this.lines[i]!;
        }
      if (this.closedFlag)
        throw new Error(`closed before ${String(pattern)}:\n${this.lines.join('\n')}`);
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`no ${String(pattern)} within ${timeoutMs} ms:\n${this.lines.join('\n')}`);
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.waiters.delete(wake);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(wake, left);
        this.waiters.add(wake);
      });
    }
  }

  /** Lines received from now on, until a PING round trip proves the server has answered. */
  async sync(): Promise<string[]> {
    const start = this.lines.length;
    const token = `sync${Math.random().toString(36).slice(2)}`;
    this.send(`PING ${token}`);
    await this.next(new RegExp(`PONG \\S+ :?${token}$`));
    return this.lines.slice(start, this.consumed - 1);
  }

  close(): void {
    this.socket.destroy();
  }
}
