/**
 * Fixed lengths of the protocol that are not parameters (those are in `hello.limits`):
 * the server checks them, a client or gateway may announce them (IRC's AWAYLEN).
 */

/** Longest away message, in characters. */
export const AWAY_MAX_LENGTH = 200;
