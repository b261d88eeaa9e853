import type { ClosingCode } from '../../protocol/closing.js';
import type { Account } from '../../store/store.js';
import type { ChatCore } from '../chat-core.js';
import type { DirectoryEntry } from '../directory/directory.js';
import { ChatError } from '../errors.js';
import type { LeaveReason } from '../events.js';
import { checkName } from '../names.js';
import type { Session } from '../session.js';

/** Someone an admin acts on: online (on this node or another), registered, or both. */
export interface Target {
  readonly name: string;
  readonly key: string;
  /** Online on this node. */
  readonly session: Session | undefined;
  /** Online on another node. */
  readonly remote?: DirectoryEntry | undefined;
  readonly account: Account | undefined;
}

/** Someone online, on this node (`session`) or another (`remote`). */
export type OnlineTarget = Target & ({ session: Session } | { remote: DirectoryEntry });

/** Finds a user by name, online or registered; a name that is neither is a clear error. */
export async function findTarget(core: ChatCore, name: string): Promise<Target> {
  const checked = checkName(name);
  if (!checked.ok)
    throw new ChatError('unknown_user', `No user called "${name}"`, { unknown: [name] });
  const session = core.findSession(checked.key);
  const remote = session ? undefined : await core.findRemote(checked.key);
  const account = await core.store.accounts.findByKey(checked.key);
  if (!session && !remote && !account)
    throw new ChatError('unknown_user', `No user called "${name}" is online or registered`, {
      unknown: [name],
    });
  return {
    name: session?.nick ?? remote?.nick ?? account?.name ?? checked.name,
    key: checked.key,
    session,
    remote,
    account,
  };
}

/** Someone online now, on any node; anyone else is `unknown_user`. */
export async function findOnlineTarget(core: ChatCore, name: string): Promise<OnlineTarget> {
  const checked = checkName(name);
  if (checked.ok) {
    const session = core.findSession(checked.key);
    if (session) return { name: session.nick, key: session.nickKey, session, account: undefined };
    const remote = await core.findRemote(checked.key);
    if (remote)
      return {
        name: remote.nick,
        key: remote.nickKey,
        session: undefined,
        remote,
        account: undefined,
      };
  }
  throw new ChatError('unknown_user', `Nobody called "${name}" is online`, {
    unknown: [name],
  });
}

/**
 * Ends a target's session wherever it is: here at once, on another node by a control
 * message to that node (which tells everyone, as here).
 */
export async function removeTarget(
  core: ChatCore,
  target: Pick<Target, 'session' | 'remote'>,
  leave: { reason: 'kicked' | 'banned'; message?: string },
  closing: { code: ClosingCode; message: string },
): Promise<void> {
  if (target.session) await removeSession(core, target.session, leave, closing);
  else if (target.remote)
    core.nodes.control(target.remote, {
      type: 'end-session',
      session: target.remote.session,
      reason: leave.reason,
      ...(leave.message !== undefined && { message: leave.message }),
      close: closing,
    });
}

/**
 * Admins cannot be acted on by anyone but another admin, and nobody acts on themselves
 * (an admin banning their own account would lock themselves out).
 */
export function checkMayActOn(
  actor: Session,
  target: {
    key: string;
    session?: Session | undefined;
    remote?: DirectoryEntry | undefined;
    account?: Account | undefined;
  },
  verb: string,
): void {
  if (target.key === actor.nickKey || target.session === actor)
    throw new ChatError('invalid_target', `You cannot ${verb} yourself`);
  const targetIsAdmin =
    target.session?.isAdmin === true ||
    target.remote?.admin === true ||
    target.account?.role === 'admin';
  if (targetIsAdmin && !actor.isAdmin)
    throw new ChatError('not_authorized', `Only an admin may ${verb} an admin`);
}

/**
 * Ends a session from the server side: everyone sees it leave with `reason`, and its
 * connection (if it has one) gets `closing` with `code` and `message`. An account's
 * session first gets the messages already on their way (`ChatCore.drainBeforeEnd`): a
 * kick takes effect at its place in the conversation, and what was said before it is the
 * person's, shown now or replayed at their next login.
 */
export async function removeSession(
  core: ChatCore,
  session: Session,
  leave: { reason: LeaveReason; message?: string },
  closing: { code: ClosingCode; message: string },
): Promise<void> {
  if (!(await core.drainBeforeEnd(session))) return;
  const link = session.link;
  core.endSession(session, leave.reason, leave.message);
  if (link) {
    link.outlet.close(closing.code, closing.message);
    core.detach(link);
  }
}
