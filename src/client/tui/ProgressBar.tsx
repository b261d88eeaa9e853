import { Box, Text } from 'ink';
import {
  bar,
  formatBytes,
  formatDuration,
  progressFigures,
  type TransferProgress,
} from './progress.js';
import { columns, truncate } from './text-width.js';

/** `↑ report.pdf [#####-----] 45% 4.5 MB/9.9 MB 1.2 MB/s 0:05 left` */
export function ProgressBar({ progress, width }: { progress: TransferProgress; width: number }) {
  const figures = progressFigures(progress);
  const arrow = progress.direction === 'upload' ? '↑' : '↓';
  const speed =
    figures.bytesPerSecond === undefined
      ? ''
      : ` ${formatBytes(Math.round(figures.bytesPerSecond))}/s`;
  const left =
    figures.secondsLeft === undefined ? '' : ` ${formatDuration(figures.secondsLeft)} left`;
  const tail = ` ${String(figures.percent).padStart(3)}% ${formatBytes(progress.bytes)}/${formatBytes(progress.totalBytes)}${speed}${left}`;
  const name = truncate(progress.name, Math.max(6, Math.floor(width / 4)));
  const barWidth = Math.max(4, width - columns(`${arrow} ${name} `) - columns(tail));
  return (
    <Box width={width} height={1}>
      <Text wrap="truncate-end">
        {arrow} {name} <Text color="green">{bar(figures.fraction, barWidth)}</Text>
        {tail}
      </Text>
    </Box>
  );
}
