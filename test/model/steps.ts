import fc from 'fast-check';
import { expect } from 'vitest';
import {
  ADMIN,
  dataOf,
  GRACE_MS,
  NICKS,
  Player,
  ROOM,
  type Nick,
  type Ready,
  type World,
} from './world.js';

/** What the test believes the server's state is. Extend it as features land. */
export interface Model {
  /** Sessions that exist (in `who`): connected, or away waiting to be resumed. */
  readonly online: Set<Nick>;
  /** Away sessions: when (virtual ms) their connection was lost, in the order it was. */
  readonly awaySince: Map<Nick, number>;
  /**
   * Away sessions whose connection died while events were on their way: which of those
   * the server had written to the lost socket is timing, so only a resume that says what
   * the client last saw (`lastEventId`) can be told what to expect.
   */
  readonly inFlight: Set<Nick>;
  /** Virtual time since the start, in ms (the server's clock moves only in `tick`). */
  now: number;
  /** How many resume tokens each nickname's sessions were given (the world keeps them). */
  readonly issued: Map<Nick, number>;
  /** Which of them resumes the nickname's current session (none once it has ended). */
  readonly liveToken: Map<Nick, number>;
  /** Who is in the room `ROOM` (the admin always is). Away sessions stay in their rooms. */
  readonly inRoom: Set<Nick>;
  /** Whom each guest's session blocks (they end with the session, not with a connection). */
  readonly blocks: Map<Nick, Set<string>>;
  /** Banned nicknames. A ban also bans the address, and every player shares 127.0.0.1. */
  readonly banned: Set<string>;
  /** Suspended nicknames (kept across sessions): they may only ping and quit. */
  readonly suspended: Set<string>;
}

export function initialModel(online: readonly Nick[]): Model {
  return {
    online: new Set(online),
    awaySince: new Map(),
    inFlight: new Set(),
    now: 0,
    issued: new Map(online.map((nick) => [nick, 1])),
    liveToken: new Map(online.map((nick) => [nick, 0])),
    inRoom: new Set(),
    blocks: new Map(online.map((nick) => [nick, new Set<string>()])),
    banned: new Set(),
    suspended: new Set(),
  };
}

/** Online with a live connection (not away). */
function connected(m: Readonly<Model>, nick: Nick): boolean {
  return m.online.has(nick) && !m.awaySince.has(nick);
}

/** Who should see a message `from` sent to `candidates`: not the sender, nor who blocks it. */
function audience(m: Model, from: string, candidates: Iterable<string>): string[] {
  return [...candidates].filter(
    (nick) => nick !== from && !(m.blocks.get(nick as Nick)?.has(from) ?? false),
  );
}

/** The session ends (quit, kick, ban, grace period over): with it, its rooms, blocks and token. */
function leaves(m: Model, nick: Nick): void {
  m.online.delete(nick);
  m.awaySince.delete(nick);
  m.inFlight.delete(nick);
  m.liveToken.delete(nick);
  m.inRoom.delete(nick);
  m.blocks.delete(nick);
}

/** A fresh login of `nick` (no session) succeeded on `player`'s connection. */
function loggedIn(m: Model, w: World, player: Player, ready: Ready): void {
  w.started(player, ready);
  const nick = player.nick as Nick;
  m.online.add(nick);
  m.blocks.set(nick, new Set());
  const issued = m.issued.get(nick) ?? 0;
  m.issued.set(nick, issued + 1);
  m.liveToken.set(nick, issued);
}

/**
 * What the nickname step answers for `nick`, in the documented gate order: a ban (of the
 * name: an address is banned only when asked for, which the model never does), then the
 * name in use (a session away waiting to be resumed holds its nickname), else success.
 */
function loginRefusal(m: Readonly<Model>, nick: Nick): string | undefined {
  if (m.banned.has(nick)) return 'banned';
  if (m.online.has(nick)) return 'nick_taken';
  return undefined;
}

export type Step = fc.AsyncCommand<Model, World>;

const text = fc
  .string({ unit: 'grapheme', minLength: 1, maxLength: 24 })
  .map((s) => s.replace(/[\n\r]/g, ' '));
