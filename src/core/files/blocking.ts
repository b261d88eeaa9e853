import type { ChatCore } from '../chat-core.js';
import type { Session } from '../session.js';

/**
 * Whether a recipient refuses files from `sender` because it blocks them: checked on the
 * online session when there is one (a guest's blocks live only there), else on the
 * offline account's stored blocks.
 */
export function refusesFilesFrom(
  core: ChatCore,
  recipient: { readonly online: Session | undefined; readonly accountId: number | undefined },
  sender: Session,
): boolean {
  if (recipient.online) return core.isBlocking(recipient.online, sender.nickKey);
  return (
    recipient.accountId !== undefined &&
    core.blocks.accountBlocks(recipient.accountId, sender.nickKey)
  );
}
