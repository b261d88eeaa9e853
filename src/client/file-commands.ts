import {
  formatBytes,
  type DownloadResult,
  type FileTransfers,
  type TransferProgress,
  type UploadResult,
} from './transfers.js';

/**
 * Commands whose bytes the client moves itself: a `path` argument is read here, and
 * downloads are written here, so the line and full-screen clients route these names to
 * `runFileCommand` instead of sending the request as typed.
 */
export const TRANSFER_COMMANDS: ReadonlySet<string> = new Set([
  'send',
  'upload',
  'get',
  'download',
]);

export function isTransferCommand(name: string, args: Record<string, unknown>): boolean {
  // `fileget` alone lists files: an ordinary request.
  if (name === 'get') return args.from !== undefined || args.file !== undefined;
  return TRANSFER_COMMANDS.has(name);
}

export function runFileCommand(
  transfers: FileTransfers,
  name: string,
  args: Record<string, unknown>,
  onProgress: (progress: TransferProgress) => void,
): Promise<UploadResult | DownloadResult> {
  const text = (key: string) => {
    const value = args[key];
    if (typeof value !== 'string') throw new Error(`/${name} needs ${key.toUpperCase()}`);
    return value;
  };
  switch (name) {
    case 'send':
      return transfers.send(text('to'), text('path'), { onProgress });
    case 'upload':
      return transfers.upload(text('path'), { onProgress });
    case 'get':
      return transfers.get(text('from'), text('file'), { onProgress });
    case 'download':
      return transfers.download(text('file'), { onProgress });
    default:
      return Promise.reject(new Error(`/${name} is not a file transfer`));
  }
}

/** `upload photo.jpg: 12.0 MiB of 48.0 MiB (25%) at 31.4 MiB/s`. */
export function formatProgress(progress: TransferProgress): string {
  const percent = progress.total > 0 ? Math.floor((progress.bytes * 100) / progress.total) : 100;
  return (
    `${progress.direction} ${progress.name}: ${formatBytes(progress.bytes)} of ` +
    `${formatBytes(progress.total)} (${percent}%) at ${formatBytes(Math.round(progress.bytesPerSecond))}/s`
  );
}

/**
 * Line mode prints a progress line at most once per interval, plus the last one, so a
 * big transfer makes a few lines rather than thousands.
 */
export function throttledProgress(
  print: (progress: TransferProgress) => void,
  intervalMs = 1000,
): (progress: TransferProgress) => void {
  let last = 0;
  return (progress) => {
    const now = Date.now();
    if (progress.bytes < progress.total && now - last < intervalMs) return;
    last = now;
    print(progress);
  };
}

export function formatTransferResult(name: string, result: UploadResult | DownloadResult): string {
  const rate = `${formatBytes(Math.round(result.bytesPerSecond))}/s`;
  if ('path' in result)
    return `Saved ${result.name} (${formatBytes(result.size)}, from ${result.from}) to ${result.path} at ${rate}; SHA-256 verified`;
  const where = name === 'upload' ? 'shared as' : 'sent as';
  return `${result.name} (${formatBytes(result.size)}) ${where} ${result.file} at ${rate}; SHA-256 verified`;
}