const nick = fc.constantFrom(...NICKS);

const target = fc.constantFrom<string>(...NICKS, ADMIN);

/**
 * A fresh login (`nick`) on a new connection, by someone without a connection: nobody, a
 * session that ended, or a client whose session is still away (which is the "reconnect
 * without resume" case: the nickname is taken until the grace period ends).
 */
class Login implements Step {
  constructor(readonly nick: Nick) {}
  check = (m: Readonly<Model>) => !connected(m, this.nick);
  async run(m: Model, w: World) {
    const refusal = loginRefusal(m, this.nick);
    if (refusal !== undefined) {
      expect(await w.tryLogin(this.nick), this.toString()).toEqual({ ok: false, code: refusal });
    } else {
      const player = new Player(this.nick, await w.open());
      loggedIn(m, w, player, dataOf<Ready>(await player.conn.login(this.nick)));
    }
    await w.check(m);
  }
  toString = () => `login(${this.nick})`;
}

class Quit implements Step {
  constructor(readonly nick: Nick) {}
  check = (m: Readonly<Model>) => connected(m, this.nick);
  async run(m: Model, w: World) {
    const player = w.player(this.nick);
    player.conn.checkReplies(this.nick);
    await player.client.quit();
    w.players.delete(this.nick);
    w.expectPresence(`offline ${this.nick} quit`);
    leaves(m, this.nick);
    await w.check(m);
  }
  toString = () => `quit(${this.nick})`;
}

/** Messages the admin sends as a connection dies (`drop` with a burst). */
const BURST = 3;

/**
 * The connection dies without a goodbye: the session stays, away, for the grace period.
 * With `burst` k, the admin sends `BURST` lobby messages one by one and the connection
 * dies once the client has received k of them: the rest are sent to a dead connection
 * (which the server may not have noticed yet) or to the away session.
 */
class Drop implements Step {
  constructor(
    readonly nick: Nick,
    readonly burst: number | null,
  ) {}
  check = (m: Readonly<Model>) => connected(m, this.nick);
  async run(m: Model, w: World) {
    const player = w.player(this.nick);
    player.conn.checkReplies(this.nick);
    if (this.burst === null) {
      player.client.destroy();
    } else {
      // A client that blocks the admin gets none of it: it dies before the first.
      const dieAt = m.blocks.get(this.nick)?.has(ADMIN) ? 0 : this.burst;
      for (let i = 0; i < BURST; i++) {
        if (i === dieAt) player.client.destroy();
        const text = `burst ${i + 1}`;
        const arrived =
          i < dieAt
            ? player.client.waitFor((e) => e.ev === 'message' && e.text === text)
            : undefined;
        const { mid } = dataOf<{ mid: number }>(
          await w.admin.request('say', { room: 'lobby', text }),
        );
        // Away sessions are still in the lobby: the dying one included.
        const delivery = { ev: 'message', mid, from: ADMIN, text, room: 'lobby' } as const;
        w.expectDelivery(audience(m, ADMIN, m.online), delivery);
        await arrived;
      }
      if (dieAt === BURST) player.client.destroy();
      else m.inFlight.add(this.nick);
    }
    await w.waitForAway(this.nick);
    m.awaySince.set(this.nick, m.now);
    await w.check(m);
  }
  toString = () =>
    this.burst === null
      ? `drop(${this.nick})`
      : `drop(${this.nick}, after ${this.burst} of ${BURST} messages)`;
}

/**
 * A new connection presents one of the nickname's resume tokens: the newest (`older`
 * null) or an older one, with the client's `lastEventId` or without. The live token takes
 * the session back (away, or still connected: the old connection is then replaced) with
 * every missed event once, in order; any other is refused with `resume_failed`. As a
 * `reconnect` (as the clients do), a refused resume falls back to a fresh login on the
 * same connection; otherwise the connection is closed.
 *
 * `who` is a nickname, or `{ away: n }`: the n-th away session (modulo), chosen when the
 * step runs, so that resuming a dropped session is not left to chance.
 */
class Resume implements Step {
  private chosen: Nick | undefined;

