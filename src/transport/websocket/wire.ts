import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { Wire } from '../layer/wire.js';

/** `ws` sends a Buffer as a binary message unless told otherwise. */
const AS_TEXT = { binary: false } as const;
/**
 * Output waiting past this many bytes is what a stream calls "needs drain": bulk frames
 * (file chunks) wait for it to fall, as on a socket.
 */
const HIGH_WATER_BYTES = 64 * 1024;

/**
 * The connection layer's `Wire` over one `ws` WebSocket: each write is one text message
 * (the layer never concatenates frames on a message-framed wire), `bufferedAmount` is
 * the send queue the layer caps, and `drain` is raised when a write leaves the buffer
 * below the high-water mark.
 */
export class WebSocketWire implements Wire {
  private drainListeners: (() => void)[] = [];
  private closeListeners: (() => void)[] = [];

  /**
   * @param stream the upgraded TCP (or TLS) stream under `socket`, when known: corked
   *   around a flush of several frames, so they leave in one system call. Without it
   *   each message is its own `writev` (header and payload): under a backlog that cost
   *   per frame does not shrink as it does on a native socket, where the outbox writes a
   *   turn's frames at once (docs/benchmarks.md, the ws section).
   */
  constructor(
    private readonly socket: WebSocket,
    private readonly stream?: Pick<Duplex, 'cork' | 'uncork'>,
  ) {
    socket.on('close', () => {
      const listeners = [...this.closeListeners, ...this.drainListeners];
      this.closeListeners = [];
      this.drainListeners = [];
      for (const listener of listeners) listener();
    });
  }

  get writableLength(): number {
    return this.socket.bufferedAmount;
  }

  get writableNeedDrain(): boolean {
    return this.socket.bufferedAmount > HIGH_WATER_BYTES;
  }

  get writable(): boolean {
    return this.socket.readyState === this.socket.OPEN;
  }

  get destroyed(): boolean {
    return this.socket.readyState !== this.socket.OPEN;
  }

  write(chunk: Uint8Array, done?: (error?: Error | null) => void): boolean {
    if (this.socket.readyState !== this.socket.OPEN) {
      done?.(new Error('WebSocket is not open'));
      return false;
    }
    const needsWatch = done !== undefined || this.drainListeners.length > 0;
    this.socket.send(
      chunk,
      AS_TEXT,
      needsWatch
        ? (error) => {
            done?.(error ?? null);
            this.maybeDrained();
          }
        : undefined,
    );
    return !this.writableNeedDrain;
  }

  /** Several messages in one write: `ws` corks each frame, and corks nest. */
  cork(): void {
    this.stream?.cork();
  }

  uncork(): void {
    this.stream?.uncork();
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  /** A normal close (1000) after what was sent; the layer destroys it if that hangs. */
  end(): void {
    this.socket.close(1000);
  }

  destroy(): void {
    this.socket.terminate();
  }

  on(event: 'drain' | 'close', listener: () => void): void {
    if (event === 'close') this.closeListeners.push(listener);
    else {
      this.drainListeners.push(listener);
      // Nothing in flight to report back: check once the current writes are out.
      setImmediate(() => this.maybeDrained());
    }
  }

  off(event: 'drain' | 'close', listener: () => void): void {
    if (event === 'close') this.closeListeners = this.closeListeners.filter((l) => l !== listener);
    else this.drainListeners = this.drainListeners.filter((l) => l !== listener);
  }

  private maybeDrained(): void {
    if (this.drainListeners.length === 0) return;
    if (this.socket.bufferedAmount > HIGH_WATER_BYTES && this.socket.readyState === 1) {
      // Still full: look again shortly (a write's callback may not come if none is pending).
      setTimeout(() => this.maybeDrained(), 10).unref();
      return;
    }
    const listeners = this.drainListeners;
    this.drainListeners = [];
    for (const listener of listeners) listener();
  }
}
