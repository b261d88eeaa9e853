import { randomUUID } from 'node:crypto';
import type { Bus, BusMessage } from './bus.js';

/** The single-process bus: publishing is a synchronous call to each subscriber. */
export class LocalBus implements Bus {
  readonly nodeId = randomUUID();
  private readonly handlers = new Set<(message: BusMessage) => void>();

  publish(message: BusMessage): void {
    for (const handler of this.handlers) handler(message);
  }

  subscribe(handler: (message: BusMessage) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  async close(): Promise<void> {
    this.handlers.clear();
  }
}
