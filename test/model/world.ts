import { expect } from 'vitest';
import { RequestError, type ChatClient } from '../../src/client/client.js';
import type { ChatEvent } from '../../src/core/events.js';
import type { Reply } from '../../src/core/session.js';
import { startTestServer, TEST_ADMIN_PASSWORD, type TestServer } from '../helpers/server.js';

/** The guests the model plays with; `admin` is there too, always online. */
export const NICKS = ['ann', 'ben', 'cat', 'dan'] as const;
export type Nick = (typeof NICKS)[number];
export const ADMIN = 'admin';

/** The room every model player may join; the admin creates it and stays in it. */
export const ROOM = 'den';

/** A message as a recipient should see it (`room` for room messages only). */
export interface Delivery {
  readonly ev: 'message' | 'private';
  readonly mid: number;
  readonly from: string;
  readonly text: string;
  readonly room?: string;
}

/** One connected user: the real client and what it has seen. */
export class Player {
  readonly received: Delivery[] = [];
  readonly expected: Delivery[] = [];
  /** Messages replayed to this player (history on joining a room). */
  readonly replayed: Delivery[] = [];
  private sent = 0;
  private readonly replies = new Map<number | null, number>();

  constructor(
    readonly nick: string,
    readonly client: ChatClient,
  ) {
    client.on('event', (event: ChatEvent) => {
      if (event.ev !== 'message' && event.ev !== 'private') return;
      const { mid, from, text } = event;
      const delivery: Delivery =
        event.ev === 'message'
          ? { ev: 'message', mid, from, text, room: event.room }
          : { ev: 'private', mid, from, text };
      (event.replay === undefined ? this.received : this.replayed).push(delivery);
    });
    client.on('reply', (reply: Reply) =>
      this.replies.set(reply.re, (this.replies.get(reply.re) ?? 0) + 1),
    );
  }

  /** Sends a request; resolves with its data or its error code. */
  async request(cmd: string, args: object = {}): Promise<Outcome> {
    this.sent++;
    try {
      return { ok: true, data: await this.client.request(cmd, args) };
    } catch (error) {
      if (error instanceof RequestError) return { ok: false, code: error.code };
      throw error;
    }
  }

  /** Every request so far got exactly one reply (ids are 1..n, the login's included). */
  checkReplies(): void {
    const counts = [...this.replies.entries()].sort(([a], [b]) => Number(a) - Number(b));
    const total = this.sent + 1; // + the nick request made by login()
    expect(counts, `${this.nick}: replies per request id`).toEqual(
      Array.from({ length: total }, (_, i) => [i + 1, 1]),
    );
  }
}

export type Outcome =
  | { readonly ok: true; readonly data: Record<string, unknown> }
  | { readonly ok: false; readonly code: string };

/** The data of a successful outcome (fails the test otherwise). */
export function dataOf<T>(outcome: Outcome): T {
  if (!outcome.ok) throw new Error(`expected success, got ${outcome.code}`);
  return outcome.data as T;
}

/**
 * The real side of the model-based test: one server, the admin, and the guests online.
 * The model's expectations (who should receive what) are recorded on each player as steps
 * run, and `check` compares them with what really arrived.
 */
export class World {
  readonly players = new Map<string, Player>();
  admin!: Player;
  /** How many times the invariants were checked (so a run that did nothing shows). */
  checks = 0;

  private constructor(readonly server: TestServer) {}

  static async create(): Promise<World> {
    const server = await startTestServer({
      set: {
        'flood.burst': 100_000,
        'flood.perSecond': 100_000,
        connectionsPerMinutePerIp: 100_000,
        maxConnectionsPerIp: 1000,
        // The model treats a dropped socket as a leave; resume has its own tests.
        'resume.graceSeconds': 0,
      },
    });
    const world = new World(server);
    world.admin = await world.join(ADMIN, TEST_ADMIN_PASSWORD);
    dataOf(await world.admin.request('create', { room: ROOM }));
    return world;
  }

  async join(nick: string, password?: string): Promise<Player> {
    const client = await this.server.open();
    const player = new Player(nick, client);
    await client.login(nick, password);
    this.players.set(nick, player);
    return player;
  }

  /** A login that is expected to fail: its outcome; the connection is closed after. */
  async tryLogin(nick: string): Promise<Outcome> {
    const client = await this.server.open();
    try {
      await client.login(nick);
      return { ok: true, data: {} };
    } catch (error) {
      if (error instanceof RequestError) return { ok: false, code: error.code };
      throw error;
    } finally {
      client.destroy();
    }
  }

  player(nick: string): Player {
    const player = this.players.get(nick);
    if (!player) throw new Error(`${nick} is not online in the real world`);
    return player;
  }

  /** Records that `recipients` should get this message. */
  expectDelivery(recipients: Iterable<string>, delivery: Delivery): void {
    for (const nick of recipients) this.player(nick).expected.push(delivery);
  }

  /**
   * Waits until everything caused so far has arrived (a ping round-trip on every
   * connection: a connection's frames arrive in order), then checks the invariants.
   */
  async check(online: ReadonlySet<string>): Promise<void> {
    for (const player of this.players.values()) await player.request('ping');
    // Membership: the server's list of who is online is the model's.
    const who = dataOf<{ users: Array<{ nick: string }> }>(await this.admin.request('who'));
    const nicks = who.users.map((user) => user.nick);
    this.checks++;
    expect(nicks.sort()).toEqual([ADMIN, ...online].sort());
    for (const player of this.players.values()) {
      // Exactly the messages the model says, in order: nothing from someone blocked, nothing
      // twice, nothing missing, and each sender's messages in the order they were sent.
      expect(player.received, `${player.nick}: messages received`).toEqual(player.expected);
      player.checkReplies();
    }
  }

  async dispose(): Promise<void> {
    await this.server.dispose();
  }
}
