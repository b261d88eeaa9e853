import { Box, Text } from 'ink';
import type { ChatLine } from './chat-state.js';
import { visibleRows } from './render-lines.js';

export interface MessagePaneProps {
  readonly lines: readonly ChatLine[];
  readonly width: number;
  readonly height: number;
  /** Rows scrolled up from the newest line. */
  readonly scroll: number;
}

/** The scrollback of one window: wraps lines itself so it knows exactly what fits. */
export function MessagePane({ lines, width, height, scroll }: MessagePaneProps) {
  const { rows } = visibleRows(lines, width, height, scroll);
  const blank = Math.max(0, height - rows.length);
  return (
    <Box flexDirection="column" height={height} width={width} overflow="hidden">
      {Array.from({ length: blank }, (_, index) => (
        <Text key={`blank-${index}`}> </Text>
      ))}
      {rows.map((row, index) => (
        <Text key={index} wrap="truncate-end">
          {row}
        </Text>
      ))}
    </Box>
  );
}
