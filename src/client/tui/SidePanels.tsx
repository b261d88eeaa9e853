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
  // The heading takes a row; when the names do not fit, the last row says how many more.
  const fits = Math.max(0, height - 1);
  const listed = shown.length > fits ? shown.slice(0, Math.max(0, fits - 1)) : shown;
  const more = shown.length - listed.length;
  return (
    <Box flexDirection="column" width={MEMBER_PANE_WIDTH} height={height} paddingLeft={1}>
      <Text bold wrap="truncate-end">
        {names === undefined ? 'Members…' : `Members (${shown.length})`}
      </Text>
      {listed.map((name, index) => (
        <Text key={index} wrap="truncate-end">
          {colourNick(name)}
        </Text>
      ))}
      {more > 0 && <Text wrap="truncate-end">{`+${more} more`}</Text>}
    </Box>
  );
}
