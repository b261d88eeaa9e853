import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { configureConnection } from './database.js';
import type { WriteFailure, WriterReply, WriterRequest } from './writer-protocol.js';
import { type PackedBatch, packedWriteEnd, runPackedWrite } from './write-packing.js';

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

function failureOf(error: unknown): WriteFailure {
  const code = (error as { code?: unknown }).code;
  return {
    code: typeof code === 'string' ? code : undefined,
    message: error instanceof Error ? error.message : String(error),
  };
}

/**
 * Every write of a batch in one transaction, results in order. Made once: better-sqlite3
 * builds a wrapper function with its begin and commit statements for each `transaction()`.
 */
const runAll = db.transaction((writes: PackedBatch, results: unknown[]): void => {
  for (let index = 0, at = 0; index < results.length; index++) {
    results[index] = runPackedWrite(db, writes, at);
    at = packedWriteEnd(writes, at);
  }
});
const runOne = db.transaction((writes: PackedBatch, at: number): unknown =>
  runPackedWrite(db, writes, at),
);

function runBatch(request: Extract<WriterRequest, { kind: 'batch' }>): WriterReply {
  const started = performance.now();
  const { writes, count } = request;
  let failures: (WriteFailure | null)[] | null = null;
  let results = new Array<unknown>(count);
  try {
    runAll(writes, results);
  } catch {
    // One bad write must not fail its neighbours: each goes again, alone.
    const failed = new Array<WriteFailure | null>(count).fill(null);
    failures = failed;
    results = new Array<unknown>(count);
    for (let index = 0, at = 0; index < count; index++) {
      try {
        results[index] = runOne(writes, at);
      } catch (error) {
        failed[index] = failureOf(error);
      }
      at = packedWriteEnd(writes, at);
    }
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
