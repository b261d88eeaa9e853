import type { Account, UnreportedFailure } from '../../store/store.js';
import type { ChatCore } from '../chat-core.js';
import { ChatError } from '../errors.js';
import type { AccountRef, Link, Session } from '../session.js';
import { checkPassword } from './lockout.js';
import { recordSecurityEvent } from '../admin/security-events.js';

/** What a successful `nick` or `resume` replies. */
export interface ReadyData {
  readonly nick: string;
  readonly session: string;
  readonly account: boolean;
  readonly role: 'guest' | 'user' | 'admin';
  /** Present the next time: a single-use token for `resume`. */
  readonly resumeToken: string;
}

export function readyData(core: ChatCore, session: Session): ReadyData {
  return {
    nick: session.nick,
    session: session.id,
    account: session.account !== null,
    role: session.account?.role ?? 'guest',
    resumeToken: core.resume.issue(session),
  };
}

export function accountRef(account: Account): AccountRef {
  return { id: account.id, name: account.name, role: account.role };
}

/**
 * Logs an account in with its password (the `nick` step with a password). One session
 * per account: a second login is refused with `already_logged_in` unless `takeover` asks
 * to end the first one. A session that is away (its connection lost) is replaced without
 * asking: its owner is evidently here.
 */
export async function passwordLogin(
  core: ChatCore,
  link: Link,
  nickKey: string,
  password: string,
  takeover: boolean,
  seenMid?: number,
): Promise<{ session: Session; failures: UnreportedFailure[] }> {
  // Cheap refusals (shutting down, full) come before the costly hash.
  core.checkLoginAllowed(nickKey, undefined, core.findSession(nickKey));
  const found = await core.store.accounts.findByKey(nickKey);
  const account = await checkPassword({
    core,
    nickKey,
    address: link.outlet.address,
    account: found,
    password,
    failure: 'login_failed',
  });
  if (link.isClosed) throw new ChatError('bad_request', 'The connection closed during login');
  const existing = core.findSession(nickKey);
  // Bans and the server lock apply now that the account is known.
  core.checkLoginAllowed(
    nickKey,
    { address: link.outlet.address, account: accountRef(account) },
    existing,
  );
  if (existing && existing.link && !takeover) throw alreadyLoggedIn(account, existing.id);
  if (existing) {
    recordSecurityEvent(core, 'takeover', {
      target: account.name,
      address: link.outlet.address,
      details: existing.link
        ? `ended session ${existing.id}`
        : `replaced away session ${existing.id}`,
    });
    replaceSession(core, existing);
  }
  // The account may be online on another node: that node ends its session first.
  const elsewhere = existing ? undefined : await core.directory.find(nickKey);
  if (elsewhere && elsewhere.node !== core.bus.nodeId) {
    const remote = await core.nodes.whois(elsewhere);
    if (remote?.connected && !takeover) throw alreadyLoggedIn(account, elsewhere.session);
    recordSecurityEvent(core, 'takeover', {
      target: account.name,
      address: link.outlet.address,
      details: `${remote?.connected ? 'ended' : 'replaced away'} session ${elsewhere.session} on node ${elsewhere.node}`,
    });
    if (!(await core.nodes.takeover(elsewhere)))
      throw new ChatError('storage_failed', 'The node holding your session did not answer');
  }
  const session = await core.login(link, account.name, nickKey, accountRef(account), {
    seenMid,
    replacing: existing?.id ?? elsewhere?.session,
    replacingOn: elsewhere?.node,
  });
  const failures = await core.store.loginGuard.takeUnreported(account.id);
  return { session, failures };
}

function alreadyLoggedIn(account: Account, session: string): ChatError {
  return new ChatError(
    'already_logged_in',
    `${account.name} is logged in elsewhere (session ${session}); log in with takeover to end that session`,
    { session },
  );
}

/** Ends a session because its account logged in again elsewhere. */
export function replaceSession(core: ChatCore, old: Session): void {
  const message = 'Your account logged in from another connection';
  const link = old.link;
  if (!link) {
    core.endSession(old, 'replaced');
    return;
  }
  core.sendTo(old, { ev: 'notice', text: `${message}: this session ends` });
  core.endSession(old, 'replaced');
  link.outlet.close('replaced', message);
  core.detach(link);
}

/** Tells a user who just logged in of failed attempts on their account since last time. */
export function describeFailures(failures: readonly UnreportedFailure[]): string | undefined {
  if (failures.length === 0) return undefined;
  const total = failures.reduce((sum, failure) => sum + failure.count, 0);
  const from = failures
    .map(
      (failure) =>
        `${failure.address} (${failure.count}, last ${new Date(failure.lastAt).toISOString()})`,
    )
    .join(', ');
  return `${total} failed login attempt${total === 1 ? '' : 's'} on your account since your last login, from: ${from}`;
}
