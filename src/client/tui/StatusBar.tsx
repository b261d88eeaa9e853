import { Box, Text } from 'ink';
import type { ConnectionState } from './chat-state.js';
import { truncate } from './text-width.js';

export interface StatusBarProps {
  readonly server: string;
  readonly nick: string | undefined;
  readonly role: string;
  readonly window: string;
  readonly connection: ConnectionState;
  /** Other windows with unread lines: `2:#dev(3)`. */
  readonly activity: readonly {
    number: number;
    name: string;
    unread: number;
    mentioned: boolean;
  }[];
  readonly width: number;
}

export function connectionText(connection: ConnectionState): string {
  switch (connection.kind) {
    case 'connecting':
      return 'connecting…';
    case 'connected':
      return 'connected';
    case 'resuming':
      return 'resuming…';
    case 'reconnecting':
      return `reconnecting in ${connection.inSeconds}s (try ${connection.attempt})`;
    case 'offline':
      return `offline: ${connection.reason}`;
  }
}

/** Server, nickname, window, connection state and activity, always on one line. */
export function StatusBar({
  server,
  nick,
  role,
  window,
  connection,
  activity,
  width,
}: StatusBarProps) {
  const who = nick
    ? `${nick}${role === 'guest' ? ' (guest)' : role === 'admin' ? ' (admin)' : ''}`
    : '—';
  const act =
    activity.length === 0
      ? ''
      : ' [Act: ' +
        activity
          .map((item) => `${item.number}:${item.name}(${item.unread})${item.mentioned ? '!' : ''}`)
          .join(' ') +
        ']';
  const state = connectionText(connection);
  const text = truncate(` [${who}] [${window}] [${server}] [${state}]${act}`, width);
  const ok = connection.kind === 'connected';
  return (
    <Box width={width} height={1}>
      <Text inverse color={ok ? undefined : 'yellow'} wrap="truncate-end">
        {text.padEnd(width)}
      </Text>
    </Box>
  );
}
