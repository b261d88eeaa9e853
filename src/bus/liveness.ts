import type { Clock } from '../core/clock.js';
import { Repeating } from '../core/clock.js';
import type { Bus, HeartbeatEnvelope } from './bus.js';

/** How often a node says it is alive, and how many missed beats make it dead. */
export const HEARTBEAT_INTERVAL_MS = 5_000;
const MISSED_BEATS_TO_DEAD = 3;

/**
 * Which nodes are alive: each node publishes a heartbeat every interval (and a last one
 * marked `leaving` when it stops); a node not heard from for three intervals is dead, and
 * whoever keeps state per node (the session directory) is told to forget it.
 */
export class NodeLiveness {
  private readonly lastHeard = new Map<string, number>();
  private readonly beating: Repeating;
  private readonly lostHandlers: Array<(node: string) => void> = [];

  constructor(
    private readonly bus: Bus,
    private readonly clock: Clock,
    private readonly sessions: () => number,
    private readonly intervalMs: number = HEARTBEAT_INTERVAL_MS,
  ) {
    this.beating = new Repeating(clock, intervalMs, () => {
      this.beat();
      this.sweep();
    });
  }

  /** Announces this node now and every interval after. */
  start(): void {
    this.beat();
    this.beating.start();
  }

  /** The last heartbeat: other nodes forget this one at once. */
  stop(): void {
    this.beating.stop();
    this.beat(true);
  }

  onNodeLost(handler: (node: string) => void): void {
    this.lostHandlers.push(handler);
  }

  /** Nodes alive now, this one first. */
  liveNodes(): string[] {
    this.sweep();
    return [this.bus.nodeId, ...this.lastHeard.keys()];
  }

  isAlive(node: string): boolean {
    return node === this.bus.nodeId || this.liveNodes().includes(node);
  }

  handle(envelope: HeartbeatEnvelope): void {
    const node = envelope.origin;
    if (node === this.bus.nodeId) return;
    if (envelope.leaving) {
      if (this.lastHeard.delete(node)) this.lost(node);
      return;
    }
    const known = this.lastHeard.has(node);
    // Local arrival time: nodes' clocks need not agree.
    this.lastHeard.set(node, this.clock.now());
    // A newcomer hears of the others at once rather than one interval later.
    if (!known) this.bus.sendTo(node, this.heartbeat(false));
  }

  private beat(leaving = false): void {
    this.bus.publish(this.heartbeat(leaving));
  }

  private heartbeat(leaving: boolean): HeartbeatEnvelope {
    return {
      type: 'heartbeat',
      origin: this.bus.nodeId,
      at: this.clock.now(),
      sessions: this.sessions(),
      ...(leaving && { leaving: true }),
    };
  }

  private sweep(): void {
    const deadline = this.clock.now() - this.intervalMs * MISSED_BEATS_TO_DEAD;
    for (const [node, at] of this.lastHeard)
      if (at < deadline) {
        this.lastHeard.delete(node);
        this.lost(node);
      }
  }

  private lost(node: string): void {
    for (const handler of this.lostHandlers) handler(node);
  }
}