  constructor(
    readonly who: Nick | { readonly away: number },
    readonly older: number | null,
    readonly withLastEventId: boolean,
    readonly fallback: boolean,
  ) {}

  private target(m: Readonly<Model>): Nick | undefined {
    if (typeof this.who === 'string') return this.who;
    const away = [...m.awaySince.keys()];
    return away.length === 0 ? undefined : away[this.who.away % away.length];
  }

  check = (m: Readonly<Model>) => {
    const nick = this.target(m);
    return nick !== undefined && (m.issued.get(nick) ?? 0) > (this.older === null ? 0 : 1);
  };

  async run(m: Model, w: World) {
    const nick = this.target(m)!;
    this.chosen = nick;
    const issued = m.issued.get(nick)!;
    const tokens = w.tokens.get(nick) ?? [];
    expect(tokens.length, `${nick}: tokens given`).toBe(issued);
    const index = this.older === null ? issued - 1 : this.older % (issued - 1);
    const token = tokens[index]!;
    const valid = m.liveToken.get(nick) === index;
    const existing = w.players.get(nick);
    expect(existing !== undefined, `${nick} has a session`).toBe(m.online.has(nick));
    const conn = await w.open();
    // Listening before the request: the missed events follow the reply at once.
    const player = existing ?? new Player(nick, conn);
    if (existing) existing.listen(conn.client);
    const before = player.received.length;
    // What the server wrote to a connection that died mid-stream is timing: say what was
    // seen (0: nothing yet, so everything the session was sent is missed).
    const lastEventId =
      this.withLastEventId || m.inFlight.has(nick) ? (player.lastEventId ?? 0) : undefined;
    const outcome = await conn.resume(token, lastEventId);
    if (valid) {
      const ready = dataOf<Ready>(outcome);
      expect(ready).toMatchObject({
        nick,
        session: player.sessionId,
        role: 'guest',
        resumed: true,
      });
      expect(ready.resumeToken).not.toBe(token);
      const wasConnected = !m.awaySince.has(nick);
      if (!wasConnected) w.resumed++;
      const old = player.conn;
      player.conn = conn;
      w.issued(nick, ready.resumeToken);
      m.issued.set(nick, issued + 1);
      m.liveToken.set(nick, issued);
      m.awaySince.delete(nick);
      m.inFlight.delete(nick);
      if (wasConnected) {
        // The token holder wins over a connection that is somehow still open.
        expect((await old.client.closed()).code, 'the old connection').toBe('replaced');
      }
      old.checkReplies(`${nick} (old connection)`);
      await conn.request('ping');
      // The replay: exactly what was missed, and never from someone this session blocks.
      const missed = player.received.slice(before);
      expect(missed, `${nick}: replayed on resume`).toEqual(player.expected.slice(before));
      for (const delivery of missed)
        expect(m.blocks.get(nick)?.has(delivery.from), `replayed from ${delivery.from}`).toBe(
          false,
        );
    } else {
      expect(outcome, this.toString()).toEqual({ ok: false, code: 'resume_failed' });
      const refusal = loginRefusal(m, nick);
      if (!this.fallback) {
        conn.checkReplies(`${nick} (refused resume)`);
        conn.client.destroy();
      } else if (refusal !== undefined) {
        // The connection stayed open after the refusal: a fresh login is answered as usual.
        expect(await conn.login(nick), `${this} then login`).toEqual({ ok: false, code: refusal });
        conn.checkReplies(`${nick} (refused resume and login)`);
        conn.client.destroy();
      } else {
        loggedIn(m, w, player, dataOf<Ready>(await conn.login(nick)));
      }
    }
    await w.check(m);
  }

  toString = () => {
    const who =
      typeof this.who === 'string' ? this.who : `away #${this.who.away}: ${this.chosen ?? '?'}`;
    const token = this.older === null ? 'newest token' : `token #${this.older}`;
    const seen = this.withLastEventId ? ', lastEventId' : '';
    return `${this.fallback ? 'reconnect' : 'resume'}(${who}, ${token}${seen})`;
  };
}

/**
 * Time passes (the server's clock): away sessions whose grace period is over end, and
 * everyone sees them leave (`dropped`), in the order their connections were lost.
 */
