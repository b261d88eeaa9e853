import type { CommandInfo } from '../../src/protocol/index.js';
import type { ServerEvent } from '../../src/protocol/index.js';
import { applyEvent, eventText, mentions } from '../../src/client/tui/apply-event.js';
import { ChatState, LOBBY_WINDOW, roomWindowId } from '../../src/client/tui/chat-state.js';
import { downloadFile, saveBlob, uploadFile, type WebTransfer } from './files.js';
import {
  connectWebSocket,
  ConnectionClosedError,
  describe,
  RequestError,
  type CloseInfo,
  type ProtocolClient,
  type ReadyInfo,
} from './ws-client.js';
import { CommandInput } from './input.js';
import {
  FINAL_CLOSINGS,
  reconnectDelay,
  ResumePoint,
  type TokenStore,
} from '../../src/client/resume.js';
import type { CompletionSource } from '../../src/client/tui/line-editor.js';
import { nameKey } from '../../src/protocol/names.js';

/** A question the page asks in a dialog (a password, a confirmation, a reason). */
export interface Question {
  /** Each question its own dialog: nothing typed for one carries over to the next. */
  readonly id: number;
  readonly label: string;
  readonly mode: 'text' | 'secret' | 'confirm' | 'choice';
  /** For a typed confirmation: the word to type. */
  readonly confirmWord?: string;
  /** For a choice: what can be picked (the answer is the picked `value`). */
  readonly choices?: readonly Choice[];
  readonly answer: (value: string | boolean | undefined) => void;
}

export interface Choice {
  readonly value: string;
  readonly label: string;
  readonly detail: string;
}

export interface FileOffer {
  readonly file: string;
  readonly name: string;
  readonly size: number;
  readonly from: string;
  readonly shared: boolean;
}

type Phase = 'connecting' | 'login' | 'chat';

/** Resume tokens live for the tab only: never in a URL or localStorage. */
const TOKEN_KEY = 'confab.resume';
const NICK_KEY = 'confab.nick';
/** Quick retries: a page reconnects to the server that served it, usually on a LAN. */
const BACKOFF = { firstMs: 250, maxMs: 8000 };
/** The tab's resume token, in sessionStorage: it survives a reload, not the tab. */
const tabTokens: TokenStore = {
  get: () => sessionStorage.getItem(TOKEN_KEY) ?? undefined,
  set: (token) =>
    token === undefined
      ? sessionStorage.removeItem(TOKEN_KEY)
      : sessionStorage.setItem(TOKEN_KEY, token),
};
/** Names compare by the protocol's key (docs/protocol.md, "Nicknames and names"). */
const fold = nameKey;

/**
 * The browser client's session: one connection at a time, the login, resume after a
 * lost connection or a server restart (the screen is kept), and what people type turned
 * into requests through the shared parser and the server's catalogue. The window model
 * (`ChatState`, `applyEvent`) is the terminal client's own.
 */
export class WebSession {
  readonly state = new ChatState();
  phase: Phase = 'connecting';
  loginError: string | undefined;
  /** Set while the server asks whether to end the account's other session. */
  takeoverOffer: { nick: string; password: string } | undefined;
  question: Question | undefined;
  /** Online members of each room (by window id); the lobby holds everyone online. */
  readonly members = new Map<string, Map<string, string>>();
  readonly topics = new Map<string, string | null>();
  readonly owners = new Map<string, string | null>();
  /** Oldest message id shown per room window, for scrolling back; undefined: none older. */
  readonly oldest = new Map<string, number | undefined>();
  offers: FileOffer[] = [];
  transfers: WebTransfer[] = [];
  notifications = false;
  private client: ProtocolClient | undefined;
  /**
   * Kept in memory only (never in storage) to log in again after a server restart, as the
   * terminal client does; dropped at logout.
   */
  password: string | undefined;
  private nick: string | undefined;
  private readonly input = new CommandInput(this);
  /** Rooms joined besides the lobby, joined again after a fresh login. */
  private readonly rooms = new Set<string>();
  private attempt = 0;
  /** When the connection was lost: retries stay quick for the first minute after. */
  private lostAt = 0;
  /** The resume token and the last event id, kept across connections (shared library). */
  private readonly resumePoint = new ResumePoint(tabTokens);
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;

