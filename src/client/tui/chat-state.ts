import type { Replay } from '../../protocol/events.js';
import type { TransferProgress } from './progress.js';
import { nameKey } from '../../protocol/names.js';

/** One line in a window: a chat message, or a notice set apart from chat. */
export type ChatLine =
  | {
      readonly kind: 'chat';
      readonly key: number;
      readonly ts: number;
      readonly from: string;
      readonly text: string;
      readonly own: boolean;
      /** Own messages: shown at once as `sending`, `sent` when the server acknowledged. */
      readonly delivery: 'sending' | 'sent' | 'failed' | 'received';
      readonly replay: Replay | undefined;
      /** Someone else's message naming you. */
      readonly mention: boolean;
      /** For private conversations with several people: who it went to. */
      readonly to?: readonly string[];
    }
  | {
      readonly kind: 'notice';
      readonly key: number;
      readonly ts: number;
      readonly text: string;
      /**
       * Each has its own look: `event`, joins, leaves and the like; `announce`, an admin's
       * announcement, a shutdown, a warning or a change of monitoring; `notice`, the server's
       * own notices (unread counts, failed logins); `file`, offers and fates of files;
       * `info`, replies to your commands; `error`, something went wrong.
       */
      readonly level: NoticeLevel;
      /** A row of the same reply as the line before: shown without its own time. */
      readonly continued?: boolean;
    };

export type NoticeLevel = 'event' | 'announce' | 'notice' | 'file' | 'info' | 'error';

export type WindowKind = 'room' | 'private';

export interface ChatWindow {
  /** `#room` or `@nick[,nick…]` (sorted, case-folded for private conversations). */
  readonly id: string;
  /** A room's topic, shown in the bar above its messages (null: none set). */
  topic?: string | null;
  /**
   * A room's members as the server last listed them, kept up to date by joins and leaves;
   * undefined until asked for (the member list asks when it is shown).
   */
  members?: string[];
  readonly kind: WindowKind;
  /** The room name, or the other people in a private conversation. */
  readonly name: string;
  readonly participants: readonly string[];
  lines: ChatLine[];
  unread: number;
  mentioned: boolean;
}

export type ConnectionState =
  | { readonly kind: 'connecting' }
  | { readonly kind: 'connected' }
  | { readonly kind: 'reconnecting'; readonly attempt: number; readonly inSeconds: number }
  | { readonly kind: 'resuming' }
  | { readonly kind: 'offline'; readonly reason: string };

export interface PromptState {
  readonly label: string;
  /**
   * `secret`: typed text is masked; `confirm`: a destructive question, answered by typing
   * the word `yes` and Enter (a stray key or a paste never confirms by accident).
   */
  readonly mode: 'text' | 'secret' | 'confirm';
  /** Shown whole above the input line, wrapped (a long question is never cut off). */
  readonly question?: string;
  readonly initial?: string;
}

const SCROLLBACK = 2000;
export const LOBBY_WINDOW = '#lobby';

export function roomWindowId(room: string): string {
  return `#${nameKey(room)}`;
}

export function privateWindowId(people: readonly string[]): string {
  const keys = [...new Set(people.map((nick) => nameKey(nick)))].sort();
  return `@${keys.join(',')}`;
}

/**
 * How a window is named on screen: `#dev`, `@bob`, and a conversation with several people
 * by its first person and how many more (`@bob+2`), so the window list stays short.
 */
export function windowLabel(window: Pick<ChatWindow, 'id' | 'kind' | 'participants'>): string {
  if (window.kind === 'room' || window.participants.length <= 1) return window.id;
  const [first] = [...window.participants].sort((a, b) => a.localeCompare(b));
  return `@${first}+${window.participants.length - 1}`;
}

/**
 * Everything the full-screen client shows, in one mutable object with change
 * notification: the controller changes it, the React view subscribes to it.
 */
export class ChatState {
  server = '';
  nick: string | undefined;
  role = 'guest';
  connection: ConnectionState = { kind: 'connecting' };
  windows: ChatWindow[] = [];
  current = LOBBY_WINDOW;
  /** Rows scrolled up from the bottom of the current window (0: following new lines). */
  scroll = 0;
  prompt: PromptState | undefined;
  /** Whether the terminal reports the mouse (the wheel scrolls); `/mouse` toggles it. */
  mouse = true;
  /** The member list beside the messages (`/nicklist`, Alt+N). */
  showMembers = false;
  transfers: TransferProgress[] = [];
  /** People known to be online, for completion. */
  readonly nicks = new Set<string>();
  private nextKey = 1;
  private version = 0;
  private readonly listeners = new Set<() => void>();

