import fc from 'fast-check';
import { expect } from 'vitest';
import { ADMIN, dataOf, NICKS, ROOM, type Nick, type World } from './world.js';

/** What the test believes the server's state is. Extend it as features land. */
export interface Model {
  readonly online: Set<Nick>;
  /** Who is in the room `ROOM` (the admin always is). */
  readonly inRoom: Set<Nick>;
  /** Whom each online guest blocks (a guest's blocks end with its session). */
  readonly blocks: Map<Nick, Set<string>>;
  /** Banned nicknames. A ban also bans the address, and every player shares 127.0.0.1. */
  readonly banned: Set<string>;
  /** Suspended nicknames (kept across sessions): they may only ping and quit. */
  readonly suspended: Set<string>;
}

export function initialModel(online: readonly Nick[]): Model {
  return {
    online: new Set(online),
    inRoom: new Set(),
    blocks: new Map(online.map((nick) => [nick, new Set<string>()])),
    banned: new Set(),
    suspended: new Set(),
  };
}

/** Who should see a message `from` sent to `candidates`: not the sender, nor who blocks it. */
function audience(m: Model, from: Nick, candidates: Iterable<string>): string[] {
  return [...candidates].filter(
    (nick) => nick !== from && !(m.blocks.get(nick as Nick)?.has(from) ?? false),
  );
}

function leaves(m: Model, nick: Nick): void {
  m.online.delete(nick);
  m.inRoom.delete(nick);
  m.blocks.delete(nick);
}

export type Step = fc.AsyncCommand<Model, World>;

const text = fc
  .string({ unit: 'grapheme', minLength: 1, maxLength: 24 })
  .map((s) => s.replace(/[\n\r]/g, ' '));
const nick = fc.constantFrom(...NICKS);

const target = fc.constantFrom<string>(...NICKS, ADMIN);

class Login implements Step {
  constructor(readonly nick: Nick) {}
  check = (m: Readonly<Model>) => !m.online.has(this.nick);
  async run(m: Model, w: World) {
    if (m.banned.size > 0) {
      expect(await w.tryLogin(this.nick)).toEqual({ ok: false, code: 'banned' });
    } else {
      await w.join(this.nick);
      m.online.add(this.nick);
      m.blocks.set(this.nick, new Set());
    }
    await w.check(m.online);
  }
  toString = () => `login(${this.nick})`;
}

class Quit implements Step {
  constructor(readonly nick: Nick) {}
  check = (m: Readonly<Model>) => m.online.has(this.nick);
  async run(m: Model, w: World) {
    const player = w.player(this.nick);
    player.checkReplies();
    await player.client.quit();
    w.players.delete(this.nick);
    leaves(m, this.nick);
    await w.check(m.online);
  }
  toString = () => `quit(${this.nick})`;
}

/** The connection dies without a goodbye. */
class Drop implements Step {
  constructor(readonly nick: Nick) {}
  check = (m: Readonly<Model>) => m.online.has(this.nick);
  async run(m: Model, w: World) {
    const gone = w.admin.client.waitFor((e) => e.ev === 'offline' && e.nick === this.nick);
    w.player(this.nick).client.destroy();
    await gone;
    w.players.delete(this.nick);
    leaves(m, this.nick);
    await w.check(m.online);
  }
  toString = () => `drop(${this.nick})`;
}

/** A message to the lobby (`say` or `broadcast`) or to the room. */
class Say implements Step {
  constructor(
    readonly nick: Nick,
    readonly text: string,
    readonly where: 'lobby' | 'broadcast' | 'room',
  ) {}
  check = (m: Readonly<Model>) => m.online.has(this.nick);
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
      const members = inRoom ? [...m.inRoom, ADMIN] : [...m.online, ADMIN];
      w.expectDelivery(audience(m, this.nick, members), {
        ev: 'message',
        mid,
        from: this.nick,
        text: this.text,
        room: inRoom ? ROOM : 'lobby',
      });
    }
    await w.check(m.online);
  }
  toString = () => `${this.where}(${this.nick}, ${JSON.stringify(this.text)})`;
}

class Join implements Step {
  constructor(readonly nick: Nick) {}
  check = (m: Readonly<Model>) => m.online.has(this.nick);
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
    await w.check(m.online);
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
  check = (m: Readonly<Model>) => m.online.has(this.nick);
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
    await w.check(m.online);
  }
  toString = () => `leave(${this.nick})`;
}

class Block implements Step {
  constructor(
    readonly nick: Nick,
    readonly target: string,
    readonly unblock: boolean,
  ) {}
  check = (m: Readonly<Model>) => m.online.has(this.nick);
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
      expect(outcome).toEqual({ ok: false, code: 'unknown_user' });
    } else if (blocks.has(this.target)) {
      expect(outcome).toEqual({ ok: false, code: 'already_blocked' });
    } else {
      dataOf(outcome);
      blocks.add(this.target);
    }
    await w.check(m.online);
  }
  toString = () => `${this.unblock ? 'unblock' : 'block'}(${this.nick}, ${this.target})`;
}

class Msg implements Step {
  constructor(
    readonly nick: Nick,
    readonly to: Nick[],
    readonly text: string,
  ) {}
  check = (m: Readonly<Model>) => m.online.has(this.nick);
  async run(m: Model, w: World) {
    const outcome = await w.player(this.nick).request('msg', { to: this.to, text: this.text });
    const reachable = [...new Set(this.to.filter((n) => m.online.has(n)))];
    if (m.suspended.has(this.nick)) {
      expect(outcome).toEqual({ ok: false, code: 'suspended' });
    } else if (this.text.trim() === '') {
      expect(outcome).toEqual({ ok: false, code: 'empty_message' });
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
    await w.check(m.online);
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
  check = (m: Readonly<Model>) => m.online.has(this.nick);
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
    await w.check(m.online);
  }
  toString = () => `adminAttempt(${this.nick}, #${this.pick} on ${this.target})`;
}

/** Admin moderation: kick, ban/unban, suspend/forgive, aimed at guests or the admin itself. */
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
    const exists = online; // guests exist only while online; the admin is an account
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
    await w.check(m.online);
  }
  toString = () => `${this.action}(${this.target})`;
}

/** Every kind of step, with its arguments: add new features' steps here. */
export const STEPS: Array<fc.Arbitrary<Step>> = [
  nick.map((n) => new Login(n)),
  nick.map((n) => new Quit(n)),
  nick.map((n) => new Drop(n)),
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