  constructor(private readonly url: string) {
    this.nick = sessionStorage.getItem(NICK_KEY) ?? undefined;
  }

  /** The open connection, if any. */
  get connection(): ProtocolClient | undefined {
    return this.client;
  }

  get me(): string | undefined {
    return this.nick;
  }

  set me(nick: string | undefined) {
    this.nick = nick;
    this.state.nick = nick;
  }

  rememberRoom(room: string): void {
    this.rooms.add(room);
  }

  /** A typed line: a message, a `/command`, or one of the page's own commands. */
  submit(line: string): Promise<void> {
    return this.input.submit(line);
  }

  /** Runs one request, showing own messages at once and the reply when it comes. */
  run(name: string, args: Record<string, unknown>): Promise<void> {
    return this.input.run(name, args);
  }

  /** `/menu`: pick a command from the server's catalogue, then answer what it needs. */
  menu(): Promise<void> {
    return this.input.menu();
  }

  /** What Tab completes in the message box: commands, rooms after `#`, nicknames. */
  completion(): CompletionSource {
    return this.input.completion();
  }

  get commands(): readonly CommandInfo[] {
    return this.client?.commands ?? [];
  }

  get isAdmin(): boolean {
    return this.state.role === 'admin';
  }

  get limits() {
    return this.client?.hello.limits;
  }

  changed(): void {
    this.state.changed();
  }

  /** First connection: resume the tab's session if it has one, else show the login. */
  async start(): Promise<void> {
    const client = await this.open();
    if (!client) return;
    if (this.resumePoint.token !== undefined && (await this.resume(client))) return;
    this.phase = 'login';
    this.changed();
  }

  async login(nick: string, password: string, takeover = false): Promise<void> {
    this.loginError = undefined;
    this.takeoverOffer = undefined;
    let client = this.client;
    if (!client || client.isClosed) client = await this.open();
    if (!client) {
      this.loginError = 'Cannot reach the server';
      return this.changed();
    }
    try {
      const data = await client.login(nick, password || undefined, { takeover });
      this.password = password || undefined;
      await this.ready(client, data, false);
    } catch (error) {
      if (error instanceof RequestError && error.code === 'already_logged_in' && password)
        this.takeoverOffer = { nick, password };
      else this.loginError = describe(error);
      this.changed();
    }
  }

  /** Leaves for good: `quit`, the token forgotten, back to the login form. */
  async quit(message?: string): Promise<void> {
    this.stopped = true;
    this.resumePoint.forget();
    await this.client?.quit(message);
    this.phase = 'login';
    this.rooms.clear();
    this.changed();
    this.stopped = false;
    void this.open();
  }

  private async open(): Promise<ProtocolClient | undefined> {
    this.state.connection = { kind: 'connecting' };
    this.changed();
    try {
      const client = await connectWebSocket(this.url);
      this.client = client;
      this.attempt = 0;
      this.resumePoint.follow(client);
      client.on('event', (event) => this.onEvent(event));
      client.on('close', (info) => this.onClose(client, info));
      this.state.server = client.hello.server;
      this.state.connection = { kind: 'connected' };
      this.changed();
      return client;
    } catch (error) {
      const code = error instanceof ConnectionClosedError ? error.code : undefined;
      this.scheduleReconnect(describe(error), code);
      return undefined;
    }
  }

