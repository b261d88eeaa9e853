import { z } from 'zod';
import { recordSecurityEvent } from '../admin/security-events.js';
import { StoreConflictError } from '../../store/store.js';
import { accountRef } from '../accounts/login.js';
import { checkPassword } from '../accounts/lockout.js';
import { checkNewPassword, hashPassword } from '../accounts/passwords.js';
import type { ChatCore } from '../chat-core.js';
import { ChatError } from '../errors.js';
import type { Session } from '../session.js';
import { defineCommand } from './command.js';
import { nameSkeleton, refuseLookalike } from '../accounts/confusables.js';

/** Re-checks the password of the account a session is logged in as (lockout rules apply). */
async function confirmOwnPassword(core: ChatCore, session: Session, password: string) {
  const ref = session.account;
  if (!ref) throw new ChatError('account_required');
  const account = await core.store.accounts.findById(ref.id);
  if (!account) throw new ChatError('account_required');
  return checkPassword({
    core,
    nickKey: session.nickKey,
    address: session.link?.outlet.address ?? 'unknown',
    account,
    password,
    failure: 'wrong_password',
  });
}

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
  args: z.object({ password: z.string().max(1024) }),
  async handle({ core, session }, { password }) {
    if (session.account) throw new ChatError('already_registered');
    checkNewPassword(password, session.nick);
    // A guest name from before look-alikes were refused, or an account made meanwhile.
    await refuseLookalike(core.store.accounts, session.nick, session.nickKey);
    const passwordHash = await hashPassword(password);
    const account = await core.store.accounts
      .create({
        name: session.nick,
        nameKey: session.nickKey,
        nameSkeleton: nameSkeleton(session.nickKey),
        passwordHash,
        role: 'user',
        createdAt: core.clock.now(),
      })
      .catch((error: unknown) => {
        throw error instanceof StoreConflictError ? new ChatError('nick_taken') : error;
      });
    session.account = accountRef(account);
    await core.accountChanged(session);
    await core.blocks.accountCreated(session, core.clock.now());
    core.logger.info({ event: 'register', account: account.id, nick: account.name }, 'register');
    recordSecurityEvent(core, 'register', {
      target: account.name,
      ...(session.link && { address: session.link.outlet.address }),
    });
    return { nick: session.nick, account: true, role: account.role };
  },
});

export const deregisterCommand = defineCommand({
  phase: 'session',
  info: {
    name: 'deregister',
    aliases: ['de-register'],
    bare: ['de-register'],
    args: [
      { name: 'password', kind: 'secret', prompt: 'Your password' },
      {
        name: 'confirm',
        kind: 'confirm',
        prompt: 'Delete your account and everything stored for it? This cannot be undone.',
      },
    ],
    summary: 'delete your account and its data (you stay on as a guest)',
    group: 'account',
  },
  // `confirm` left out is a deletion not confirmed (`confirmation_required`), not a
  // malformed request: nothing is deleted without an explicit `true`.
  args: z.object({ password: z.string().max(1024), confirm: z.boolean().optional() }),
  async handle({ core, session }, { password, confirm }) {
    if (!session.account) throw new ChatError('account_required');
    if (session.account.role === 'admin')
      throw new ChatError('not_authorized', 'The admin account cannot be deleted');
    if (confirm !== true) throw new ChatError('confirmation_required');
    const account = await confirmOwnPassword(core, session, password);
    await core.store.accounts.delete(account.id);
    // Here and on every other node: the id may be handed out again.
    core.nodes.accountDeleted(account.id);
    session.account = null;
    await core.accountChanged(session);
    // Blocks were the account's list; the guest keeps a copy for this session only.
    session.blocks = new Map(session.blocks);
    core.logger.info(
      { event: 'deregister', account: account.id, nick: account.name },
      'deregister',
    );
    recordSecurityEvent(core, 'deregister', {
      target: account.name,
      ...(session.link && { address: session.link.outlet.address }),
    });
    return { nick: session.nick, account: false, role: 'guest' };
  },
});

export const passwdCommand = defineCommand({
  phase: 'session',
  info: {
    name: 'passwd',
    aliases: [],
    bare: [],
    args: [
      { name: 'oldPassword', kind: 'secret', prompt: 'Current password' },
      { name: 'newPassword', kind: 'secret', repeat: true, prompt: 'New password' },
    ],
    summary: 'change your password',
    group: 'account',
  },
  args: z.object({ oldPassword: z.string().max(1024), newPassword: z.string().max(1024) }),
  async handle({ core, session }, { oldPassword, newPassword }) {
    if (!session.account) throw new ChatError('account_required');
    // The new one first: a refused new password should not cost a lockout attempt.
    checkNewPassword(newPassword, session.nick);
    const account = await confirmOwnPassword(core, session, oldPassword);
    await core.store.accounts.setPasswordHash(account.id, await hashPassword(newPassword));
    core.logger.info({ event: 'passwd', account: account.id }, 'password changed');
    recordSecurityEvent(core, 'passwd', {
      target: account.name,
      ...(session.link && { address: session.link.outlet.address }),
    });
    return { changed: true };
  },
});

export const lockoutsCommand = defineCommand({
  phase: 'session',
  admin: true,
  info: {
    name: 'lockouts',
    aliases: [],
    bare: [],
    args: [],
    summary: 'nicknames and addresses locked out now after failed logins',
    group: 'admin',
  },
  args: z.object({}),
  async handle({ core }) {
    const now = core.clock.now();
    const { pairs, addresses } = await core.store.loginGuard.lockedAt(now);
    const left = (until: number) => Math.ceil((until - now) / 1000);
    return {
      pairs: pairs.map((pair) => ({
        nick: pair.nameKey,
        address: pair.address,
        secondsLeft: left(pair.lockedUntil),
      })),
      addresses: addresses.map((entry) => ({
        address: entry.address,
        failures: entry.failures,
        secondsLeft: left(entry.lockedUntil),
      })),
    };
  },
});
