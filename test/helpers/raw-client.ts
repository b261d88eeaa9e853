import net from 'node:net';
import type { ServerFrame } from '../../src/protocol/frames.js';
import { parseServerFrame } from '../../src/protocol/codec.js';
import { FrameDecoder } from '../../src/protocol/framing.js';

/**
 * A protocol client with no manners: it sends whatever bytes a test wants and records
 * every frame, for tests of how the server copes with misbehaving peers.
 */
export class RawClient {
  readonly frames: ServerFrame[] = [];
  private readonly decoder = new FrameDecoder(16 * 1024 * 1024);
  private readonly waiters = new Set<() => void>();
  private closedFlag = false;
  readonly closedPromise: Promise<void>;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const result of this.decoder.push(chunk)) {
        if (result.kind !== 'frame') continue;
        const frame = parseServerFrame(result.text);
        if (frame) this.frames.push(frame);
      }
      this.notify();
    });
    socket.on('error', () => undefined);
    this.closedPromise = new Promise((resolve) =>
      socket.on('close', () => {
        this.closedFlag = true;
        this.notify();
        resolve();
      }),
    );
  }

  /** `host` is also the source address unless `localAddress` says otherwise. */
  static connect(port: number, host = '127.0.0.1', localAddress?: string): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const from = localAddress ?? (host !== '127.0.0.1' ? host : undefined);
      const socket = net.connect({
        port,
        host,
        ...(from !== undefined && { localAddress: from }),
      });
      socket.once('connect', () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  get isClosed(): boolean {
    return this.closedFlag;
  }

  send(value: object): void {
    this.socket.write(JSON.stringify(value) + '\n');
  }

  write(data: string | Uint8Array): void {
    this.socket.write(data);
  }

  /** The `closing` event's code, if the server sent one. */
  get closingCode(): string | undefined {
    for (const frame of this.frames) if ('ev' in frame && frame.ev === 'closing') return frame.code;
    return undefined;
  }

  replyTo(id: number): ServerFrame | undefined {
    return this.frames.find((frame) => 're' in frame && frame.re === id);
  }

  /** Resolves when `condition` holds (checked on every frame and on close). */
  until(condition: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!condition()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  closed(timeoutMs = 5000): Promise<void> {
    return this.until(() => this.closedFlag, timeoutMs, 'the connection to close');
  }

  async login(nick: string): Promise<void> {
    this.send({ id: 1, cmd: 'nick', args: { nick } });
    await this.until(() => this.replyTo(1) !== undefined, 5000, 'the nick reply');
  }

  destroy(): void {
    this.socket.destroy();
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}
