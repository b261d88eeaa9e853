import type { ClosingCode } from './closing.js';

/**
 * Everything a session is told without asking: its event stream. Each event has a
 * server-assigned `id` (unique among the events of the node that published it, since it
 * started; compared only for equality, as `resume`'s `lastEventId`) and a `ts`
 * (milliseconds since the Unix epoch, when it happened). Events are immutable and shared
 * by all their recipients, so a transport may encode one once for every recipient.
 */
export type ChatEvent = EventOf<EventPayload>;

/**
 * Frames about the connection itself rather than the session: the greeting, keepalives and
 * the reason for a close. Each protocol (native, WebSocket, IRC) has its own; they carry a
 * `ts` but no `id`, are never stored for a resume, and never replayed.
 */
export type ConnectionEvent = HelloEvent | PingEvent | ClosingEvent;

/** Everything a native-protocol client reads that is not a reply. */
export type ServerEvent = ChatEvent | ConnectionEvent;

/** Optional features a server may offer; a client asks for the ones it uses (see `hello`). */
export const CAPABILITIES = {
  /** File transfer through the server (`send`, `upload`, `get`, ...). */
  files: 'file transfer through the server',
  /** Session resume after a lost connection (`resume`; off when `resume.graceSeconds` is 0). */
  resume: 'session resume after a lost connection',
} as const;
export type Capability = keyof typeof CAPABILITIES;

/** The greeting, the first frame on every native connection. Kept under 1 KiB. */
export interface HelloEvent {
  readonly ev: 'hello';
  readonly ts: number;
  readonly server: string;
  readonly version: string;
  /** The protocol version in force until the client picks another with `hello`. */
  readonly protocol: number;
  /** Every protocol version this server speaks. */
  readonly protocols: readonly number[];
  /** Optional features this server offers on this connection. */
  readonly capabilities: readonly Capability[];
  readonly limits: Limits;
  /**
   * The command catalogue's hash: a client that has a catalogue with this hash cached uses
   * it; otherwise it asks with `catalogue`.
   */
  readonly catalogue: string;
}

export interface PingEvent {
  readonly ev: 'ping';
  readonly ts: number;
}

export interface ClosingEvent {
  readonly ev: 'closing';
  readonly ts: number;
  readonly code: ClosingCode;
  readonly message: string;
}

type EventOf<P> = P extends unknown ? Readonly<P & { id: number; ts: number }> : never;

/** How a replayed message reached you: history on join, or missed while you were away. */
export type Replay = 'history' | 'missed';

export type EventPayload =
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
  /** Someone set an away message (`/away TEXT`), or cleared it (`message: null`). */
  | { ev: 'away'; nick: string; message: string | null }
  /** A guest registered the nickname (`account`: its name), or deleted the account (null). */
  | { ev: 'account'; nick: string; account: string | null }
  | {
      /** You are now in a room: after `/join` or `/create`, or restored at login. */
      ev: 'room_entered';
      room: string;
      owner: string | null;
      topic: string | null;
      restored: boolean;
    }
  /** You are no longer in a room: you left it, it was closed, or `by` removed you. */
  | {
      ev: 'room_left';
      room: string;
      reason: 'left' | 'closed' | 'removed';
      by?: string;
      message?: string;
    }
  /** Someone joined a room you are in. */
  | { ev: 'room_join'; room: string; nick: string }
  /**
   * Someone left a room you are in (logging out is not leaving: see `offline`); with `by`,
   * they were removed by the room's owner or an admin.
   */
  | { ev: 'room_leave'; room: string; nick: string; by?: string; reason?: string }
  /** A room you were in was closed; you are back in the lobby. */
  | { ev: 'room_closed'; room: string; by: string }
  | { ev: 'room_topic'; room: string; topic: string | null; by: string }
  | { ev: 'notice'; text: string; from?: string }
  | { ev: 'shutdown'; seconds: number; reason?: string }
  | { ev: 'shutdown_cancelled'; by: string }
  | { ev: 'suspension'; nick: string; suspended: boolean; by: string }
  /** An admin warned you; `warnings` counts yours within the escalation window. */
  | { ev: 'warning'; reason: string; by: string; warnings: number }
  /**
   * Who else may read private messages: `admins` (the `/monitor` switch; the default when
   * absent) or `log` (`logs.privateMessages` writes them to the server's message log).
   */
  | { ev: 'monitor'; on: boolean; by?: string; what?: 'admins' | 'log' }
  | { ev: 'monitored'; mid: number; from: string; to: readonly string[]; text: string }
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
  /** The largest frame a client may send, in bytes (without the LF). */
  readonly frameMaxBytes: number;
  /** The largest frame this server sends, in bytes (without the LF). */
  readonly serverFrameMaxBytes: number;
  readonly messageMaxLength: number;
  readonly nickMaxLength: number;
  /** `files.maxBytes` when the client connected: a client can refuse a larger file early. */
  readonly fileMaxBytes: number;
}
