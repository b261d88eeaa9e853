import { Box, Text } from 'ink';
import type { ChatWindow } from './chat-state.js';
import { colourNick } from './nick-colour.js';

/** The bar above a room's messages: its name and topic (irssi's and WeeChat's title bar). */
export function TopicBar({ window, width }: { window: ChatWindow; width: number }) {
  const topic = window.topic ? window.topic : '(no topic: /topic TEXT sets one)';
  return (
    <Box width={width} height={1}>
      <Text inverse wrap="truncate-end">
        {` #${window.name} — ${topic}`.padEnd(width)}
      </Text>
    </Box>
  );
}

export const MEMBER_PANE_WIDTH = 18;

/**
 * The member list beside the messages: a room's members (as the server listed them), the
 * people online for the lobby, the people of a private conversation.
 */
export function MemberPane({
  names,
  height,
}: {
  names: readonly string[] | undefined;
  height: number;
}) {
  const shown = names === undefined ? [] : [...names].sort((a, b) => a.localeCompare(b));
  const fits = Math.max(0, height - 1);
  const rows =
    shown.length > fits ? [...shown.slice(0, fits - 1), `+${shown.length - fits + 1} more`] : shown;
  return (
    <Box flexDirection="column" width={MEMBER_PANE_WIDTH} height={height} paddingLeft={1}>
      <Text bold wrap="truncate-end">
        {names === undefined ? 'Members…' : `Members (${shown.length})`}
      </Text>
      {rows.map((name, index) => (
        <Text key={index} wrap="truncate-end">
          {index === rows.length - 1 && name.startsWith('+') && shown.length > fits
            ? name
            : colourNick(name)}
        </Text>
      ))}
    </Box>
  );
}
