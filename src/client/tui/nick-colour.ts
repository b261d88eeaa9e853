import chalk, { type ChalkInstance } from 'chalk';

// Colours readable on both dark and light backgrounds; red is kept for errors and
// inverse for mentions, so neither is used for nicknames.
const PALETTE: readonly ChalkInstance[] = [
  chalk.cyan,
  chalk.green,
  chalk.yellow,
  chalk.blue,
  chalk.magenta,
  chalk.cyanBright,
  chalk.greenBright,
  chalk.yellowBright,
  chalk.blueBright,
  chalk.magentaBright,
];

/** The same nickname gets the same colour in every session (FNV-1a of its folded form). */
export function nickColourIndex(nick: string): number {
  let hash = 0x811c9dc5;
  for (const char of nick.normalize('NFKC').toLowerCase()) {
    hash ^= char.codePointAt(0)!;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % PALETTE.length;
}

export function colourNick(nick: string): string {
  return PALETTE[nickColourIndex(nick)]!(nick);
}
