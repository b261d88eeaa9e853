import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'vitest';
import { RequestError, type ChatClient } from '../../src/client/client.js';
import type { ServerEvent } from '../../src/protocol/events.js';
import { nameKey } from '../../src/core/names.js';
import type { Reply } from '../../src/protocol/frames.js';
import { startTestServer, TEST_ADMIN_PASSWORD, type TestServer } from '../helpers/server.js';
import { VirtualClock } from '../helpers/virtual-clock.js';
import type { Model } from './steps.js';

/** The guests the model plays with; `admin` is there too, always online. */
export const NICKS = ['ann', 'ben', 'cat', 'dan'] as const;
export type Nick = (typeof NICKS)[number];
export const ADMIN = 'admin';

/** The room every model player may join; the admin creates it and stays in it. */
export const ROOM = 'den';

/**
 * How long a dropped session waits to be resumed. Time is virtual (see `VirtualClock`):
 * it moves only in the model's `tick` steps, so the grace period ends exactly when the
 * model says, and never while a step is running however slow the machine.
 */
export const GRACE_SECONDS = 10;
export const GRACE_MS = GRACE_SECONDS * 1000;

/** A message as a recipient should see it (`room` for room messages only). */
export interface Delivery {
  readonly ev: 'message' | 'private';
  readonly mid: number;
  readonly from: string;
  readonly text: string;
  readonly room?: string;
}

export type Outcome =
  | { readonly ok: true; readonly data: Record<string, unknown> }
  | { readonly ok: false; readonly code: string };

/** The data of a successful outcome (fails the test otherwise). */
export function dataOf<T>(outcome: Outcome): T {
  if (!outcome.ok) throw new Error(`expected success, got ${outcome.code}`);
  return outcome.data as T;
}

async function outcomeOf(pending: Promise<object>): Promise<Outcome> {
  try {
    return { ok: true, data: { ...(await pending) } };
  } catch (error) {
    if (error instanceof RequestError) return { ok: false, code: error.code };
    throw error;
  }
}

/** What a successful `nick` or `resume` replies (the fields the model looks at). */
export interface Ready {
  readonly nick: string;
  readonly session: string;
  readonly role: string;
  readonly resumeToken: string;
  readonly resumed?: boolean;
}

/** One connection: the requests sent on it and the replies they got. */
export class Connection {
  private sent = 0;
  private readonly replies = new Map<number | null, number>();
  /** Requests the client library sent by itself before this (the catalogue). */
  private readonly before: number;

  constructor(readonly client: ChatClient) {
    this.before = client.requestsSent;
    client.on('reply', (reply: Reply) =>
      this.replies.set(reply.re, (this.replies.get(reply.re) ?? 0) + 1),
    );
  }

  /** Sends a request; resolves with its data or its error code. */
  request(cmd: string, args: object = {}): Promise<Outcome> {
    this.sent++;
    return outcomeOf(this.client.request(cmd, args));
  }

  /** The nickname step. */
  login(nick: string, password?: string): Promise<Outcome> {
    this.sent++;
    return outcomeOf(this.client.login(nick, password));
  }

  resume(token: string, lastEventId: number | undefined): Promise<Outcome> {
    this.sent++;
    return outcomeOf(this.client.resume(token, lastEventId));
  }

  /** Every request so far got exactly one reply (ids count on from the library's own). */
  checkReplies(label: string): void {
    const counts = [...this.replies.entries()].sort(([a], [b]) => Number(a) - Number(b));
    expect(counts, `${label}: replies per request id`).toEqual(
      Array.from({ length: this.sent }, (_, i) => [this.before + i + 1, 1]),
    );
  }
}

/**
 * One session: the connection it has now and what it has seen on all of its connections.
 * A session outlives a dropped connection (it is away, waiting to be resumed); a resume
 * gives it a new connection and it goes on.
 */
export class Player {
  readonly received: Delivery[] = [];
  readonly expected: Delivery[] = [];
  /** Messages replayed to this player (history on joining a room). */
  readonly replayed: Delivery[] = [];
  /** Ids of the session's events (not hello, ping, closing), in the order they came. */
  readonly eventIds: number[] = [];
  /** The newest of them: what a resume continues after. */
  lastEventId: number | undefined;
  sessionId: string | undefined;