  private async resume(client: ProtocolClient): Promise<boolean> {
    if (this.resumePoint.token === undefined) return false;
    this.state.connection = { kind: 'resuming' };
    this.changed();
    let refusal: RequestError;
    try {
      const outcome = await this.resumePoint.resume(client);
      if (outcome.kind === 'resumed') {
        await this.ready(client, outcome.ready, true);
        return true;
      }
      if (outcome.kind === 'none') return false;
      refusal = outcome.error;
    } catch (error) {
      this.resumePoint.forget();
      if (!(error instanceof RequestError)) return false;
      refusal = error;
    }
    // The server restarted (or the grace period passed): log in again, as the terminal
    // client does, with the nickname and any password this page still holds.
    if (this.nick && (this.password || this.state.role === 'guest') && this.phase === 'chat') {
      this.notice(`Could not resume (${refusal.message}): logging in again.`, 'info');
      try {
        await this.ready(client, await client.login(this.nick, this.password), false);
        return true;
      } catch (again) {
        this.loginError = describe(again);
      }
    }
    this.phase = 'login';
    this.changed();
    return false;
  }

  private async ready(client: ProtocolClient, data: ReadyInfo, resumed: boolean): Promise<void> {
    this.nick = data.nick;
    this.state.nick = data.nick;
    this.state.role = data.role;
    sessionStorage.setItem(NICK_KEY, data.nick);
    this.resumePoint.loggedIn(data);
    this.phase = 'chat';
    this.loginError = undefined;
    // A guest's rooms are joined again below: until then the page says it is resuming.
    const rejoin = !resumed && !data.account && this.rooms.size > 0;
    this.state.connection = { kind: rejoin ? 'resuming' : 'connected' };
    if (resumed) this.notice('Session resumed: missed messages follow.', 'info');
    // Failed logins since the last one: the server's `notice` right after this reply says
    // so (shown like the terminal's); `data.failedLogins` holds the same, not shown twice.
    this.changed();
    await this.refreshWho(client);
    // An account is back in its rooms by itself (`room_entered`, restored); a guest asks,
    // and brings back a guest room that a server restart ended.
    // The window on screen stays on screen: a rejoined room does not come to the front.
    if (rejoin) {
      for (const room of [...this.rooms]) await this.joinOrCreate(room, true);
      if (this.client === client) this.state.connection = { kind: 'connected' };
      this.changed();
    }
  }

  private async refreshWho(client: ProtocolClient): Promise<void> {
    const who = await client
      .request<{ users: { nick: string }[] }>('who')
      .catch(() => ({ users: [] }));
    const lobby = new Map(who.users.map((user) => [fold(user.nick), user.nick]));
    this.members.set(LOBBY_WINDOW, lobby);
    for (const user of who.users) this.state.nicks.add(user.nick);
    this.changed();
  }

  private async refreshMembers(room: string): Promise<void> {
    const data = await this.client
      ?.request<{ owner: string | null; members: { nick: string; online: boolean }[] }>('members', {
        room,
      })
      .catch(() => undefined);
    if (!data) return;
    const id = roomWindowId(room);
    this.owners.set(id, data.owner);
    this.members.set(
      id,
      new Map(data.members.filter((m) => m.online).map((m) => [fold(m.nick), m.nick])),
    );
    const topic = await this.client
      ?.request<{ topic: string | null }>('topic', { room })
      .catch(() => undefined);
    if (topic) this.topics.set(id, topic.topic);
    this.changed();
  }

  /**
   * Messages on screen, by room or private + `mid`: a replay after a resume, a server
   * restart or a rejoin can hold messages already shown live (docs/protocol.md, "Missed
   * messages"); each is shown once. Bounded: the oldest keys go first.
   */
  private readonly shown = new Set<string>();

  /** Records a message as shown; false when it already was. */
  markShown(key: string): boolean {
    if (this.shown.has(key)) return false;
    this.shown.add(key);
    if (this.shown.size > 20_000) this.shown.delete(this.shown.values().next().value!);
    return true;
  }

