import { mkdirSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import type { AuditLog, Logger, MessageLog } from '../core/logger.js';
import { LogFile, type LogFileOptions } from './log-file.js';

export interface ServerLogs {
  readonly logger: Logger;
  readonly messageLog: MessageLog;
  readonly auditLog: AuditLog;
  readonly dir: string;
  /** Writes out what is buffered and closes the files; called on shutdown. */
  flush(): Promise<void>;
}

/**
 * The data directory's logs: `logs/server.log` (structured JSON lines: connections with
 * address, port, time and nickname; errors) and `logs/messages.log` (one line per message:
 * time, sender, target, text) and `logs/audit.log` (one JSON object per line: every admin
 * action and security event).
 */
export function openLogs(dataDir: string, options: LogFileOptions = {}): ServerLogs {
  const dir = path.join(dataDir, 'logs');
  mkdirSync(dir, { recursive: true });
  // A log that cannot be written (a full disk) must never stop chat: see LogFile.
  const serverDestination = new LogFile(path.join(dir, 'server.log'), options);
  const messageDestination = new LogFile(path.join(dir, 'messages.log'), options);
  const auditDestination = new LogFile(path.join(dir, 'audit.log'), options);
  // An exit without stop() (an uncaught error) still gets one attempt at what is held.
  const writeOutOnExit = () => {
    serverDestination.writeOutSync();
    messageDestination.writeOutSync();
    auditDestination.writeOutSync();
  };
  process.on('exit', writeOutOnExit);
  const logger = pino(
    {
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      // Belt and braces: requests are never logged whole, but a password must never land here.
      redact: {
        paths: [
          'password',
          '*.password',
          'args.password',
          'passwordHash',
          '*.passwordHash',
          'oldPassword',
          'newPassword',
          'token',
          'resumeToken',
          '*.resumeToken',
        ],
        censor: '[redacted]',
      },
      serializers: { err: pino.stdSerializers.err },
    },
    serverDestination,
  );
  // Lines of one event-loop turn go to the file as one write: handing sonic-boom a line
  // per message costs more than the message's own storage at tens of thousands a second.
  let lines: string[] = [];
  let scheduled: NodeJS.Immediate | undefined;
  const writeLines = () => {
    scheduled = undefined;
    if (lines.length === 0) return;
    const text = lines.join('');
    lines = [];
    messageDestination.write(text);
  };
  // Messages come in bursts within one millisecond: format each millisecond once.
  let lastTs = Number.NaN;
  let lastTime = '';
  const messageLog: MessageLog = {
    record({ ts, sender, target, text }) {
      if (ts !== lastTs) {
        lastTs = ts;
        lastTime = new Date(ts).toISOString();
      }
      lines.push(`${lastTime}\t${sender}\t${target}\t${JSON.stringify(text)}\n`);
      scheduled ??= setImmediate(writeLines);
    },
  };
  // Few lines (admin actions, failed logins): each is written as it comes.
  const auditLog: AuditLog = {
    record({ ts, ...fields }) {
      auditDestination.write(
        JSON.stringify({ time: new Date(ts).toISOString(), ...fields }) + '\n',
      );
    },
  };
  return {
    logger,
    messageLog,
    auditLog,
    dir,
    async flush() {
      if (scheduled) clearImmediate(scheduled);
      writeLines();
      await Promise.all([
        serverDestination.close(),
        messageDestination.close(),
        auditDestination.close(),
      ]);
      process.off('exit', writeOutOnExit);
    },
  };
}
