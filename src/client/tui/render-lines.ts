import chalk from 'chalk';
import wrapAnsi from 'wrap-ansi';
import { clock } from '../format.js';
import type { ChatLine } from './chat-state.js';
import { colourNick } from './nick-colour.js';

const DELIVERY_MARK = {
  sending: chalk.dim(' …'),
  sent: chalk.dim(' ✓'),
  failed: chalk.red(' ✗ not sent'),
  received: '',
} as const;

/** One line as styled text (ANSI), before wrapping. */
export function styleLine(line: ChatLine): string {
  const time = chalk.dim(clock(line.ts));
  if (line.kind === 'notice') {
    switch (line.level) {
      case 'event':
        return `${time} ${chalk.dim('--')} ${chalk.dim(line.text)}`;
      case 'server':
        return `${time} ${chalk.yellow.bold('!!')} ${chalk.yellow(line.text)}`;
      case 'error':
        return `${time} ${chalk.red('!!')} ${chalk.red(line.text)}`;
      case 'info':
        return `${time} ${chalk.dim('->')} ${line.text}`;
    }
  }
  const replay = line.replay ? chalk.dim.italic(`(${line.replay}) `) : '';
  const nick = line.own ? chalk.bold(line.from) : colourNick(line.from);
  const to = line.to && line.to.length > 1 ? chalk.dim(` → ${line.to.join(', ')}`) : '';
  const text = line.mention ? chalk.inverse.bold(line.text) : line.text;
  return `${time} ${replay}<${nick}${to}> ${text}${DELIVERY_MARK[line.delivery]}`;
}

/** The screen rows a line takes at `width` columns (wide characters measured right). */
export function wrapLine(styled: string, width: number): string[] {
  return wrapAnsi(styled, Math.max(1, width), { hard: true, trim: false }).split('\n');
}

/**
 * The rows to show in a pane of `height` rows, `scroll` rows up from the bottom, and the
 * largest scroll that still shows something.
 */
export function visibleRows(
  lines: readonly ChatLine[],
  width: number,
  height: number,
  scroll: number,
): { rows: string[]; maxScroll: number } {
  const rows: string[] = [];
  // Only wrap as many lines (from the end) as the view can reach.
  const needed = height + scroll;
  for (let index = lines.length - 1; index >= 0 && rows.length < needed + height; index -= 1)
    rows.unshift(...wrapLine(styleLine(lines[index]!), width));
  const maxScroll = Math.max(0, rows.length - height);
  const clamped = Math.min(scroll, maxScroll);
  const end = rows.length - clamped;
  return { rows: rows.slice(Math.max(0, end - height), end), maxScroll };
}
