/**
 * A file transfer's progress as the screen shows it. The transfer code reports bytes as
 * they move; speed and time left are derived here so every surface shows them alike.
 */
export interface TransferProgress {
  readonly id: string;
  readonly direction: 'upload' | 'download';
  readonly name: string;
  readonly bytes: number;
  readonly totalBytes: number;
  readonly startedAt: number;
  readonly now: number;
}

// One unit system everywhere (KiB, MiB): the bar and the summary after it must agree.
export { formatBytes } from '../bytes.js';

export function formatDuration(seconds: number): string {
  const whole = Math.max(0, Math.ceil(seconds));
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const secs = String(whole % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${secs}` : `${minutes}:${secs}`;
}

export interface ProgressFigures {
  /** 0 to 1. */
  readonly fraction: number;
  readonly percent: number;
  /** Bytes per second so far; undefined until some time has passed. */
  readonly bytesPerSecond: number | undefined;
  readonly secondsLeft: number | undefined;
}

export function progressFigures(progress: TransferProgress): ProgressFigures {
  const fraction =
    progress.totalBytes <= 0 ? 1 : Math.min(1, Math.max(0, progress.bytes / progress.totalBytes));
  const elapsed = (progress.now - progress.startedAt) / 1000;
  const bytesPerSecond = elapsed > 0 && progress.bytes > 0 ? progress.bytes / elapsed : undefined;
  const secondsLeft =
    bytesPerSecond === undefined
      ? undefined
      : Math.max(0, progress.totalBytes - progress.bytes) / bytesPerSecond;
  return { fraction, percent: Math.floor(fraction * 100), bytesPerSecond, secondsLeft };
}

/** `[######------]` in `width` columns. */
export function bar(fraction: number, width: number): string {
  const inner = Math.max(1, width - 2);
  const filled = Math.round(fraction * inner);
  return `[${'#'.repeat(filled)}${'-'.repeat(inner - filled)}]`;
}
