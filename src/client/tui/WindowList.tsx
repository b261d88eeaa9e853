import { Box, Text } from 'ink';

export interface WindowEntry {
  readonly number: number;
  readonly name: string;
  readonly unread: number;
  readonly mentioned: boolean;
  readonly current: boolean;
}

/** `1:#lobby 2:@bob(3)`: the current window bold, unread ones highlighted. */
export function WindowList({ windows, width }: { windows: readonly WindowEntry[]; width: number }) {
  return (
    <Box width={width} height={1}>
      <Text wrap="truncate-end">
        {windows.map((window) => {
          const label = `${window.number}:${window.name}${window.unread > 0 ? `(${window.unread})` : ''}`;
          return (
            <Text key={window.number}>
              <Text
                bold={window.current || window.unread > 0}
                underline={window.current}
                color={window.mentioned ? 'magenta' : window.unread > 0 ? 'yellow' : undefined}
              >
                {label}
              </Text>{' '}
            </Text>
          );
        })}
      </Text>
    </Box>
  );
}