class Tick implements Step {
  constructor(readonly ms: number) {}
  check = () => true;
  async run(m: Model, w: World) {
    m.now += this.ms;
    const expired = [...m.awaySince]
      .filter(([, since]) => m.now - since >= GRACE_MS)
      .sort(([, a], [, b]) => a - b)
      .map(([nick]) => nick);
    w.clock.advance(this.ms);
    for (const gone of expired) {
      w.expectPresence(`offline ${gone} dropped`);
      w.players.delete(gone);
      leaves(m, gone);
    }
    await w.check(m);
  }
  toString = () => `tick(${this.ms / 1000} s)`;
}

/** A message to the lobby (`say` or `broadcast`) or to the room. */
class Say implements Step {
  constructor(
    readonly nick: Nick,
    readonly text: string,
    readonly where: 'lobby' | 'broadcast' | 'room',
  ) {}
  check = (m: Readonly<Model>) => connected(m, this.nick);
  async run(m: Model, w: World) {
    const player = w.player(this.nick);
    const outcome =
      this.where === 'broadcast'
        ? await player.request('broadcast', { text: this.text })
        : await player.request('say', {
            room: this.where === 'room' ? ROOM : 'lobby',
            text: this.text,
          });
    const inRoom = this.where === 'room';
    if (m.suspended.has(this.nick)) {
      expect(outcome).toEqual({ ok: false, code: 'suspended' });
    } else if (this.text.trim() === '') {
      expect(outcome).toEqual({ ok: false, code: 'empty_message' });
    } else if (inRoom && !m.inRoom.has(this.nick)) {
      expect(outcome).toEqual({ ok: false, code: 'unknown_room' });
    } else {
      const { mid } = dataOf<{ mid: number }>(outcome);
      // Away sessions are still members: they get it on their resume.
      const members = inRoom ? [...m.inRoom, ADMIN] : [...m.online, ADMIN];
      w.expectDelivery(audience(m, this.nick, members), {
        ev: 'message',
        mid,
        from: this.nick,
        text: this.text,
        room: inRoom ? ROOM : 'lobby',
      });
    }
    await w.check(m);
  }
  toString = () => `${this.where}(${this.nick}, ${JSON.stringify(this.text)})`;
}

class Join implements Step {
  constructor(readonly nick: Nick) {}
  check = (m: Readonly<Model>) => connected(m, this.nick);
  async run(m: Model, w: World) {
    const player = w.player(this.nick);
    const replayedBefore = player.replayed.length;
    const outcome = await player.request('join', { room: ROOM });
    if (m.suspended.has(this.nick)) {
      expect(outcome).toEqual({ ok: false, code: 'suspended' });
    } else if (m.inRoom.has(this.nick)) {
      expect(outcome).toEqual({ ok: false, code: 'already_in_room' });
    } else {
      dataOf(outcome);
      m.inRoom.add(this.nick);
    }
    await w.check(m);
    // History on joining is from the room, and never from someone this player blocks.
    for (const replay of player.replayed.slice(replayedBefore)) {
      expect(replay.room).toBe(ROOM);
      expect(m.blocks.get(this.nick)?.has(replay.from), `history from ${replay.from}`).toBe(false);
    }
  }
  toString = () => `join(${this.nick})`;
}

class Leave implements Step {
  constructor(readonly nick: Nick) {}
  check = (m: Readonly<Model>) => connected(m, this.nick);
  async run(m: Model, w: World) {
    const outcome = await w.player(this.nick).request('leave', { room: ROOM });
    if (m.suspended.has(this.nick)) {
      expect(outcome).toEqual({ ok: false, code: 'suspended' });
    } else if (m.inRoom.has(this.nick)) {
      dataOf(outcome);
      m.inRoom.delete(this.nick);
    } else {
      expect(outcome).toEqual({ ok: false, code: 'unknown_room' });
    }
    await w.check(m);
  }
  toString = () => `leave(${this.nick})`;
}

