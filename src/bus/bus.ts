import type { ChatEvent } from '../core/events.js';

/**
 * Fan-out between server nodes. A node publishes what happened; every node (itself
 * included) receives it and delivers to the sessions it holds. The in-process bus is the
 * single-node default; a Redis bus for cluster mode is another file implementing this.
 */
export type BusTarget =
  | { readonly kind: 'room'; readonly room: string }
  /** Members of any of these rooms, each once. */
  | { readonly kind: 'rooms'; readonly rooms: readonly string[] }
  | { readonly kind: 'nicks'; readonly keys: readonly string[] }
  | { readonly kind: 'sessions'; readonly ids: readonly string[] }
  | { readonly kind: 'everyone' };

export interface BusMessage {
  /** Node that published it, so a node can skip its own messages coming back. */
  readonly origin: string;
  readonly target: BusTarget;
  readonly event: ChatEvent;
  /** Session that caused it and does not get a copy (no echo to the sender). */
  readonly excludeSession?: string;
  /** Sender's nickname key: recipients who block it are skipped. */
  readonly senderKey?: string;
}

export interface Bus {
  readonly nodeId: string;
  publish(message: BusMessage): void;
  subscribe(handler: (message: BusMessage) => void): () => void;
  close(): Promise<void>;
}
