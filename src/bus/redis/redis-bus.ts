import type { Redis } from 'ioredis';
import type { Bus, BusEnvelope } from '../bus.js';
import { openRedis, parseRedisUrl } from './connection.js';

export interface RedisBusOptions {
  /** `redis://HOST:PORT/DB`, optionally `?prefix=NAME:`. */
  readonly url: string;
  /** This node's id; unique among the nodes sharing the prefix. */
  readonly nodeId: string;
  /** Overrides the URL's prefix (tests give each run its own). */
  readonly prefix?: string;
  /**
   * Most envelopes held while Redis is away; past it new ones are dropped (and counted),
   * so an outage cannot grow the process without bound. What was dropped is in the store:
   * history and inboxes replay it.
   */
  readonly maxQueued?: number;
  /** Told when the connection to Redis is lost or back, and of dropped envelopes. */
  readonly onStatus?: (status: RedisBusStatus) => void;
}

export type RedisBusStatus =
  | { readonly kind: 'up' }
  | { readonly kind: 'down'; readonly reason: string }
  | { readonly kind: 'dropped'; readonly count: number };

export const DEFAULT_MAX_QUEUED = 50_000;
/**
 * Most envelopes, and characters, one PUBLISH carries: a batch stays well inside what
 * Redis buffers for a slow subscriber (8 MiB by default) and what a node parses at once.
 */
const MAX_ENVELOPES_PER_PUBLISH = 1_000;
const MAX_PUBLISH_CHARS = 512 * 1024;

/**
 * The cluster bus over Redis pub/sub. Each node subscribes, on one connection, to the
 * broadcast channel and to its own; it publishes on another connection. A `publish` is at
 * most one Redis PUBLISH whatever the number of recipients (each node picks its own
 * sessions out of what it receives), and the envelopes one turn sends to one channel share
 * one PUBLISH (see `flush`).
 *
 * Guarantees (those `Bus` promises):
 * - everything goes through Redis, this node's own envelopes included, so a node sees its
 *   own envelopes in the same order relative to everyone else's as the other nodes do;
 * - per origin, in order, across both channels: one publishing connection, one
 *   subscribing connection, and Redis keeps the order of one client's commands;
 * - at most once: pub/sub never redelivers. While Redis is away, envelopes wait in the
 *   publishing connection's queue (up to `maxQueued`) and go out, in order, when it is
 *   back; what other nodes missed meanwhile is in the store;
 * - handlers run one envelope at a time, in arrival order.
 */
export class RedisBus implements Bus {
  readonly nodeId: string;
  readonly prefix: string;
  private readonly broadcast: string;
  private readonly own: string;
  private readonly handlers = new Set<(envelope: BusEnvelope) => void>();
  private readonly maxQueued: number;
  /** Publishes made while Redis was away, sent in order once both connections are back. */
  private held: Array<[channel: string, payload: string]> = [];
  private queued = 0;
  /** Publishes of this turn, sent together at its end (see `write`). */
  private batch: Array<[channel: string, payload: string]> = [];
  private flushScheduled = false;
  private dropped = 0;
  private up = false;
  private closed = false;

  private constructor(
    private readonly pub: Redis,
    private readonly sub: Redis,
    options: RedisBusOptions,
    prefix: string,
  ) {
    this.nodeId = options.nodeId;
    this.prefix = prefix;
    this.broadcast = `${prefix}bus`;
    this.own = this.nodeChannel(options.nodeId);
    this.maxQueued = options.maxQueued ?? DEFAULT_MAX_QUEUED;
    const onStatus = options.onStatus ?? (() => undefined);
    sub.on('messageBuffer', (_channel: Buffer, payload: Buffer) => this.receive(payload));
    // Up when both are ready; down when either goes (ioredis reconnects by itself).
    const update = (reason: string) => {
      const nowUp = pub.status === 'ready' && sub.status === 'ready';
      if (nowUp === this.up || this.closed) return;
      this.up = nowUp;
      onStatus(nowUp ? { kind: 'up' } : { kind: 'down', reason });
      if (nowUp) this.release();
      if (nowUp && this.dropped > 0) {
        onStatus({ kind: 'dropped', count: this.dropped });
        this.dropped = 0;
      }
    };
    for (const connection of [pub, sub]) {
      connection.on('ready', () => update('ready'));
      connection.on('close', () => update('connection closed'));
      connection.on('end', () => update('connection ended'));
      // Errors are reported through the status; without a listener they would throw.
      connection.on('error', (error: Error) => update(error.message));
    }
    this.up = pub.status === 'ready' && sub.status === 'ready';
  }

  /** Connects and subscribes; rejects if Redis cannot be reached within the timeout. */
  static async open(options: RedisBusOptions): Promise<RedisBus> {
    const { url, prefix } = parseRedisUrl(options.url, options.prefix);
    const name = `confab-${options.nodeId}`.replace(/[^A-Za-z0-9_-]/g, '_');
    // The first connection must succeed: a node that cannot reach Redis does not start.
    const pub = openRedis(url, `${name}-pub`, { lazyConnect: true });
    const sub = openRedis(url, `${name}-sub`, { lazyConnect: true });
    const silence = () => undefined;
    pub.on('error', silence);
    sub.on('error', silence);
    try {
      await Promise.all([pub.connect(), sub.connect()]);
      await sub.subscribe(`${prefix}bus`, `${prefix}node:${options.nodeId}`);
    } catch (error) {
      pub.disconnect();
      sub.disconnect();
      throw new Error(`cannot reach Redis at ${url}: ${(error as Error).message}`, {
        cause: error,
      });
    } finally {
      pub.off('error', silence);
      sub.off('error', silence);
    }
    return new RedisBus(pub, sub, options, prefix);
  }

