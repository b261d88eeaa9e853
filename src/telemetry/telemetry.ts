/**
 * What the server tells its operator about itself, as it happens: a port every layer
 * (core, transports, store, bus, files) reports through, with no idea of who listens.
 * `src/metrics` implements it with Prometheus counters and histograms; without metrics
 * the no-op below costs a call to an empty function. Nothing here may throw or block:
 * these calls sit on the hot path.
 */
export interface Telemetry {
  connectionOpened(transport: TransportName): void;
  connectionClosed(transport: TransportName): void;
  /** A connection refused before it was served: per-address limits, or the server full. */
  connectionRefused(reason: RefusalReason): void;
  login(result: LoginResult): void;
  /** A chat message stored and acknowledged. */
  messageSent(kind: MessageKind): void;
  /** One event handed to `recipients` sessions on this node. */
  fannedOut(recipients: number): void;
  /** A request's handling, from its start to its reply. */
  commandFinished(command: string, seconds: number): void;
  /** One store commit: how long it took and how many writes it carried. */
  storeCommitted(seconds: number, writes: number): void;
  /** A connection dropped because its send queue passed its cap. */
  sendQueueDropped(transport: TransportName): void;
  /** A request refused by flood control. */
  floodRefused(): void;
  busPublished(type: string): void;
  /** A bus message from another node; `latencySeconds` when it carries its send time. */
  busReceived(type: string, latencySeconds?: number): void;
  fileBytes(direction: 'in' | 'out', bytes: number): void;
}

export type TransportName = 'native' | 'websocket' | 'irc';
export type RefusalReason = 'per_address' | 'rate' | 'server_full' | 'banned' | 'locked';
export type LoginResult = 'ok' | 'resumed' | 'bad_password' | 'locked_out' | 'banned' | 'refused';
export type MessageKind = 'room' | 'private' | 'broadcast';

function ignore(): void {}

export const noTelemetry: Telemetry = {
  connectionOpened: ignore,
  connectionClosed: ignore,
  connectionRefused: ignore,
  login: ignore,
  messageSent: ignore,
  fannedOut: ignore,
  commandFinished: ignore,
  storeCommitted: ignore,
  sendQueueDropped: ignore,
  floodRefused: ignore,
  busPublished: ignore,
  busReceived: ignore,
  fileBytes: ignore,
};
