import type { Store } from '../../store/store.js';
import { ChatError } from '../errors.js';
import type { Session } from '../session.js';

/** Blocked nickname key → the spelling the blocker used. */
export type BlockList = Map<string, string>;

/**
 * The list of every session that blocks nobody, shared rather than a map per session;
 * a session gets its own at its first block. Adding to it is a bug, so it refuses.
 */
export const NO_BLOCKS: BlockList = new (class extends Map<string, string> {
  override set(): never {
    throw new Error('NO_BLOCKS is shared: give the session its own list first');
  }
})();

/**
 * Who blocks whom. Delivery filters synchronously for every recipient of every message, so
 * blocks live in memory: a guest's only in its session, an account's also in the store
 * (loaded at start) and shared with its session while it is online.
 */
export class BlockRegistry {
  private readonly byAccount = new Map<number, BlockList>();

  constructor(private readonly store: Store) {}

  async load(): Promise<void> {
    for (const block of await this.store.blocks.list())
      this.listOfAccount(block.accountId).set(block.blockedKey, block.blockedName);
  }

  /** Gives a new session its account's block list (a guest starts with none). */
  sessionStarted(session: Session): void {
    if (session.account) session.blocks = this.listOfAccount(session.account.id);
  }

  /**
   * A guest just registered: the blocks it made as a guest become the account's, stored
   * and shared with the session, so they hold offline and after restarts too.
   */
  async accountCreated(session: Session, now: number): Promise<void> {
    if (!session.account) return;
    const accountId = session.account.id;
    for (const [blockedKey, blockedName] of session.blocks)
      await this.store.blocks.add({ accountId, blockedKey, blockedName }, now);
    const list = this.listOfAccount(accountId);
    for (const [key, name] of session.blocks) list.set(key, name);
    session.blocks = list;
  }

  /** True when the (possibly offline) account does not want messages from `senderKey`. */
  accountBlocks(accountId: number, senderKey: string): boolean {
    return this.byAccount.get(accountId)?.has(senderKey) ?? false;
  }

  async block(session: Session, key: string, name: string, now: number): Promise<void> {
    if (key === session.nickKey) throw new ChatError('cannot_block_self');
    if (session.blocks.has(key))
      throw new ChatError('already_blocked', `You already block ${name}`);
    if (session.account)
      await this.store.blocks.add(
        { accountId: session.account.id, blockedKey: key, blockedName: name },
        now,
      );
    if (session.blocks === NO_BLOCKS) session.blocks = new Map();
    session.blocks.set(key, name);
  }

  async unblock(session: Session, key: string, name: string): Promise<void> {
    if (!session.blocks.has(key)) throw new ChatError('not_blocked', `You do not block ${name}`);
    if (session.account) await this.store.blocks.remove(session.account.id, key);
    session.blocks.delete(key);
  }

  /**
   * Another node changed an account's blocks: read them again. The list is refilled in
   * place, so a session of that account online here sees the change at once.
   */
  async reloadAccount(accountId: number): Promise<void> {
    const blocks = (await this.store.blocks.list()).filter(
      (block) => block.accountId === accountId,
    );
    const list = this.listOfAccount(accountId);
    list.clear();
    for (const block of blocks) list.set(block.blockedKey, block.blockedName);
  }

  /** An account was deleted (the store removed its blocks): drop them from memory. */
  forgetAccount(accountId: number): void {
    this.byAccount.delete(accountId);
  }

  private listOfAccount(accountId: number): BlockList {
    let list = this.byAccount.get(accountId);
    if (!list) this.byAccount.set(accountId, (list = new Map()));
    return list;
  }
}
