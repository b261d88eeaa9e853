import unhomoglyph from 'unhomoglyph';
import type { AccountStore } from '../../store/store.js';
import { ChatError } from '../errors.js';
import { nameKey } from '../names.js';

/**
 * Names the server itself speaks as, which nobody may take or imitate: the IRC gateway's
 * service user and the console's actor.
 */
export const RESERVED_NAMES: readonly string[] = ['Confab', 'console', 'server'];

/**
 * A name's confusable skeleton (Unicode TR39 section 4): decomposed, every character replaced
 * by its prototype from Unicode's confusables table, decomposed again; then folded like a
 * name key, because Confab's names are case-insensitive. Two names with one skeleton look
 * alike to people (`admin`, `аdmin` with a Cyrillic а, `admın` with a dotless ı), though
 * their keys differ.
 *
 * The table is Unicode 13.0's (the `unhomoglyph` package, Matrix's choice for the same
 * job); the characters added since are rare in names and map to themselves here.
 */
export function nameSkeleton(name: string): string {
  return nameKey(unhomoglyph(nameKey(name).normalize('NFD')).normalize('NFD')).normalize('NFC');
}

const reservedSkeletons = new Map(RESERVED_NAMES.map((name) => [nameSkeleton(name), name]));

/** The reserved name `name` is, or looks like; undefined when it is neither. */
export function reservedLookalike(name: string): string | undefined {
  return reservedSkeletons.get(nameSkeleton(name));
}

/**
 * Refuses `name` (key `key`) as a new guest nickname or account when it looks like a
 * reserved name or another account's (`nick_confusable`, with the look-alike). The account
 * that is `key` itself does not count: logging in as it is the password step's business.
 */
export async function refuseLookalike(
  accounts: AccountStore,
  name: string,
  key: string,
): Promise<void> {
  const reserved = reservedLookalike(name);
  if (reserved)
    throw new ChatError(
      'nick_confusable',
      `"${name}" looks like ${reserved}, a name the server uses: choose another nickname`,
      { like: reserved },
    );
  const account = await accounts.findBySkeleton(nameSkeleton(name));
  if (account && account.nameKey !== key)
    throw new ChatError(
      'nick_confusable',
      `"${name}" looks like the account ${account.name}: choose another nickname`,
      { like: account.name },
    );
}
