import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { configureConnection } from './database.js';
import { WRITE_OPS, type WriteOpName } from './write-ops.js';
import type { WriteFailure, WriterReply, WriterRequest } from './writer-protocol.js';
import { unpackWrite, type UnpackedWrite } from './write-packing.js';

/**
 * The SQLite writer: a worker thread that owns the one connection every write goes
 * through. The main thread sends a batch (what arrived while the previous commit was
 * syncing, or in one turn of its event loop); this thread runs it as one transaction and
 * commits it, fsync included, then answers. The event loop meanwhile keeps serving.
 */
const port = parentPort;
if (!port) throw new Error('writer-thread.js runs as a worker thread');
const { file } = workerData as { file: string };
const db = new Database(file);
configureConnection(db);

type Operation = (db: Database.Database, ...args: never[]) => unknown;
const operations = WRITE_OPS as unknown as Record<WriteOpName, Operation>;

function run(op: WriteOpName, args: readonly unknown[]): unknown {
  return operations[op](db, ...(args as never[]));
}

function failureOf(error: unknown): WriteFailure {
  const code = (error as { code?: unknown }).code;
  return {
    code: typeof code === 'string' ? code : undefined,
    message: error instanceof Error ? error.message : String(error),
  };
}

function runBatch(request: Extract<WriterRequest, { kind: 'batch' }>): WriterReply {
  const started = performance.now();
  const writes = new Array<UnpackedWrite>(request.count);
  for (let index = 0, at = 0; index < request.count; index++) {
    const write = unpackWrite(request.writes, at);
    writes[index] = write;
    at = write.next;
  }
  let failures: (WriteFailure | null)[] | null = null;
  let results: unknown[];
  try {
    results = db.transaction(() => writes.map((write) => run(write.op, write.args)))();
  } catch {
    // One bad write must not fail its neighbours: each goes again, alone.
    const failed = new Array<WriteFailure | null>(writes.length).fill(null);
    failures = failed;
    results = writes.map((write, index) => {
      try {
        return db.transaction(() => run(write.op, write.args))();
      } catch (error) {
        failed[index] = failureOf(error);
        return undefined;
      }
    });
  }
  return { kind: 'batch', seq: request.seq, results, failures, ms: performance.now() - started };
}

port.on('message', (request: WriterRequest) => {
  switch (request.kind) {
    case 'batch':
      port.postMessage(runBatch(request));
      return;
    case 'pragma': {
      let reply: WriterReply;
      try {
        reply = {
          kind: 'pragma',
          seq: request.seq,
          result: db.pragma(request.text),
          failure: null,
        };
      } catch (error) {
        reply = { kind: 'pragma', seq: request.seq, result: undefined, failure: failureOf(error) };
      }
      port.postMessage(reply);
      return;
    }
    case 'close':
      db.close();
      port.postMessage({ kind: 'closed', seq: request.seq } satisfies WriterReply);
      port.close();
      return;
  }
});
