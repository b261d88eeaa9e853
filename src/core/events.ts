import type { CommandInfo } from './catalog.js';

/**
 * Everything the server tells a client without being asked. Each event has a
 * server-assigned `id` (increasing for the life of the server process) and a `ts`
 * (milliseconds since the Unix epoch, when it happened). Events are immutable and shared
 * by all their recipients, so a transport may encode one once for every recipient.
 */
export type ChatEvent = EventOf<EventPayload>;

type EventOf<P> = P extends unknown ? Readonly<P & { id: number; ts: number }> : never;

/** How a replayed message reached you: history on join, or missed while you were away. */
export type Replay = 'history' | 'missed';

export type EventPayload =
  | {
      ev: 'hello';
      server: string;
      version: string;
      protocol: number;
      limits: Limits;
      commands: readonly CommandInfo[];
    }
  | {
      ev: 'message';
      mid: number;
      room: string;
      from: string;
      text: string;
      replay?: Replay;
    }
  | {
      ev: 'private';
      mid: number;
      from: string;
      to: readonly string[];
      text: string;
      replay?: Replay;
    }
  | { ev: 'online'; nick: string; account: boolean }
  | { ev: 'offline'; nick: string; reason: LeaveReason; message?: string }
  | { ev: 'renamed'; from: string; to: string }
  | { ev: 'notice'; text: string }
  | { ev: 'shutdown'; seconds: number; reason?: string }
  | { ev: 'ping' }
  | { ev: 'closing'; code: string; message: string };

export type LeaveReason = 'quit' | 'dropped' | 'kicked' | 'timeout' | 'shutdown' | 'replaced';

export type EventName = EventPayload['ev'];

export interface Limits {
  readonly frameMaxBytes: number;
  readonly messageMaxLength: number;
  readonly nickMaxLength: number;
}

/** Stamps payloads with ids and times; one per server process. */
export class EventFactory {
  private lastId = 0;

  constructor(private readonly now: () => number) {}

  make<P extends EventPayload>(
    payload: P,
    ts = this.now(),
  ): Readonly<P & { id: number; ts: number }> {
    return Object.freeze({ ...payload, id: ++this.lastId, ts }) as Readonly<
      P & { id: number; ts: number }
    >;
  }
}
