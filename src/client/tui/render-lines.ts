import chalk from 'chalk';
import stringWidth from 'string-width';
import wrapAnsi from 'wrap-ansi';
import { clock } from '../format.js';
import type { ChatLine, NoticeLevel } from './chat-state.js';
import { colourNick } from './nick-colour.js';

const DELIVERY_MARK = {
  sending: chalk.dim(' …'),
  sent: chalk.dim(' ✓'),
  failed: chalk.red(' ✗ not sent'),
  received: '',
} as const;

/**
 * Each kind of notice has its own mark and colour, so an error (`!!`, red) never looks like
 * an announcement (`**`), a server notice (`::`), a file offer (`>>`) or a reply (`  `).
 */
const NOTICE_LOOK: Readonly<Record<NoticeLevel, { mark: string; text: (text: string) => string }>> =
  {
    event: { mark: chalk.dim('--'), text: (text) => chalk.dim(text) },
    announce: { mark: chalk.magenta.bold('**'), text: (text) => chalk.magenta.bold(text) },
    notice: { mark: chalk.cyan('::'), text: (text) => chalk.cyan(text) },
    file: { mark: chalk.green('>>'), text: (text) => chalk.green(text) },
    info: { mark: '  ', text: (text) => text },
    error: { mark: chalk.red.bold('!!'), text: (text) => chalk.red(text) },
  };

/** A line in two parts: what leads (time, mark or sender) and the text, wrapped under itself. */
export interface StyledLine {
  readonly lead: string;
  readonly body: string;
}

/** One line as styled text (ANSI), before wrapping. */
export function styleLine(line: ChatLine): StyledLine {
  if (line.kind === 'notice') {
    // A reply's later rows line up under its first, without a time of their own.
    const time = line.continued ? ' '.repeat(8) : chalk.dim(clock(line.ts));
    const look = NOTICE_LOOK[line.level];
    return { lead: `${time} ${look.mark} `, body: look.text(line.text) };
  }
  const time = chalk.dim(clock(line.ts));
  const replay = line.replay ? chalk.dim.italic(`(${line.replay}) `) : '';
  const nick = line.own ? chalk.bold(line.from) : colourNick(line.from);
  const to = line.to && line.to.length > 1 ? chalk.dim(` → ${line.to.join(', ')}`) : '';
  const text = line.mention ? chalk.inverse.bold(line.text) : line.text;
  return {
    lead: `${time} ${replay}<${nick}${to}> `,
    body: `${text}${DELIVERY_MARK[line.delivery]}`,
  };
}

/**
 * The screen rows a line takes at `width` columns (wide characters measured right): the
 * text wraps in the columns after its lead, and wrapped rows are indented under the text,
 * not under the time. A lead too wide for the screen (a narrow terminal) wraps as one.
 */
export function wrapLine(styled: StyledLine, width: number): string[] {
  const columns = Math.max(1, width);
  const indent = stringWidth(styled.lead);
  if (columns - indent < 10)
    return wrapAnsi(styled.lead + styled.body, columns, { hard: true, trim: false }).split('\n');
  const rows = wrapAnsi(styled.body, columns - indent, { hard: true, trim: false }).split('\n');
  const pad = ' '.repeat(indent);
  return rows.map((row, index) => (index === 0 ? styled.lead : pad) + row);
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
