import { Box, Text } from 'ink';
import { columns, truncate, visibleInput } from './text-width.js';

export interface InputLineProps {
  /** What the line is for: `[#lobby]`, or a prompt's question. */
  readonly label: string;
  readonly chars: readonly string[];
  readonly cursor: number;
  readonly width: number;
  /** Passwords: one `*` per character, never the text. */
  readonly masked?: boolean;
}

/**
 * The one line people type into. Nothing else is ever printed here: incoming messages go
 * to the message pane above it, so half-typed text is never disturbed.
 */
export function InputLine({ label, chars, cursor, width, masked = false }: InputLineProps) {
  const shownLabel = truncate(label, Math.max(4, Math.floor(width / 2)));
  const room = Math.max(1, width - columns(shownLabel) - 1);
  const shown = masked ? chars.map(() => '*') : chars;
  const view = visibleInput(shown, cursor, room);
  return (
    <Box width={width} height={1}>
      <Text wrap="truncate-end">
        <Text bold>{shownLabel}</Text> {view.before}
        <Text inverse>{view.atCursor}</Text>
        {view.after}
      </Text>
    </Box>
  );
}
