import type { ClosingCode } from '../../protocol/closing.js';
import type { Account } from '../../store/store.js';
import type { ChatCore } from '../chat-core.js';
import { ChatError } from '../errors.js';
import type { LeaveReason } from '../events.js';
import { checkName } from '../names.js';
import type { Session } from '../session.js';

/** Someone an admin acts on: online, registered, or both. */
export interface Target {
  readonly name: string;
  readonly key: string;
  readonly session: Session | undefined;
  readonly account: Account | undefined;
}

/** Finds a user by name, online or registered; a name that is neither is a clear error. */
export async function findTarget(core: ChatCore, name: string): Promise<Target> {
  const checked = checkName(name);
  if (!checked.ok) throw new ChatError('unknown_user', `No user called "${name}"`, { name });
  const session = core.findSession(checked.key);
  const account = await core.store.accounts.findByKey(checked.key);
  if (!session && !account)
    throw new ChatError('unknown_user', `No user called "${name}" is online or registered`, {
      name,
    });
  return {
    name: session?.nick ?? account?.name ?? checked.name,
    key: checked.key,
    session,
    account,
  };
}

export function findOnlineTarget(core: ChatCore, name: string): Session {
  const checked = checkName(name);
  const session = checked.ok ? core.findSession(checked.key) : undefined;
  if (!session) throw new ChatError('unknown_user', `Nobody called "${name}" is online`, { name });
  return session;
}

/**
 * Admins cannot be acted on by anyone but another admin, and nobody acts on themselves
 * (an admin banning their own account would lock themselves out).
 */
export function checkMayActOn(
  actor: Session,
  target: { key: string; session?: Session | undefined; account?: Account | undefined },
  verb: string,
): void {
  if (target.key === actor.nickKey || target.session === actor)
    throw new ChatError('invalid_target', `You cannot ${verb} yourself`);
  const targetIsAdmin = target.session?.isAdmin === true || target.account?.role === 'admin';
  if (targetIsAdmin && !actor.isAdmin)
    throw new ChatError('not_authorized', `Only an admin may ${verb} an admin`);
}

/**
 * Ends a session from the server side: everyone sees it leave with `reason`, and its
 * connection (if it has one) gets `closing` with `code` and `message`.
 */
export function removeSession(
  core: ChatCore,
  session: Session,
  leave: { reason: LeaveReason; message?: string },
  closing: { code: ClosingCode; message: string },
): void {
  const link = session.link;
  core.endSession(session, leave.reason, leave.message);
  if (link) {
    link.outlet.close(closing.code, closing.message);
    core.detach(link);
  }
}
