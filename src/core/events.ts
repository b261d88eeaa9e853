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
  | {
      /** You are now in a room: after `/join` or `/create`, or restored at login. */
      ev: 'room_entered';
      room: string;
      owner: string | null;
      topic: string | null;
      restored: boolean;
    }
  /** You are no longer in a room: you left it, or it was closed. */
  | { ev: 'room_left'; room: string; reason: 'left' | 'closed' }
  /** Someone joined a room you are in. */
  | { ev: 'room_join'; room: string; nick: string }
  /** Someone left a room you are in (logging out is not leaving: see `offline`). */
  | { ev: 'room_leave'; room: string; nick: string }
  /** A room you were in was closed; you are back in the lobby. */
  | { ev: 'room_closed'; room: string; by: string }
  | { ev: 'room_topic'; room: string; topic: string | null; by: string }
  | { ev: 'notice'; text: string; from?: string }
  | { ev: 'shutdown'; seconds: number; reason?: string }
  | { ev: 'shutdown_cancelled'; by: string }
  | { ev: 'suspension'; nick: string; suspended: boolean; by: string }
  /** An admin warned you; `warnings` counts yours within the escalation window. */
  | { ev: 'warning'; reason: string; by: string; warnings: number }
  | { ev: 'monitor'; on: boolean; by?: string }
  | { ev: 'monitored'; mid: number; from: string; to: readonly string[]; text: string }
  | { ev: 'ping' }
  | { ev: 'closing'; code: string; message: string }
  | FileEventPayload;

/** File transfer events (see docs/protocol.md, "File transfer"). */
export type FileEventPayload =
  /** A file waits for you. */
  | {
      ev: 'file';
      file: string;
      from: string;
      name: string;
      size: number;
      expiresAt: number;
      replay?: Replay;
    }
  /** Someone put a file in the shared area. */
  | { ev: 'shared'; file: string; from: string; name: string; size: number }
  /** A file left the server: told to its sender (declined, expired, fetched) or, for a
   * shared file, to everyone (deleted, expired). */
  | {
      ev: 'filegone';
      file: string;
      name: string;
      reason: 'declined' | 'expired' | 'fetched' | 'deleted';
      by?: string;
      shared: boolean;
      replay?: Replay;
    }
  /** One chunk of a download; `data` is base64. */
  | { ev: 'filedata'; transfer: string; offset: number; data: string }
  /** The server gave up on a transfer of yours. */
  | { ev: 'fileabort'; transfer: string; code: string; message: string };

export type LeaveReason =
  'quit' | 'dropped' | 'kicked' | 'banned' | 'timeout' | 'shutdown' | 'replaced';

export type EventName = EventPayload['ev'];

export interface Limits {
  readonly frameMaxBytes: number;
  readonly messageMaxLength: number;
  readonly nickMaxLength: number;
  /** `files.maxBytes` when the client connected: a client can refuse a larger file early. */
  readonly fileMaxBytes: number;
}

/** Stamps payloads with ids and times; one per server process. */
export class EventFactory {
  private lastId = 0;

  constructor(private readonly now: () => number) {}

  make<P extends EventPayload>(
    payload: P,
    ts = this.now(),
  ): Readonly<P & { id: number; ts: number }> {
    // Readonly by type, not frozen: freezing every event costs more than encoding it.
    return { ...payload, id: ++this.lastId, ts };
  }
}