  private onEvent(event: ServerEvent): void {
    if (event.ev === 'message' && !this.markShown(messageKey(event.room, event.mid))) return;
    if (event.ev === 'private' && !this.markShown(privateKey(event.mid))) return;
    // A room joined again by the page itself stays in the list, not in front.
    const keep =
      event.ev === 'room_entered' && this.quietRooms.delete(fold(event.room))
        ? this.state.current
        : undefined;
    applyEvent(this.state, event);
    if (keep !== undefined && this.state.findWindow(keep)) this.state.switchTo(keep);
    this.track(event);
    this.notify(event);
    this.updateTitle();
    this.changed();
  }

  /** What the terminal's model leaves out and a page shows: members, topics, files. */
  private track(event: ServerEvent): void {
    const lobby = this.members.get(LOBBY_WINDOW);
    switch (event.ev) {
      case 'message':
        if (!this.oldest.has(roomWindowId(event.room)) || event.replay === 'history')
          this.setOldest(roomWindowId(event.room), event.mid);
        return;
      case 'online':
        lobby?.set(fold(event.nick), event.nick);
        return;
      case 'offline':
        for (const members of this.members.values()) members.delete(fold(event.nick));
        return;
      case 'renamed':
        for (const members of this.members.values())
          if (members.delete(fold(event.from))) members.set(fold(event.to), event.to);
        return;
      case 'room_entered': {
        this.rooms.add(event.room);
        void this.refreshMembers(event.room);
        // A reloaded page learns its rooms again: show their recent past too.
        const window = this.state.findWindow(roomWindowId(event.room));
        if (event.restored && window && !window.lines.some((line) => line.kind === 'chat'))
          void this.loadOlder(window.id);
        return;
      }
      case 'room_left':
      case 'room_closed':
        for (const room of [...this.rooms])
          if (fold(room) === fold(event.room)) this.rooms.delete(room);
        this.members.delete(roomWindowId(event.room));
        return;
      case 'room_join':
        this.members.get(roomWindowId(event.room))?.set(fold(event.nick), event.nick);
        return;
      case 'room_leave':
        this.members.get(roomWindowId(event.room))?.delete(fold(event.nick));
        return;
      case 'room_topic':
        this.topics.set(roomWindowId(event.room), event.topic);
        return;
      case 'file':
        this.offers = [
          ...this.offers.filter((offer) => offer.file !== event.file),
          { file: event.file, name: event.name, size: event.size, from: event.from, shared: false },
        ];
        return;
      case 'shared':
        this.offers = [
          ...this.offers.filter((offer) => offer.file !== event.file),
          { file: event.file, name: event.name, size: event.size, from: event.from, shared: true },
        ];
        return;
      case 'filegone':
        this.offers = this.offers.filter((offer) => offer.file !== event.file);
        return;
      default:
        return;
    }
  }

  private setOldest(id: string, mid: number): void {
    const current = this.oldest.get(id);
    if (current === undefined || mid < current) this.oldest.set(id, mid);
  }

  /** Scrolls a room back: the messages before the oldest one shown. */
  async loadOlder(id = this.state.current): Promise<boolean> {
    const window = this.state.findWindow(id);
    if (window?.kind !== 'room' || !this.client) return false;
    const before = this.oldest.get(window.id);
    if (before === undefined && this.oldest.has(window.id)) return false;
    const data = await this.client
      .request<{
        messages: { mid: number; ts: number; from: string; text: string }[];
        more: boolean;
      }>('history', { room: window.name, count: 50, ...(before !== undefined && { before }) })
      .catch(() => undefined);
    if (!data) return false;
    this.state.prependChat(
      window,
      data.messages
        .filter((message) => this.markShown(messageKey(window.name, message.mid)))
        .map((message) => ({
          ts: message.ts,
          from: message.from,
          text: message.text,
          own: this.nick !== undefined && fold(message.from) === fold(this.nick),
          delivery: 'received' as const,
          replay: 'history' as const,
          mention: mentions(message.text, this.nick),
        })),
    );
    const oldest = data.messages[0]?.mid;
    this.oldest.set(window.id, data.more && oldest !== undefined ? oldest : undefined);
    if (!data.more) this.oldest.set(window.id, undefined);
    this.changed();
    return data.more;
  }