  constructor(
    readonly nick: string,
    public conn: Connection,
  ) {
    this.listen(conn.client);
  }

  get client(): ChatClient {
    return this.conn.client;
  }

  /** Records what arrives on `client` as this session's (set up before it logs in or resumes). */
  listen(client: ChatClient): void {
    client.on('event', (event: ServerEvent) => {
      if (event.ev === 'hello' || event.ev === 'ping' || event.ev === 'closing') return;
      this.eventIds.push(event.id);
      this.lastEventId = Math.max(this.lastEventId ?? 0, event.id);
      if (event.ev !== 'message' && event.ev !== 'private') return;
      const { mid, from, text } = event;
      const delivery: Delivery =
        event.ev === 'message'
          ? { ev: 'message', mid, from, text, room: event.room }
          : { ev: 'private', mid, from, text };
      (event.replay === undefined ? this.received : this.replayed).push(delivery);
    });
  }

  request(cmd: string, args: object = {}): Promise<Outcome> {
    return this.conn.request(cmd, args);
  }
}

/**
 * The real side of the model-based test: one server, the admin, and the guests' sessions
 * (connected or away). The model's expectations (who should receive what, what the admin
 * should see come and go) are recorded here as steps run, and `check` compares them with
 * what really arrived.
 */
export class World {
  /** Sessions that exist, connected or away, by nickname (the admin's included). */
  readonly players = new Map<string, Player>();
  /** Every resume token each nickname's sessions were given, oldest first. */
  readonly tokens = new Map<string, string[]>();
  /** `online` and `offline` events as the admin saw them, and as the model says. */
  readonly presenceSeen: string[] = [];
  readonly presenceExpected: string[] = [];
  admin!: Player;
  /** How many times the invariants were checked (so a run that did nothing shows). */
  checks = 0;
  /** How many away sessions were resumed. */
  resumed = 0;

  private constructor(
    readonly server: TestServer,
    readonly clock: VirtualClock,
  ) {}

  static async create(): Promise<World> {
    const clock = new VirtualClock();
    const server = await startTestServer({
      clock,
      set: {
        'flood.burst': 100_000,
        'flood.perSecond': 100_000,
        connectionsPerMinutePerIp: 100_000,
        maxConnectionsPerIp: 1000,
        // A dropped socket leaves its session away, to be resumed within the grace period.
        'resume.graceSeconds': GRACE_SECONDS,
        // The model moves time on but does not model idle logouts.
        idleTimeoutSeconds: 0,
      },
    });
    const world = new World(server, clock);
    world.admin = await world.join(ADMIN, TEST_ADMIN_PASSWORD);
    world.admin.client.on('event', (event) => {
      if (event.ev === 'online') world.presenceSeen.push(`online ${event.nick}`);
      if (event.ev === 'offline') world.presenceSeen.push(`offline ${event.nick} ${event.reason}`);
    });
    dataOf(await world.admin.request('create', { room: ROOM }));
    return world;
  }

  /** A new connection, not logged in yet. */
  async open(): Promise<Connection> {
    return new Connection(await this.server.open());
  }

  /** A fresh login that is expected to succeed; others see the newcomer come online. */
  async join(nick: string, password?: string): Promise<Player> {
    const player = new Player(nick, await this.open());
    this.started(player, dataOf<Ready>(await player.conn.login(nick, password)));
    return player;
  }

  /** A login succeeded on `player`'s connection: a new session. */
  started(player: Player, ready: Ready): void {
    expect(ready.nick).toBe(player.nick);
    player.sessionId = ready.session;
    this.players.set(player.nick, player);
    this.issued(player.nick, ready.resumeToken);
    if (player.nick !== ADMIN) this.expectPresence(`online ${player.nick}`);
  }

  /** The server gave `nick`'s session a resume token. */
  issued(nick: string, token: string): void {
    expect(token).toMatch(/^[A-Za-z0-9_-]{24}$/);
    const tokens = this.tokens.get(nick) ?? [];
    expect(tokens, 'a token is never given twice').not.toContain(token);
    tokens.push(token);
    this.tokens.set(nick, tokens);
  }

