import type { Parameters } from '../../config/parameters.js';
import { AWAY_MAX_LENGTH } from '../../protocol/limits.js';
import { NAME_MAX_LENGTH } from '../../protocol/names.js';

/** Targets one PRIVMSG or NOTICE may name (TARGMAX). */
export const MAX_MESSAGE_TARGETS = 4;
/** Messages one CHATHISTORY request may return. */
export const CHATHISTORY_MAX = 100;
/** Longest AWAY message kept: Confab's `/away` limit. */
export { AWAY_MAX_LENGTH };

/**
 * RPL_ISUPPORT tokens. CASEMAPPING is `rfc7613`: Confab folds names by NFKC then Unicode
 * lower case, which is what that mapping does for the names Confab allows (letters,
 * digits, `_` and `-`: none of the characters rfc1459 folds). Lengths count characters as
 * Confab does (docs/irc.md says where that differs from bytes).
 */
export function isupportTokens(params: Parameters, networkName: string): string[] {
  const messageMax = params['message.maxLength'];
  return [
    `AWAYLEN=${AWAY_MAX_LENGTH}`,
    'CASEMAPPING=rfc7613',
    `CHANLIMIT=#:`,
    'CHANMODES=b,,,nt',
    `CHANNELLEN=${NAME_MAX_LENGTH + 1}`,
    'CHANTYPES=#',
    `CHATHISTORY=${CHATHISTORY_MAX}`,
    `KICKLEN=${messageMax}`,
    'MSGREFTYPES=msgid',
    `NETWORK=${networkName.replace(/[\s,=]/g, '_') || 'Confab'}`,
    `NICKLEN=${NAME_MAX_LENGTH}`,
    'PREFIX=(o)@',
    'SAFELIST',
    `TARGMAX=JOIN:,KICK:1,LIST:,NAMES:1,NOTICE:${MAX_MESSAGE_TARGETS},PART:,PRIVMSG:${MAX_MESSAGE_TARGETS},WHOIS:1`,
    `TOPICLEN=${messageMax}`,
    'UTF8ONLY',
  ];
}