class Block implements Step {
  constructor(
    readonly nick: Nick,
    readonly target: string,
    readonly unblock: boolean,
  ) {}
  check = (m: Readonly<Model>) => connected(m, this.nick);
  async run(m: Model, w: World) {
    const blocks = m.blocks.get(this.nick)!;
    const outcome = await w
      .player(this.nick)
      .request(this.unblock ? 'unblock' : 'block', { name: this.target });
    if (m.suspended.has(this.nick)) {
      expect(outcome).toEqual({ ok: false, code: 'suspended' });
    } else if (this.unblock) {
      if (blocks.has(this.target)) {
        dataOf(outcome);
        blocks.delete(this.target);
      } else expect(outcome).toEqual({ ok: false, code: 'not_blocked' });
    } else if (this.target === this.nick) {
      expect(outcome).toEqual({ ok: false, code: 'cannot_block_self' });
    } else if (this.target !== ADMIN && !m.online.has(this.target as Nick)) {
      // Someone away is still someone: only a guest whose session ended is unknown.
      expect(outcome).toEqual({ ok: false, code: 'unknown_user' });
    } else if (blocks.has(this.target)) {
      expect(outcome).toEqual({ ok: false, code: 'already_blocked' });
    } else {
      dataOf(outcome);
      blocks.add(this.target);
    }
    await w.check(m);
  }
  toString = () => `${this.unblock ? 'unblock' : 'block'}(${this.nick}, ${this.target})`;
}

class Msg implements Step {
  constructor(
    readonly nick: Nick,
    readonly to: Nick[],
    readonly text: string,
  ) {}
  check = (m: Readonly<Model>) => connected(m, this.nick);
  async run(m: Model, w: World) {
    const outcome = await w.player(this.nick).request('msg', { to: this.to, text: this.text });
    // The sender is never a recipient: left out of a group, refused alone.
    const others = this.to.filter((n) => n !== this.nick);
    // An away session is reachable: it gets the message on its resume.
    const reachable = [...new Set(others.filter((n) => m.online.has(n)))];
    if (m.suspended.has(this.nick)) {
      expect(outcome).toEqual({ ok: false, code: 'suspended' });
    } else if (this.text.trim() === '') {
      expect(outcome).toEqual({ ok: false, code: 'empty_message' });
    } else if (others.length === 0) {
      expect(outcome).toEqual({ ok: false, code: 'invalid_target' });
    } else if (reachable.length === 0) {
      expect(outcome).toEqual({ ok: false, code: 'unknown_user' });
    } else {
      const data = dataOf<{ mid: number; delivered: string[] }>(outcome);
      expect([...data.delivered].sort()).toEqual([...reachable].sort());
      w.expectDelivery(audience(m, this.nick, reachable), {
        ev: 'private',
        mid: data.mid,
        from: this.nick,
        text: this.text,
      });
    }
    await w.check(m);
  }
  toString = () => `msg(${this.nick} → ${this.to.join(',')}, ${JSON.stringify(this.text)})`;
}

/** A guest tries every admin command the server announces: all must be refused. */
class AdminAttempt implements Step {
  constructor(
    readonly nick: Nick,
    readonly target: Nick,
    readonly pick: number,
  ) {}
  check = (m: Readonly<Model>) => connected(m, this.nick);
  async run(m: Model, w: World) {
    const player = w.player(this.nick);
    const adminCommands = player.client.commands.filter((command) => command.admin);
    expect(adminCommands.length).toBeGreaterThan(0);
    const command = adminCommands[this.pick % adminCommands.length]!;
    const outcome = await player.request(command.name, {
      nick: this.target,
      text: 'x',
      seconds: 0,
    });
    // Refused, whatever the command: not authorized (or suspended, which is checked first).
    expect(outcome, `/${command.name} by guest ${this.nick}`).toEqual({
      ok: false,
      code: m.suspended.has(this.nick) ? 'suspended' : 'not_authorized',
    });
    await w.check(m);
  }
  toString = () => `adminAttempt(${this.nick}, #${this.pick} on ${this.target})`;
}

/**
 * Admin moderation: kick, ban/unban, suspend/forgive, aimed at guests (connected or away)
 * or the admin itself.
 */