  /** A login that is expected to fail: its outcome; the connection is closed after. */
  async tryLogin(nick: string): Promise<Outcome> {
    const conn = await this.open();
    try {
      const outcome = await conn.login(nick);
      conn.checkReplies(`${nick} (refused login)`);
      return outcome;
    } finally {
      conn.client.destroy();
    }
  }

  player(nick: string): Player {
    const player = this.players.get(nick);
    if (!player) throw new Error(`${nick} has no session in the real world`);
    return player;
  }

  /** Records that `recipients` should get this message (away ones on their resume). */
  expectDelivery(recipients: Iterable<string>, delivery: Delivery): void {
    for (const nick of recipients) this.player(nick).expected.push(delivery);
  }

  /** Records a presence event the admin should see, as `online NICK` or `offline NICK REASON`. */
  expectPresence(entry: string): void {
    this.presenceExpected.push(entry);
  }

  /**
   * Waits until the server has noticed that `nick`'s connection is gone (its session is
   * away). Read from the core: `who` shows a suspended session as suspended, away or not.
   */
  async waitForAway(nick: string): Promise<void> {
    const core = this.server.server.core;
    const deadline = Date.now() + 5000;
    while (core.findSession(nameKey(nick))?.link !== null) {
      if (Date.now() > deadline) throw new Error(`the server never saw ${nick}'s connection go`);
      await sleep(2);
    }
  }

  /**
   * Waits until everything caused so far has arrived (a ping round-trip on every
   * connection: a connection's frames arrive in order), then checks the invariants.
   */
  async check(m: Readonly<Model>): Promise<void> {
    const connected = [...this.players.values()].filter(
      (player) => !m.awaySince.has(player.nick as Nick),
    );
    for (const player of connected) await player.request('ping');
    this.checks++;
    // The sessions the world holds are the model's.
    expect([...this.players.keys()].sort()).toEqual([ADMIN, ...m.online].sort());
    // Membership and status: who is online (away sessions included) and how they show.
    const who = dataOf<{ users: Array<{ nick: string; status: string }> }>(
      await this.admin.request('who'),
    );
    expect(who.users.map((user) => user.nick).sort()).toEqual([ADMIN, ...m.online].sort());
    for (const { nick, status } of who.users) {
      const guest = nick as Nick;
      const expected = m.suspended.has(nick)
        ? ['suspended']
        : m.awaySince.has(guest)
          ? ['away']
          : ['active', 'idle'];
      expect(expected, `${nick}'s status`).toContain(status);
    }
    // Nobody saw a leave or a login that did not happen (a drop and a resume are neither).
    expect(this.presenceSeen, 'online/offline seen by the admin').toEqual(this.presenceExpected);
    for (const player of this.players.values()) {
      // A session's events come in order and once each, across its connections.
      const ids = player.eventIds;
      const backwards = ids.findIndex((id, i) => i > 0 && id <= ids[i - 1]!);
      expect(backwards, `${player.nick}: event ids ${ids.join(',')}`).toBe(-1);
      if (m.awaySince.has(player.nick as Nick)) {
        // Away: what came before the drop is the start of what the model says.
        expect(
          player.expected.slice(0, player.received.length),
          `${player.nick} (away): messages received before the drop`,
        ).toEqual(player.received);
        continue;
      }
      // Exactly the messages the model says, in order: nothing from someone blocked, nothing
      // twice (a resume included), nothing missing, and each sender's messages in order.
      expect(player.received, `${player.nick}: messages received`).toEqual(player.expected);
      player.conn.checkReplies(player.nick);
      // The client knows its rooms: a resumed one was told them again.
      const inRoom = player.nick === ADMIN || m.inRoom.has(player.nick as Nick);
      expect(player.client.rooms.has(ROOM), `${player.nick} in #${ROOM}`).toBe(inRoom);
    }
  }

  async dispose(): Promise<void> {
    await this.server.dispose();
  }
}