  constructor() {
    this.ensureWindow('room', 'lobby', []);
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getVersion = (): number => this.version;

  changed(): void {
    this.version += 1;
    for (const listener of this.listeners) listener();
  }

  get currentWindow(): ChatWindow {
    return this.windows.find((window) => window.id === this.current) ?? this.windows[0]!;
  }

  findWindow(id: string): ChatWindow | undefined {
    return this.windows.find((window) => window.id === id);
  }

  ensureWindow(kind: WindowKind, name: string, participants: readonly string[]): ChatWindow {
    const id = kind === 'room' ? roomWindowId(name) : privateWindowId(participants);
    const existing = this.findWindow(id);
    if (existing) return existing;
    const window: ChatWindow = {
      id,
      kind,
      name,
      participants,
      lines: [],
      unread: 0,
      mentioned: false,
    };
    this.windows.push(window);
    return window;
  }

  closeWindow(id: string): void {
    if (id === LOBBY_WINDOW) return;
    this.windows = this.windows.filter((window) => window.id !== id);
    if (this.current === id) this.switchTo(LOBBY_WINDOW);
  }

  switchTo(id: string): boolean {
    const window = this.findWindow(id);
    if (!window) return false;
    this.current = id;
    this.scroll = 0;
    window.unread = 0;
    window.mentioned = false;
    return true;
  }

  /** Ctrl+N / Ctrl+P and Alt+digit move between windows by position. */
  switchBy(offset: number): void {
    const index = this.windows.findIndex((window) => window.id === this.current);
    const next = (index + offset + this.windows.length) % this.windows.length;
    this.switchTo(this.windows[next]!.id);
  }

  switchToNumber(number: number): boolean {
    const window = this.windows[number - 1];
    return window ? this.switchTo(window.id) : false;
  }

  /** Adds a chat line; it counts as unread unless its window is on screen. */
  addChat(
    window: ChatWindow,
    line: Omit<Extract<ChatLine, { kind: 'chat' }>, 'key' | 'kind'>,
  ): number {
    const key = this.nextKey++;
    this.push(window, { kind: 'chat', key, ...line });
    if (window.id !== this.current && !line.own) {
      window.unread += 1;
      if (line.mention) window.mentioned = true;
    }
    return key;
  }

  /** Older messages fetched while scrolling back (the browser client), oldest first. */
  prependChat(
    window: ChatWindow,
    lines: readonly Omit<Extract<ChatLine, { kind: 'chat' }>, 'key' | 'kind'>[],
  ): void {
    const older: ChatLine[] = lines.map((line) => ({ kind: 'chat', key: this.nextKey++, ...line }));
    window.lines.unshift(...older);
    if (window.lines.length > SCROLLBACK) window.lines.length = SCROLLBACK;
  }

  addNotice(
    window: ChatWindow | undefined,
    text: string,
    level: NoticeLevel,
    ts = Date.now(),
    continued = false,
  ): void {
    this.push(window ?? this.currentWindow, {
      kind: 'notice',
      key: this.nextKey++,
      ts,
      text,
      level,
      ...(continued && { continued }),
    });
  }

  /**
   * A reply of several rows (`/help`, `/who`): its first row carries the time, the rest
   * line up under it without one.
   */
  addBlock(rows: readonly string[], level: NoticeLevel = 'info'): void {
    const ts = Date.now();
    rows.forEach((row, index) => this.addNotice(undefined, row, level, ts, index > 0));
  }

  /** Marks an own message as acknowledged (or failed) by its line key. */
  setDelivery(key: number, delivery: 'sent' | 'failed'): void {
    for (const window of this.windows) {
      const index = window.lines.findIndex((line) => line.key === key);
      const line = window.lines[index];
      if (line?.kind === 'chat') {
        window.lines[index] = { ...line, delivery };
        return;
      }
    }
  }

  scrollBy(rows: number, maxScroll: number): void {
    this.scroll = Math.max(0, Math.min(maxScroll, this.scroll + rows));
  }

  setTransfer(progress: TransferProgress): void {
    const others = this.transfers.filter((transfer) => transfer.id !== progress.id);
    this.transfers = [...others, progress];
  }

  endTransfer(id: string): void {
    this.transfers = this.transfers.filter((transfer) => transfer.id !== id);
  }

  private push(window: ChatWindow, line: ChatLine): void {
    window.lines.push(line);
    if (window.lines.length > SCROLLBACK) window.lines.splice(0, window.lines.length - SCROLLBACK);
    // Someone reading back keeps their place while new lines arrive below.
    if (window.id === this.current && this.scroll > 0) this.scroll += 1;
  }
}