  /** True while both connections to Redis are ready. */
  get connected(): boolean {
    return this.up;
  }

  /** The connection that publishes: other Redis-backed parts (the directory) share it. */
  get commands(): Redis {
    return this.pub;
  }

  publish(envelope: BusEnvelope): void {
    this.send(this.broadcast, envelope);
  }

  sendTo(node: string, envelope: BusEnvelope): void {
    this.send(this.nodeChannel(node), envelope);
  }

  subscribe(handler: (envelope: BusEnvelope) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  /** Answers when both connections are up and Redis replies to a PING within a second. */
  async ping(): Promise<void> {
    if (!this.up) throw new Error('Redis bus: not connected');
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('Redis bus: no answer to PING')), 1_000);
    });
    try {
      await Promise.race([this.pub.ping(), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.handlers.clear();
    this.flush();
    // QUIT waits for what was sent before it; a Redis that is away is not waited for.
    const quit = (connection: Redis) =>
      connection.status === 'ready'
        ? connection.quit().then(
            () => undefined,
            () => connection.disconnect(),
          )
        : Promise.resolve(connection.disconnect());
    await Promise.all([quit(this.sub), quit(this.pub)]);
  }

  private nodeChannel(node: string): string {
    return `${this.prefix}node:${node}`;
  }

  private send(channel: string, envelope: BusEnvelope): void {
    if (this.closed) return;
    if (this.queued + this.held.length >= this.maxQueued) {
      this.dropped++;
      return;
    }
    const payload = JSON.stringify(envelope);
    // Held here rather than in the connection's queue while Redis is away: the connection
    // would send them the moment it is back, before this node's subscription is restored.
    if (!this.up || this.held.length > 0) this.held.push([channel, payload]);
    else this.write(channel, payload);
  }

  private release(): void {
    const held = this.held;
    this.held = [];
    for (const [channel, payload] of held) this.write(channel, payload);
  }

  /**
   * Publishes leave in batches: what one turn of the event loop publishes (a commit's worth
   * of messages) goes to Redis as one pipeline, one socket write and one read on Redis's
   * side, instead of a write and a wake-up per message. Order is kept: batches leave in
   * turn order and a pipeline keeps its commands' order.
   */
  private write(channel: string, payload: string): void {
    this.queued++;
    this.batch.push([channel, payload]);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  /**
   * Consecutive envelopes of the batch for one channel go as one PUBLISH of a JSON array
   * (a lone envelope as itself). Each PUBLISH costs a command and a reply on this node and
   * a pub/sub message to decode on every subscribed node, which ioredis makes far dearer
   * than parsing the envelope: a commit of 100 private messages was 100 of each and is now
   * one (the two nodes' CPU per cross-node private message went from 165 to 127 µs). Only
   * consecutive runs are joined, so the order across channels is the order sent.
   */
  private flush(): void {
    this.flushScheduled = false;
    const batch = this.batch;
    if (batch.length === 0) return;
    this.batch = [];
    const pipeline = this.pub.pipeline();
    /** How many envelopes each PUBLISH of the pipeline carries, in its order. */
    const sizes: number[] = [];
    for (let start = 0; start < batch.length;) {
      const channel = batch[start]![0];
      let end = start + 1;
      let bytes = batch[start]![1].length;
      while (
        end < batch.length &&
        batch[end]![0] === channel &&
        end - start < MAX_ENVELOPES_PER_PUBLISH &&
        bytes + batch[end]![1].length <= MAX_PUBLISH_CHARS
      )
        bytes += batch[end++]![1].length;
      if (end - start === 1) pipeline.publish(channel, batch[start]![1]);
      else {
        let joined = '[' + batch[start]![1];
        for (let index = start + 1; index < end; index++) joined += ',' + batch[index]![1];
        pipeline.publish(channel, joined + ']');
      }
      sizes.push(end - start);
      start = end;
    }
    pipeline.exec().then(
      (results) => {
        this.queued -= batch.length;
        (results ?? []).forEach(([error], index) => {
          if (error) this.dropped += sizes[index] ?? 0;
        });
      },
      () => {
        this.queued -= batch.length;
        this.dropped += batch.length;
      },
    );
  }

  private receive(payload: Buffer): void {
    let parsed: BusEnvelope | BusEnvelope[];
    try {
      parsed = JSON.parse(payload.toString('utf8')) as BusEnvelope | BusEnvelope[];
    } catch {
      return; // not ours: another program publishing under the prefix
    }
    if (!Array.isArray(parsed)) return this.dispatch(parsed);
    for (const envelope of parsed) this.dispatch(envelope);
  }

  /**
   * Hands one envelope to every handler. One that throws is reported (as an uncaught
   * error, as before batching) without keeping the rest of its batch from the handlers.
   */
  private dispatch(envelope: BusEnvelope): void {
    for (const handler of this.handlers)
      try {
        handler(envelope);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
  }
}