  private notify(event: ServerEvent): void {
    if (!this.notifications || !document.hidden || !('Notification' in window)) return;
    if ('replay' in event && event.replay) return;
    let body: string | undefined;
    if (event.ev === 'private' && this.nick && fold(event.from) !== fold(this.nick))
      body = `${event.from}: ${event.text}`;
    else if (
      event.ev === 'message' &&
      this.nick &&
      fold(event.from) !== fold(this.nick) &&
      mentions(event.text, this.nick)
    )
      body = `${event.from} in ${event.room}: ${event.text}`;
    if (body) new Notification('Confab', { body, tag: 'confab' });
  }

  async enableNotifications(): Promise<void> {
    if (!('Notification' in window))
      return this.notice('This browser has no notifications', 'error');
    const permission = await Notification.requestPermission();
    this.notifications = permission === 'granted';
    this.notice(
      this.notifications
        ? 'Notifications on for mentions and private messages'
        : 'Notifications were not allowed',
      'info',
    );
  }

  updateTitle(): void {
    const unread = this.state.windows.reduce((sum, window) => sum + window.unread, 0);
    document.title = unread > 0 ? `(${unread}) Confab` : 'Confab';
  }

  switchTo(id: string): void {
    this.state.switchTo(id);
    this.updateTitle();
    this.changed();
  }

  openPrivate(nick: string): void {
    this.switchTo(this.state.ensureWindow('private', nick, [nick]).id);
  }

  closeWindow(id: string): void {
    const window = this.state.findWindow(id);
    if (!window) return;
    if (window.kind === 'private') {
      this.state.closeWindow(id);
      this.changed();
    } else void this.submit(`/leave ${window.name}`);
  }

  notice(text: string, level: 'info' | 'error'): void {
    this.state.addNotice(undefined, text, level);
    this.changed();
  }

  private questionsAsked = 0;

  ask(question: Omit<Question, 'answer' | 'id'>): Promise<string | boolean | undefined> {
    return new Promise((resolve) => {
      this.question = {
        ...question,
        id: ++this.questionsAsked,
        answer: (value) => {
          this.question = undefined;
          this.changed();
          resolve(value);
        },
      };
      this.changed();
    });
  }

  /**
   * The sidebar's room field, and rejoining after a fresh login: join the room, or create
   * it when there is none (someone else may create it at the same moment: then join).
   */
  async joinOrCreate(room: string, quietly = false): Promise<void> {
    const client = this.client;
    if (!client) return;
    if (quietly) this.quietRooms.add(fold(room));
    try {
      await this.joinOrCreateOn(client, room, quietly);
    } finally {
      // Its `room_entered` (sent after the reply) has been applied by now, or never comes.
      setTimeout(() => this.quietRooms.delete(fold(room)), 5000);
    }
  }

  /** Rooms the page is joining again by itself (folded names). */
  private readonly quietRooms = new Set<string>();

  private async joinOrCreateOn(
    client: ProtocolClient,
    room: string,
    quietly: boolean,
  ): Promise<void> {
    for (const cmd of ['join', 'create', 'join']) {
      try {
        await client.request(cmd, { room });
        this.rooms.add(room);
        if (!quietly) this.switchTo(roomWindowId(room));
        return;
      } catch (error) {
        if (error instanceof RequestError && error.code === 'already_in_room')
          return quietly ? undefined : this.switchTo(roomWindowId(room));
        const retry =
          error instanceof RequestError &&
          ((cmd === 'join' && error.code === 'unknown_room') ||
            (cmd === 'create' && error.code === 'room_exists'));
        if (!retry) return this.notice(`Could not join ${room}: ${describe(error)}`, 'error');
      }
    }
  }

