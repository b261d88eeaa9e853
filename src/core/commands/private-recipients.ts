import type { ChatCore } from '../chat-core.js';
import { checkName } from '../names.js';
import type { Session } from '../session.js';

/** A recipient online now, on this node or another. */
export interface LiveRecipient {
  readonly id: string;
  readonly nick: string;
  readonly accountId: number | null;
}

export interface PrivateRecipients {
  /** Online now (on any node): delivered at once. */
  readonly live: LiveRecipient[];
  /** Offline accounts with room in their inbox: stored for their next login. */
  readonly stored: { readonly id: number; readonly name: string }[];
  /** Recipients who block the sender: the sender is told it was delivered or stored. */
  readonly hiddenLive: string[];
  readonly hiddenStored: string[];
  /** Not a user online nor an account (an offline guest is gone). */
  readonly unknown: string[];
  /** Offline accounts whose unread messages reached `inbox.maxUnread`. */
  readonly full: string[];
}

function noRecipients(): PrivateRecipients {
  return { live: [], stored: [], hiddenLive: [], hiddenStored: [], unknown: [], full: [] };
}

/**
 * The recipients sorted without waiting, when every name is a user on this node (or no
 * name at all): the usual private message, which then needs no promise to resolve its
 * recipients. Undefined when a name must be looked up elsewhere.
 */
export function resolveLocalRecipients(
  core: ChatCore,
  sender: Session,
  names: readonly string[],
): PrivateRecipients | undefined {
  const result = noRecipients();
  for (let index = 0; index < names.length; index++) {
    const name = names[index]!;
    const checked = checkName(name);
    if (!checked.ok) {
      result.unknown.push(name);
      continue;
    }
    const online = core.findSession(checked.key);
    if (!online) return undefined;
    // A name given twice counts once.
    if (result.live.some((target) => target.id === online.id)) continue;
    if (result.hiddenLive.includes(online.nick)) continue;
    if (core.isBlocking(online, sender.nickKey)) result.hiddenLive.push(online.nick);
    else
      result.live.push({ id: online.id, nick: online.nick, accountId: online.account?.id ?? null });
  }
  return result;
}

/** Sorts the names of a private message by how each recipient can be reached now. */
export async function resolvePrivateRecipients(
  core: ChatCore,
  sender: Session,
  names: readonly string[],
): Promise<PrivateRecipients> {
  const result = noRecipients();
  const seen = new Set<string>();
  for (const name of names) {
    const checked = checkName(name);
    if (!checked.ok) {
      result.unknown.push(name);
      continue;
    }
    if (seen.has(checked.key)) continue;
    seen.add(checked.key);
    const online = core.findSession(checked.key);
    if (online) {
      if (core.isBlocking(online, sender.nickKey)) result.hiddenLive.push(online.nick);
      else
        result.live.push({
          id: online.id,
          nick: online.nick,
          accountId: online.account?.id ?? null,
        });
      continue;
    }
    const remote = await core.findRemote(checked.key);
    if (remote) {
      // Another node's session: an account's blocks are known here too; a guest's are
      // checked where it is, when the message is delivered (blocking is silent).
      const { session: id, nick, accountId } = remote;
      if (accountId !== null && core.blocks.accountBlocks(accountId, sender.nickKey))
        result.hiddenLive.push(nick);
      else result.live.push({ id, nick, accountId });
      continue;
    }
    const account = await core.store.accounts.findByKey(checked.key);
    if (!account) {
      result.unknown.push(name);
      continue;
    }
    if (core.blocks.accountBlocks(account.id, sender.nickKey)) {
      result.hiddenStored.push(account.name);
      continue;
    }
    const unread = await core.store.inbox.unreadCount(account.id);
    if (unread >= core.params['inbox.maxUnread']) result.full.push(account.name);
    else result.stored.push({ id: account.id, name: account.name });
  }
  return result;
}
