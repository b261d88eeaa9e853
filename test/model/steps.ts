import fc from 'fast-check';
import { expect } from 'vitest';
import { ADMIN, dataOf, NICKS, type Nick, type World } from './world.js';

/** What the test believes the server's state is. Extend it as features land. */
export interface Model {
  readonly online: Set<Nick>;
}

export type Step = fc.AsyncCommand<Model, World>;

const text = fc
  .string({ unit: 'grapheme', minLength: 1, maxLength: 24 })
  .map((s) => s.replace(/[\n\r]/g, ' '));
const nick = fc.constantFrom(...NICKS);

const others = (model: Model, sender: Nick) => [...model.online].filter((n) => n !== sender);

class Login implements Step {
  constructor(readonly nick: Nick) {}
  check = (m: Readonly<Model>) => !m.online.has(this.nick);
  async run(m: Model, w: World) {
    await w.join(this.nick);
    m.online.add(this.nick);
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
    m.online.delete(this.nick);
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
    m.online.delete(this.nick);
    await w.check(m.online);
  }
  toString = () => `drop(${this.nick})`;
}

class Say implements Step {
  constructor(
    readonly nick: Nick,
    readonly text: string,
    readonly broadcast: boolean,
  ) {}
  check = (m: Readonly<Model>) => m.online.has(this.nick);
  async run(m: Model, w: World) {
    const outcome = await w
      .player(this.nick)
      .request(this.broadcast ? 'broadcast' : 'say', { text: this.text });
    if (this.text.trim() === '') {
      expect(outcome).toEqual({ ok: false, code: 'empty_message' });
    } else {
      const { mid } = dataOf<{ mid: number }>(outcome);
      w.expectDelivery([...others(m, this.nick), ADMIN], {
        ev: 'message',
        mid,
        from: this.nick,
        text: this.text,
      });
    }
    await w.check(m.online);
  }
  toString = () =>
    `${this.broadcast ? 'broadcast' : 'say'}(${this.nick}, ${JSON.stringify(this.text)})`;
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
    if (this.text.trim() === '') {
      expect(outcome).toEqual({ ok: false, code: 'empty_message' });
    } else if (reachable.length === 0) {
      expect(outcome).toEqual({ ok: false, code: 'unknown_user' });
    } else {
      const data = dataOf<{ mid: number; delivered: string[] }>(outcome);
      expect([...data.delivered].sort()).toEqual([...reachable].sort());
      w.expectDelivery(
        reachable.filter((n) => n !== this.nick),
        { ev: 'private', mid: data.mid, from: this.nick, text: this.text },
      );
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
    expect(outcome, `/${command.name} by guest ${this.nick}`).toEqual({
      ok: false,
      code: 'not_authorized',
    });
    await w.check(m.online);
  }
  toString = () => `adminAttempt(${this.nick}, #${this.pick} on ${this.target})`;
}

/** Every kind of step, with its arguments: add new features' steps here. */
export const STEPS: Array<fc.Arbitrary<Step>> = [
  nick.map((n) => new Login(n)),
  nick.map((n) => new Quit(n)),
  nick.map((n) => new Drop(n)),
  fc.tuple(nick, text, fc.boolean()).map(([n, t, b]) => new Say(n, t, b)),
  fc
    .tuple(nick, fc.array(nick, { minLength: 1, maxLength: 3 }), text)
    .map(([n, to, t]) => new Msg(n, to, t)),
  fc.tuple(nick, nick, fc.nat(50)).map(([n, t, p]) => new AdminAttempt(n, t, p)),
];
