import WebSocket from 'ws';
import type { ServerFrame } from '../../src/core/session.js';

/**
 * A protocol v1 client over WebSocket for tests: records every frame, sends requests,
 * waits for what a test expects. `origin` is what a browser would send.
 */
export class TestWsClient {
  readonly frames: ServerFrame[] = [];
  closeCode: number | undefined;
  private nextId = 1;
  private readonly waiters = new Set<() => void>();
  readonly closed: Promise<void>;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data, isBinary) => {
      if (!isBinary) this.frames.push(JSON.parse(String(data)) as ServerFrame);
      this.notify();
    });
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) =>
      socket.on('close', (code) => {
        this.closeCode = code;
        this.notify();
        resolve();
      }),
    );
  }

  static connect(
    url: string,
    options: { origin?: string; headers?: Record<string, string> } = {},
  ): Promise<TestWsClient> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, {
        ...(options.origin && { origin: options.origin }),
        ...(options.headers && { headers: options.headers }),
      });
      socket.once('open', () => resolve(new TestWsClient(socket)));
      socket.once('unexpected-response', (_request, response) =>
        reject(new Error(`HTTP ${response.statusCode}`)),
      );
      socket.once('error', reject);
    });
  }

  get isClosed(): boolean {
    return this.closeCode !== undefined;
  }

  send(text: string | Buffer, binary = false): void {
    this.socket.send(text, { binary });
  }

  /** Sends a request and resolves with its reply frame. */
  async request(cmd: string, args: object = {}): Promise<ServerFrame & { re: number }> {
    const id = this.nextId++;
    this.send(JSON.stringify({ id, cmd, args }));
    return (await this.waitFor((frame) => 're' in frame && frame.re === id)) as ServerFrame & {
      re: number;
    };
  }

  waitFor(match: (frame: ServerFrame) => boolean, timeoutMs = 5000): Promise<ServerFrame> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.frames.find(match);
        if (found) {
          this.waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
        }
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(
          new Error(`no matching frame within ${timeoutMs} ms: ${JSON.stringify(this.frames)}`),
        );
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  async waitClosed(timeoutMs = 5000): Promise<number | undefined> {
    await Promise.race([this.closed, new Promise((resolve) => setTimeout(resolve, timeoutMs))]);
    return this.closeCode;
  }

  close(): void {
    this.socket.terminate();
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}
