import { ruledText } from '../text-rules.js';
import { z } from 'zod';
import { refuseLookalike } from '../accounts/confusables.js';
import { describeFailures, passwordLogin, readyData } from '../accounts/login.js';
import { ChatError } from '../errors.js';
import { checkName } from '../names.js';
import { defineCommand } from './command.js';

/** The nickname step: the first thing a client does after the server's hello. */
export const nickCommand = defineCommand({
  phase: 'any',
  info: {
    name: 'nick',
    aliases: [],
    bare: [],
    args: [{ name: 'nick', kind: 'name' }],
    summary: 'choose your nickname (log in); as a guest, change it',
    group: 'session',
  },
  args: z.object({
    nick: z.string(),
    password: z.string().max(1024).optional(),
    /** An account already logged in elsewhere: end that session instead of refusing. */
    takeover: z.boolean().optional(),
    /**
     * The newest message id this client has already shown (from before a lost
     * connection or a server crash): the login backlog replays only newer ones.
     */
    seenMid: z.number().int().min(0).optional(),
  }),
  async handle({ core, link, session: current, after }, { nick, password, takeover, seenMid }) {
    const checked = checkName(nick);
    if (!checked.ok) throw new ChatError('invalid_nick', checked.reason);
    if (current) {
      if (current.account)
        throw new ChatError('already_registered', 'An account keeps its nickname');
      if (await core.store.accounts.findByKey(checked.key)) throw new ChatError('nick_reserved');
      await refuseLookalike(core.store.accounts, checked.name, checked.key);
      const old = current.nick;
      await core.rename(current, checked.name, checked.key);
      core.publish(core.presenceAudience(current), { ev: 'renamed', from: old, to: current.nick });
      return { nick: current.nick, session: current.id, account: false, role: 'guest' };
    }
    if (password !== undefined) {
      const { session, failures } = await passwordLogin(
        core,
        link,
        checked.key,
        password,
        takeover === true,
        seenMid,
      );
      const report = describeFailures(failures);
      if (report) after(() => core.sendTo(session, { ev: 'notice', text: report }));
      return {
        ...readyData(core, session),
        failedLogins: failures.map(({ address, count, lastAt }) => ({ address, count, lastAt })),
      };
    }
    // With the attempt, so a ban or the lock is answered before the name in use (the
    // documented gate order): a refused client learns nothing of who is online.
    try {
      core.checkLoginAllowed(checked.key, { address: link.outlet.address, account: null });
    } catch (error) {
      // An account online elsewhere is still an account: the answer is its password
      // step (then `already_logged_in`, to take it over), never "taken", which sends
      // people to the nickname prompt to type their password there.
      if (
        error instanceof ChatError &&
        error.code === 'nick_taken' &&
        (await core.store.accounts.findByKey(checked.key))
      )
        throw new ChatError('nick_reserved');
      throw error;
    }
    if (await core.store.accounts.findByKey(checked.key)) throw new ChatError('nick_reserved');
    await refuseLookalike(core.store.accounts, checked.name, checked.key);
    if (link.isClosed) throw new ChatError('bad_request', 'The connection closed during login');
    return readyData(core, await core.login(link, checked.name, checked.key, null));
  },
});

export const quitCommand = defineCommand({
  phase: 'any',
  info: {
    name: 'quit',
    aliases: ['logout', 'bye'],
    bare: ['quit'],
    args: [{ name: 'message', kind: 'text', optional: true }],
    summary: 'leave cleanly; others see it',
    group: 'session',
  },
  args: z.object({ message: ruledText('reason', z.string().max(1000)).optional() }),
  async handle({ core, link, session, after }, { message }) {
    // Messages already on their way (stamped before this quit) reach the session first:
    // fanned out after its end they would miss it, and its next login's replay starts at
    // this logout, after them.
    if (session) await core.nodes.drain();
    after(() => {
      if (session) core.endSession(session, 'quit', message);
      link.outlet.close('quit', 'Goodbye');
      core.detach(link);
    });
    return {};
  },
});

/** Keepalive in either direction; any request counts as life, this one does nothing else. */
export const pingCommand = defineCommand({
  phase: 'any',
  info: {
    name: 'ping',
    aliases: [],
    bare: [],
    args: [],
    summary: 'check that the server answers',
    group: 'session',
  },
  args: z.object({}),
  handle() {
    return {};
  },
});
