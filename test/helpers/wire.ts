import type { Reply, ServerFrame } from '../../src/protocol/frames.js';
import { RawClient } from './raw-client.js';

/** One line of a transcript: what a client sent (`>`) or received (`<`), as JSON. */
export interface TranscriptLine {
  readonly dir: '>' | '<';
  readonly frame: object;
}

/**
 * A protocol client that speaks only what docs/protocol.md says, over a real socket: it
 * numbers its requests, waits for exactly one reply to each, and keeps a transcript of
 * every frame both ways (the contract tests print and check transcripts with it).
 */
export class Wire {
  readonly transcript: TranscriptLine[] = [];
  private nextId = 1;
  private seen = 0;

  private constructor(readonly raw: RawClient) {}

  static async connect(port: number): Promise<Wire> {
    const wire = new Wire(await RawClient.connect(port));
    await wire.raw.until(() => wire.raw.frames.length > 0, 5000, 'the greeting');
    wire.sync();
    return wire;
  }

  /** Copies frames received so far into the transcript. */
  sync(): void {
    for (; this.seen < this.raw.frames.length; this.seen++)
      this.transcript.push({ dir: '<', frame: this.raw.frames[this.seen]! });
  }

  get frames(): readonly ServerFrame[] {
    return this.raw.frames;
  }

  /** Sends a request without waiting; returns its id. */
  send(cmd: string, args?: object): number {
    this.sync();
    const id = this.nextId++;
    const request = args === undefined ? { id, cmd } : { id, cmd, args };
    this.transcript.push({ dir: '>', frame: request });
    this.raw.send(request);
    return id;
  }

  async reply(id: number, timeoutMs = 5000): Promise<Reply> {
    await this.raw.until(() => this.raw.replyTo(id) !== undefined, timeoutMs, `the reply to ${id}`);
    this.sync();
    return this.raw.replyTo(id) as Reply;
  }

  /** Sends a request and waits for its reply. */
  async call(cmd: string, args?: object): Promise<Reply> {
    return this.reply(this.send(cmd, args));
  }

  /** Like `call`, but the reply must be `ok`: returns its data. */
  async ok<T = Record<string, unknown>>(cmd: string, args?: object): Promise<T> {
    const reply = await this.call(cmd, args);
    if (!reply.ok)
      throw new Error(`${cmd} ${JSON.stringify(args)} failed: ${JSON.stringify(reply.error)}`);
    return reply.data as T;
  }

  /** Resolves with the first event named `ev` received after frame index `from`. */
  async event(ev: string, from = 0, timeoutMs = 5000): Promise<Record<string, unknown>> {
    const find = () =>
      this.raw.frames.slice(from).find((frame) => 'ev' in frame && frame.ev === ev);
    await this.raw.until(() => find() !== undefined, timeoutMs, `a ${ev} event`);
    this.sync();
    return find() as unknown as Record<string, unknown>;
  }

  /** Events received since frame index `from`. */
  eventsSince(from: number): Array<Record<string, unknown> & { ev: string }> {
    return this.raw.frames.slice(from).filter((frame) => 'ev' in frame) as unknown as Array<
      Record<string, unknown> & { ev: string }
    >;
  }

  get mark(): number {
    return this.raw.frames.length;
  }

  /**
   * Waits until the server has sent this connection everything it had for it: a `ping`
   * answered means every earlier frame is out (replies and events leave in order).
   */
  async settle(timeoutMs = 5000): Promise<void> {
    if (this.raw.isClosed) return;
    const id = this.send('ping');
    await this.raw.until(
      () => this.raw.isClosed || this.raw.replyTo(id) !== undefined,
      timeoutMs,
      'a settling ping',
    );
    this.sync();
  }

  destroy(): void {
    this.raw.destroy();
  }
}
