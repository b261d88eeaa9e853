import { z } from 'zod';
import { ChatError } from '../errors.js';
import { filesOf, hasTransferUnderWay } from '../files/file-service.js';
import { defineCommand } from './command.js';

/**
 * File transfer commands. The people-facing ones (`send`, `get`, …) start or manage a
 * transfer; the hidden ones (`filechunk`, `filecredit`, …) are the steps a client runs
 * for its user while bytes move. See docs/protocol.md, "File transfer".
 */

const transferId = z.string().max(32);
/** What a client sends in place of a `path` argument, after reading the file. */
const fileFacts = {
  // Long enough for any hostile name a test can think of; the frame limit bounds it anyway.
  name: z.string().min(1).max(16_384),
  size: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  sha256: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, 'a SHA-256 is 64 hex digits')
    .transform((hex) => hex.toLowerCase()),
};
const fileRef = z.string().min(1).max(1024);
const downloadOptions = {
  offset: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0),
  window: z.number().int().min(1).max(1024).default(8),
};

export const sendCommand = defineCommand({
  phase: 'session',
  info: {
    name: 'send',
    aliases: ['file'],
    bare: ['file'],
    args: [
      { name: 'to', kind: 'name' },
      { name: 'path', kind: 'path' },
    ],
    summary: 'send a file to a user through the server; they are told, now or at next login',
    group: 'files',
  },
  args: z.object({ to: z.string().max(64), ...fileFacts }),
  handle({ core, session }, { to, name, size, sha256 }) {
    return filesOf(core).offer(session, { to, name, size, sha256 });
  },
});

export const uploadCommand = defineCommand({
  phase: 'session',
  info: {
    name: 'upload',
    aliases: [],
    bare: [],
    args: [{ name: 'path', kind: 'path' }],
    summary: 'share a file with everyone',
    group: 'files',
  },
  args: z.object(fileFacts),
  handle({ core, session }, { name, size, sha256 }) {
    return filesOf(core).offer(session, { name, size, sha256 });
  },
});

export const filesCommand = defineCommand({
  phase: 'session',
  info: {
    name: 'files',
    aliases: [],
    bare: [],
    args: [],
    summary: 'files waiting for you, files you sent, and the shared area',
    group: 'files',
  },
  args: z.object({}),
  handle({ core, session }) {
    return filesOf(core).list(session);
  },
});

export const getCommand = defineCommand({
  phase: 'session',
  info: {
    name: 'get',
    aliases: ['fileget'],
    bare: ['fileget'],
    args: [
      { name: 'from', kind: 'name', optional: true },
      { name: 'file', kind: 'word', optional: true },
    ],
    summary: 'download a file someone sent you (with no arguments: list them, as /files)',
    group: 'files',
  },
  args: z.object({
    from: z.string().max(64).optional(),
    file: fileRef.optional(),
    ...downloadOptions,
  }),
  async handle({ core, session, link, after }, { from, file, offset, window }) {
    const files = filesOf(core);
    if (from === undefined && file === undefined) return files.list(session);
    if (from === undefined || file === undefined)
      throw new ChatError('invalid_args', 'Usage: /get NAME FILE');
    const stored = await files.findWaiting(session, from, file);
    const { reply, start } = await files.startDownload(session, link, stored, offset, window);
    after(start);
    return reply;
  },
});

export const downloadCommand = defineCommand({
  phase: 'session',
  info: {
    name: 'download',
    aliases: [],
    bare: [],
    args: [{ name: 'file', kind: 'word' }],
    summary: 'fetch a file from the shared area',
    group: 'files',
  },
  args: z.object({ file: fileRef, ...downloadOptions }),
  async handle({ core, session, link, after }, { file, offset, window }) {
    const files = filesOf(core);
    const stored = await files.findShared(file);
    const { reply, start } = await files.startDownload(session, link, stored, offset, window);
    after(start);
    return reply;
  },
});

