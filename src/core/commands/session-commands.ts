import { z } from 'zod';
import { hashPassword, passwordProblem, verifyPassword } from '../accounts/passwords.js';
import { StoreConflictError } from '../../store/store.js';
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
  }),
  async handle({ core, link, session: current }, { nick, password }) {
    const checked = checkName(nick);
    if (!checked.ok) throw new ChatError('invalid_nick', checked.reason);
    if (current) {
      if (current.account)
        throw new ChatError('already_registered', 'An account keeps its nickname');
      if (await core.store.accounts.findByKey(checked.key)) throw new ChatError('nick_reserved');
      const old = current.nick;
      core.rename(current, checked.name, checked.key);
      core.publish({ kind: 'everyone' }, { ev: 'renamed', from: old, to: current.nick });
      return { nick: current.nick, session: current.id, account: false, role: 'guest' };
    }
    core.checkLoginAllowed(checked.key);
    const account = await core.store.accounts.findByKey(checked.key);
    if (account && password === undefined) throw new ChatError('nick_reserved');
    if (password !== undefined) {
      const valid = account ? await verifyPassword(account.passwordHash, password) : false;
      if (!account || !valid) throw new ChatError('login_failed');
    }
    if (link.isClosed) throw new ChatError('bad_request', 'The connection closed during login');
    const session = core.login(
      link,
      account ? account.name : checked.name,
      checked.key,
      account ? { id: account.id, name: account.name, role: account.role } : null,
    );
    return {
      nick: session.nick,
      session: session.id,
      account: session.account !== null,
      role: session.account?.role ?? 'guest',
    };
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
  args: z.object({ message: z.string().max(1000).optional() }),
  handle({ core, link, session, after }, { message }) {
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

export const registerCommand = defineCommand({
  phase: 'session',
  info: {
    name: 'register',
    aliases: [],
    bare: ['register'],
    args: [{ name: 'password', kind: 'secret', repeat: true, prompt: 'New password' }],
    summary: 'make your current nickname an account',
    group: 'account',
  },
  args: z.object({ password: z.string() }),
  async handle({ core, session }, { password }) {
    if (session.account) throw new ChatError('already_registered');
    const problem = passwordProblem(password);
    if (problem) throw new ChatError('weak_password', problem);
    const passwordHash = await hashPassword(password);
    const account = await core.store.accounts
      .create({
        name: session.nick,
        nameKey: session.nickKey,
        passwordHash,
        role: 'user',
        createdAt: core.clock.now(),
      })
      .catch((error: unknown) => {
        throw error instanceof StoreConflictError ? new ChatError('nick_taken') : error;
      });
    session.account = { id: account.id, name: account.name, role: account.role };
    return { nick: session.nick, account: true };
  },
});
