import { mkdirSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import type { AuditLog, Logger, MessageLog } from '../core/logger.js';
import { LogFile, type LogFileOptions } from './log-file.js';

/** One line of the server log, as a watcher sees it (the server console shows some). */
export interface LogRecord {
  readonly level: 'info' | 'warn' | 'error';
  readonly time: number;
  readonly fields: Readonly<Record<string, unknown>>;
  readonly message: string | undefined;
}

export type LogWatcher = (record: LogRecord) => void;

export interface ServerLogs {
  readonly logger: Logger;
  /**
   * Calls `watcher` with every server-log line from now on, until the returned function
   * is called. The server console uses it to show logins, kicks and errors as they happen.
   */
  watch(watcher: LogWatcher): () => void;
  readonly messageLog: MessageLog;
  readonly auditLog: AuditLog;
  readonly dir: string;
  /** Writes out what is buffered and closes the files; called on shutdown. */
  flush(): Promise<void>;
}

export interface LogOptions extends LogFileOptions {
  /**
   * This node's id (`--node-id`), written in every line of `server.log` and `audit.log`
   * (`node`), so that the logs of a cluster's nodes can be read together.
   */
  readonly node?: string;
}

/**
 * The data directory's logs: `logs/server.log` (structured JSON lines: connections with
 * address, port, time and nickname; errors) and `logs/messages.log` (one line per message:
 * time, sender, target, text) and `logs/audit.log` (one JSON object per line: every admin
 * action and security event).
 */
export function openLogs(dataDir: string, options: LogOptions = {}): ServerLogs {
  const node = options.node;
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
  const fileLogger = pino(
    {
      // The node leads every line, after level and time.
      base: node === undefined ? undefined : { node },
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
  const watchers = new Set<LogWatcher>();
  const tee =
    (level: LogRecord['level']) =>
    (fields: object, message?: string): void => {
      fileLogger[level](fields, message);
      if (watchers.size === 0) return;
      const record: LogRecord = {
        level,
        time: Date.now(),
        fields: fields as Record<string, unknown>,
        message,
      };
      // A broken watcher must not break the caller that only wanted to log.
      for (const watcher of watchers)
        try {
          watcher(record);
        } catch {
          watchers.delete(watcher);
        }
    };
  const logger: Logger = { info: tee('info'), warn: tee('warn'), error: tee('error') };
  // Lines of one event-loop turn go to the file as one write: handing the file a line
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
        JSON.stringify({ time: new Date(ts).toISOString(), node, ...fields }) + '\n',
      );
    },
  };
  return {
    logger,
    watch(watcher) {
      watchers.add(watcher);
      return () => watchers.delete(watcher);
    },
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
