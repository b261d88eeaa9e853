import type { ChatCore } from '../chat-core.js';
import { checkName, NAME_MAX_LENGTH } from '../names.js';
import type { Session } from '../session.js';

/** A recipient online now, on this node or another. */
export interface LiveRecipient {
  readonly id: string;
  readonly nick: string;
  readonly accountId: number | null;
  /**
   * A guest's key (`Session.guestKey`), stored with its copy: if its node dies, the node
   * it resumes on reads its private messages back by it. Undefined for an account.
   */
  readonly guest: string | undefined;
}

export interface PrivateRecipients {
  /** Online now (on any node): delivered at once. */
  readonly live: readonly LiveRecipient[];
  /** Offline accounts with room in their inbox: stored for their next login. */
  readonly stored: readonly { readonly id: number; readonly name: string }[];
  /** Recipients who block the sender: the sender is told it was delivered or stored. */
  readonly hiddenLive: readonly string[];
  readonly hiddenStored: readonly string[];
  /** Not a user online nor an account (an offline guest is gone). */
  readonly unknown: readonly string[];
  /** Offline accounts whose unread messages reached `inbox.maxUnread`. */
  readonly full: readonly string[];
}

/** A session of this node as a live recipient (one literal: one hidden class for all). */
function recipientOf(online: Session): LiveRecipient {
  const account = online.account;
  return {
    id: online.id,
    nick: online.nick,
    accountId: account?.id ?? null,
    // Read only for a guest: reading it makes one (see `Session.guestKey`).
    guest: account === null ? online.guestKey : undefined,
  };
}

/** Shared by every result with no recipient of a kind: most lists are empty. */
const NONE: readonly never[] = Object.freeze([]);

function noRecipients(): {
  live: LiveRecipient[];
  stored: { id: number; name: string }[];
  hiddenLive: string[];
  hiddenStored: string[];
  unknown: string[];
  full: string[];
} {
  return { live: [], stored: [], hiddenLive: [], hiddenStored: [], unknown: [], full: [] };
}

/**
 * A name made only of ASCII letters, digits, `_` and `-`, within the length limit: valid,
 * and its key is its lower case (NFKC leaves ASCII as it is). Most names are such, so the
 * message path finds their key without `checkName`'s normalising and code-point counting.
 */
const PLAIN_NAME = new RegExp(`^[A-Za-z0-9_-]{1,${NAME_MAX_LENGTH}}$`);

/** The key of a recipient's name, or undefined for a name no one can have. */
export function recipientKey(name: string): string | undefined {
  if (PLAIN_NAME.test(name)) return name.toLowerCase();
  const checked = checkName(name);
  return checked.ok ? checked.key : undefined;
}

/**
 * The recipients sorted without waiting, when every name is a user on this node (or no
 * name at all): the usual private message, which then needs no promise to resolve its
 * recipients. Undefined when a name must be looked up elsewhere. Lists are made only when
 * something goes in them (the usual message has one live recipient and nothing else).
 */
export function resolveLocalRecipients(
  core: ChatCore,
  sender: Session,
  names: readonly string[],
): PrivateRecipients | undefined {
  let live: LiveRecipient[] | null = null;
  let hiddenLive: string[] | null = null;
  let unknown: string[] | null = null;
  for (let index = 0; index < names.length; index++) {
    const name = names[index]!;
    const key = recipientKey(name);
    if (key === undefined) {
      (unknown ??= []).push(name);
      continue;
    }
    const online = core.findSession(key);
    if (!online) return undefined;
    // A name given twice counts once.
    if (live?.some((target) => target.id === online.id)) continue;
    if (hiddenLive?.includes(online.nick)) continue;
    if (core.isBlocking(online, sender.nickKey)) (hiddenLive ??= []).push(online.nick);
    else {
      const target = recipientOf(online);
      // A literal holds one element exactly; `push` on an empty array reserves 16 more,
      // and this list waits for the commit with the message.
      if (live === null) live = [target];
      else live.push(target);
    }
  }
  return {
    live: live ?? NONE,
    stored: NONE,
    hiddenLive: hiddenLive ?? NONE,
    hiddenStored: NONE,
    unknown: unknown ?? NONE,
    full: NONE,
  };
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
      else result.live.push(recipientOf(online));
      continue;
    }
    const remote = await core.findRemote(checked.key);
    if (remote) {
      // Another node's session: an account's blocks are known here too; a guest's are
      // checked where it is, when the message is delivered (blocking is silent).
      const { session: id, nick, accountId, guest } = remote;
      if (accountId !== null && core.blocks.accountBlocks(accountId, sender.nickKey))
        result.hiddenLive.push(nick);
      else result.live.push({ id, nick, accountId, guest: accountId === null ? guest : undefined });
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