  /** Sends a picked or dropped file: to `to`, or to the shared area. */
  async sendFile(file: File, to: string | undefined): Promise<void> {
    const client = this.client;
    if (!client) return;
    const max = client.hello.limits.fileMaxBytes;
    if (max !== undefined && file.size > max)
      return this.notice(`${file.name} is larger than the server takes (${max} bytes)`, 'error');
    try {
      const result = await uploadFile(client, file, to, (transfer) => this.progress(transfer));
      this.notice(
        `Sent ${result.name} (${result.size} bytes) ${to ? `to ${to}` : 'to the shared area'}; SHA-256 ${result.sha256}`,
        'info',
      );
    } catch (error) {
      this.notice(`${file.name}: ${describe(error)}`, 'error');
    } finally {
      this.endTransfer(file.name);
    }
  }

  async fetchOffer(offer: FileOffer): Promise<void> {
    const client = this.client;
    if (!client) return;
    try {
      const result = await downloadFile(
        client,
        offer.shared ? { file: offer.file } : { from: offer.from, file: offer.file },
        (transfer) => this.progress(transfer),
      );
      if (!offer.shared) this.offers = this.offers.filter((o) => o.file !== offer.file);
      saveBlob(result.name, result.blob);
      this.notice(`Downloaded ${result.name}: SHA-256 ${result.sha256} checked`, 'info');
    } catch (error) {
      this.notice(`${offer.name}: ${describe(error)}`, 'error');
    } finally {
      this.endTransfer(offer.name);
    }
  }

  async declineOffer(offer: FileOffer): Promise<void> {
    await this.run('decline', { from: offer.from, file: offer.file });
    this.offers = this.offers.filter((o) => o.file !== offer.file);
    this.changed();
  }

  private progress(transfer: WebTransfer): void {
    this.transfers = [...this.transfers.filter((t) => t.id !== transfer.id), { ...transfer }];
    this.changed();
  }

  private endTransfer(name: string): void {
    this.transfers = this.transfers.filter((t) => t.name !== name);
    this.changed();
  }

  private onClose(client: ProtocolClient, info: CloseInfo): void {
    if (client !== this.client) return;
    this.client = undefined;
    if (this.stopped || info.byClient) return;
    // Told to go: say why and do not come back by ourselves.
    if (info.code && FINAL_CLOSINGS.has(info.code)) {
      this.resumePoint.forget();
      this.phase = 'login';
      this.loginError = info.message;
      this.notice(info.message, 'error');
      void this.open();
      return;
    }
    this.state.addNotice(undefined, `Connection lost (${info.message}): reconnecting…`, 'error');
    this.scheduleReconnect(info.message, info.code);
  }

  private scheduleReconnect(reason: string, code?: string): void {
    if (this.stopped) return;
    clearTimeout(this.reconnectTimer);
    if (this.attempt === 0) this.lostAt = Date.now();
    // Jitter spreads out many pages coming back after a server restart.
    const delay = Math.round(
      reconnectDelay(this.attempt, Date.now() - this.lostAt, BACKOFF) * (0.8 + Math.random() * 0.4),
    );
    this.attempt++;
    this.state.connection = {
      kind: 'reconnecting',
      attempt: this.attempt,
      inSeconds: Math.ceil(delay / 1000),
    };
    if (code) this.loginError = reason;
    this.changed();
    this.reconnectTimer = setTimeout(() => void this.reconnect(), delay);
  }

  async reconnect(): Promise<void> {
    const client = await this.open();
    if (!client) return;
    if (this.phase === 'chat' && (await this.resume(client))) return;
    if (this.phase !== 'chat') this.phase = 'login';
    this.changed();
  }
}

/** A room message's key for showing it once (a room's `mid`s are its own). */
export function messageKey(room: string, mid: number): string {
  return `${roomWindowId(room)}:${mid}`;
}

export function privateKey(mid: number): string {
  return `pm:${mid}`;
}

export function eventLine(event: ServerEvent): string {
  return eventText(event) ?? '';
}