class Moderate implements Step {
  constructor(
    readonly action: 'kick' | 'ban' | 'unban' | 'suspend' | 'forgive',
    readonly target: string,
  ) {}
  check = () => true;
  async run(m: Model, w: World) {
    const t = this.target;
    const online = t === ADMIN || m.online.has(t as Nick);
    const gone =
      (this.action === 'kick' || this.action === 'ban') && online && t !== ADMIN
        ? w.admin.client.waitFor((e) => e.ev === 'offline' && e.nick === t)
        : undefined;
    const outcome = await w.admin.request(this.action, { nick: t });
    const exists = online; // guests exist while online (away too); the admin is an account
    const expectError = (code: string) =>
      expect(outcome, this.toString()).toEqual({ ok: false, code });
    switch (this.action) {
      case 'kick':
      case 'ban':
        if (!exists) expectError('unknown_user');
        else if (t === ADMIN) expectError('invalid_target');
        else if (this.action === 'ban' && m.banned.has(t)) expectError('no_change');
        else {
          dataOf(outcome);
          await gone;
          w.players.delete(t);
          w.expectPresence(`offline ${t} ${this.action === 'kick' ? 'kicked' : 'banned'}`);
          leaves(m, t as Nick);
          if (this.action === 'ban') m.banned.add(t);
        }
        break;
      case 'unban':
        if (m.banned.has(t)) {
          dataOf(outcome);
          m.banned.delete(t);
        } else if (!exists) expectError('unknown_user');
        else expectError('no_change');
        break;
      case 'suspend':
        if (!exists) expectError('unknown_user');
        else if (t === ADMIN) expectError('invalid_target');
        else if (m.suspended.has(t)) expectError('no_change');
        else {
          dataOf(outcome);
          m.suspended.add(t);
        }
        break;
      case 'forgive':
        if (!exists) expectError('unknown_user');
        else if (!m.suspended.has(t)) expectError('no_change');
        else {
          dataOf(outcome);
          m.suspended.delete(t);
        }
        break;
    }
    await w.check(m);
  }
  toString = () => `${this.action}(${this.target})`;
}

const drop = fc
  .tuple(nick, fc.option(fc.nat(BURST), { freq: 2 }))
  .map(([n, burst]) => new Drop(n, burst));

const resume = (who: fc.Arbitrary<Nick | { readonly away: number }>) =>
  fc
    .tuple(
      who,
      // Mostly the newest token; sometimes an older one, which must be refused.
      fc.oneof({ arbitrary: fc.constant(null), weight: 3 }, { arbitrary: fc.nat(8), weight: 1 }),
      fc.boolean(),
      fc.boolean(),
    )
    .map(([target, older, withId, fallback]) => new Resume(target, older, withId, fallback));

/** Every kind of step, with its arguments: add new features' steps here. */
export const STEPS: Array<fc.Arbitrary<Step>> = [
  nick.map((n) => new Login(n)),
  nick.map((n) => new Quit(n)),
  // Drops and resumes of away sessions twice as often as the rest: they need each other.
  drop,
  drop,
  resume(nick),
  resume(fc.nat(3).map((away) => ({ away }))),
  resume(fc.nat(3).map((away) => ({ away }))),
  fc.constantFrom(GRACE_MS / 2, GRACE_MS - 1, GRACE_MS).map((ms) => new Tick(ms)),
  fc
    .tuple(nick, text, fc.constantFrom('lobby' as const, 'broadcast' as const, 'room' as const))
    .map(([n, t, where]) => new Say(n, t, where)),
  nick.map((n) => new Join(n)),
  nick.map((n) => new Leave(n)),
  fc.tuple(nick, target, fc.boolean()).map(([n, t, u]) => new Block(n, t, u)),
  fc
    .tuple(nick, fc.array(nick, { minLength: 1, maxLength: 3 }), text)
    .map(([n, to, t]) => new Msg(n, to, t)),
  fc.tuple(nick, nick, fc.nat(50)).map(([n, t, p]) => new AdminAttempt(n, t, p)),
  fc
    .tuple(fc.constantFrom('kick', 'ban', 'unban', 'suspend', 'forgive' as const), target)
    .map(([action, t]) => new Moderate(action, t)),
];
