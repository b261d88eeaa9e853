import { ChatClient } from '../src/client/client.js';
import { FileTransfers } from '../src/client/transfers.js';

/**
 * The file-transfer client of the `files` scenario, in its own process so that its peak
 * RSS is its own: uploads a file to the shared area, downloads it back (both ends check
 * the SHA-256), and reports. argv: PORT FILE DOWNLOADS_DIR
 */
export interface FileClientReport {
  readonly type: 'files';
  readonly size: number;
  readonly uploadMs: number;
  readonly downloadMs: number;
  readonly maxRss: number;
}

const [portText, file, downloadsDir] = process.argv.slice(2);
if (!portText || !file || !downloadsDir) throw new Error('usage: file-client PORT FILE DIR');
const client = await ChatClient.connect({ host: '127.0.0.1', port: Number(portText) });
await client.login('filer');
const transfers = new FileTransfers(client, { downloadsDir });
const uploaded = await transfers.upload(file);
const downloaded = await transfers.download(uploaded.file);
if (downloaded.sha256 !== uploaded.sha256) throw new Error('the file came back different');
const report: FileClientReport = {
  type: 'files',
  size: uploaded.size,
  uploadMs: uploaded.elapsedMs,
  downloadMs: downloaded.elapsedMs,
  maxRss: process.resourceUsage().maxRSS * 1024,
};
process.send!(report);
client.destroy();
process.disconnect();
