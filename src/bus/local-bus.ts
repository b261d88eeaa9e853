import { randomUUID } from 'node:crypto';
import type { Bus, BusEnvelope } from './bus.js';

type Handler = (envelope: BusEnvelope) => void;

/**
 * The nodes of one process and what travels between them: the network several in-process
 * buses share (the multi-node test's three cores, or one server on its own).
 *
 * Delivery is synchronous, and nothing overtakes: an envelope sent while another is being
 * handed out (a handler that publishes) waits until that one has reached every node, so
 * each node sees every origin's envelopes in the order they were sent.
 */
export class LocalBusNetwork {
  private readonly nodes = new Map<string, LocalBus>();
  private readonly queue: Array<{ to: string | null; envelope: BusEnvelope }> = [];
  private draining = false;

  /** A bus for a new node on this network. */
  join(nodeId: string = randomUUID()): LocalBus {
    return new LocalBus(this, nodeId);
  }

  /** @internal */
  add(bus: LocalBus): void {
    if (this.nodes.has(bus.nodeId)) throw new Error(`Node ${bus.nodeId} is already on this bus`);
    this.nodes.set(bus.nodeId, bus);
  }

  /** @internal the bus of `nodeId` left. */
  leave(nodeId: string): void {
    this.nodes.delete(nodeId);
  }

  /** @internal `to` null: every node. */
  send(to: string | null, envelope: BusEnvelope): void {
    if (this.draining) {
      this.queue.push({ to, envelope });
      return;
    }
    this.draining = true;
    try {
      this.handOut(to, envelope);
      for (let next = this.queue.shift(); next; next = this.queue.shift())
        this.handOut(next.to, next.envelope);
    } finally {
      this.draining = false;
      this.queue.length = 0;
    }
  }

  private handOut(to: string | null, envelope: BusEnvelope): void {
    if (to !== null) {
      this.nodes.get(to)?.receive(envelope);
      return;
    }
    for (const node of this.nodes.values()) node.receive(envelope);
  }
}

/**
 * The in-process bus: one node's end of a `LocalBusNetwork`. `new LocalBus()` is a node
 * alone on its own network, the single-server default.
 */
export class LocalBus implements Bus {
  private readonly handlers = new Set<Handler>();
  private closed = false;

  constructor(
    private readonly network: LocalBusNetwork = new LocalBusNetwork(),
    readonly nodeId: string = randomUUID(),
  ) {
    network.add(this);
  }

  publish(envelope: BusEnvelope): void {
    if (!this.closed) this.network.send(null, envelope);
  }

  sendTo(node: string, envelope: BusEnvelope): void {
    if (!this.closed) this.network.send(node, envelope);
  }

  subscribe(handler: Handler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  /** In one process the bus is there as long as it is open. */
  async ping(): Promise<void> {
    if (this.closed) throw new Error('The bus is closed');
  }

  /** @internal */
  receive(envelope: BusEnvelope): void {
    for (const handler of this.handlers) handler(envelope);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.network.leave(this.nodeId);
    this.handlers.clear();
  }
}