export const declineCommand = defineCommand({
  phase: 'session',
  info: {
    name: 'decline',
    aliases: ['filedecline'],
    bare: ['filedecline'],
    args: [
      { name: 'from', kind: 'name' },
      { name: 'file', kind: 'word' },
    ],
    summary: 'refuse and delete a file someone sent you; they are told',
    group: 'files',
  },
  args: z.object({ from: z.string().max(64), file: fileRef }),
  async handle({ core, session }, { from, file }) {
    const files = filesOf(core);
    return files.decline(session, await files.findWaiting(session, from, file));
  },
});

export const unshareCommand = defineCommand({
  phase: 'session',
  info: {
    name: 'unshare',
    aliases: [],
    bare: [],
    args: [{ name: 'file', kind: 'word' }],
    summary: 'delete a shared file (its uploader or an admin)',
    group: 'files',
  },
  args: z.object({ file: fileRef }),
  async handle({ core, session }, { file }) {
    const files = filesOf(core);
    return files.unshare(session, await files.findShared(file));
  },
});

// ---- protocol steps a client runs during a transfer (hidden from people) ---------------

function hidden(name: string, summary: string) {
  return { name, aliases: [], bare: [], args: [], summary, group: 'files', hidden: true };
}

export const fileChunkCommand = defineCommand({
  phase: 'session',
  unmetered: hasTransferUnderWay,
  info: hidden('filechunk', 'upload: the next chunk of a file (base64)'),
  args: z.object({
    transfer: transferId,
    offset: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    data: z.string(),
  }),
  handle({ core, session }, { transfer, offset, data }) {
    return filesOf(core).putChunk(session, transfer, offset, data);
  },
});

export const fileCreditCommand = defineCommand({
  phase: 'session',
  unmetered: hasTransferUnderWay,
  info: hidden('filecredit', 'download: let the server send this many more chunks'),
  args: z.object({ transfer: transferId, chunks: z.number().int().min(1).max(1024) }),
  handle({ core, session }, { transfer, chunks }) {
    filesOf(core).grantCredit(session, transfer, chunks);
    return {};
  },
});

export const fileDoneCommand = defineCommand({
  phase: 'session',
  unmetered: hasTransferUnderWay,
  info: hidden(
    'filedone',
    'upload: every byte is sent, check and store; download: all received and checked',
  ),
  args: z.object({ transfer: transferId }),
  async handle({ core, session }, { transfer }) {
    const files = filesOf(core);
    return files.isUpload(transfer)
      ? files.finishUpload(session, transfer)
      : files.finishDownload(session, transfer);
  },
});

export const fileCancelCommand = defineCommand({
  phase: 'session',
  info: hidden('filecancel', 'stop a transfer; a partial upload is deleted'),
  args: z.object({ transfer: transferId }),
  async handle({ core, session }, { transfer }) {
    await filesOf(core).cancel(session, transfer);
    return {};
  },
});

export const fileResumeCommand = defineCommand({
  phase: 'session',
  info: hidden('fileresume', 'upload: where an interrupted upload of this session stands'),
  args: z.object({ transfer: transferId }),
  handle({ core, session }, { transfer }) {
    return filesOf(core).resumeUpload(session, transfer);
  },
});

export const fileLinkCommand = defineCommand({
  phase: 'session',
  unmetered: hasTransferUnderWay,
  info: hidden(
    'filelink',
    'a short-lived HTTP link: GET a file sent to you or shared, or PUT an upload you opened',
  ),
  args: z.object({
    transfer: transferId.optional(),
    from: z.string().max(64).optional(),
    file: fileRef.optional(),
  }),
  async handle({ core, session }, { transfer, from, file }) {
    const files = filesOf(core);
    if (transfer !== undefined && from === undefined && file === undefined)
      return files.uploadLink(session, transfer);
    if (transfer !== undefined || file === undefined)
      throw new ChatError('invalid_args', 'Give transfer (an upload), or file (and from)');
    const stored =
      from === undefined
        ? await files.findShared(file)
        : await files.findWaiting(session, from, file);
    return files.downloadLink(session, stored);
  },
});

export const FILE_COMMANDS = [
  sendCommand,
  filesCommand,
  getCommand,
  declineCommand,
  uploadCommand,
  downloadCommand,
  unshareCommand,
  fileChunkCommand,
  fileCreditCommand,
  fileDoneCommand,
  fileCancelCommand,
  fileResumeCommand,
  fileLinkCommand,
];
