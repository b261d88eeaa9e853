import { describe, expect, it } from 'vitest';
import { Link, type Outlet, type ServerFrame } from '../src/core/session.js';

const outlet: Outlet = {
  transport: 'test',
  address: '127.0.0.1',
  port: 0,
  send(_frame: ServerFrame) {},
  close() {},
};

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((done) => (resolve = done));
  return { promise, resolve };
}

describe('Link ordering', () => {
  it('starts requests in order, lets released work overlap, and sends replies in order', async () => {
    const link = new Link('c1', outlet, 0);
    const log: string[] = [];
    const firstCommit = deferred<string>();
    // A pipelined request: it takes its place, releases the link, then waits for its commit.
    const first = link.enqueue(async (release) => {
      log.push('start 1');
      release();
      await link.inOrder(firstCommit.promise, (reply) => log.push(reply));
    });
    const second = link.enqueue(async () => {
      log.push('start 2');
      await link.inOrder(Promise.resolve('reply 2'), (reply) => log.push(reply));
    });
    await new Promise((resolve) => setTimeout(resolve, 5));
    // The second started while the first waits, but its reply waits for the first's.
    expect(log).toEqual(['start 1', 'start 2']);
    firstCommit.resolve('reply 1');
    await Promise.all([first, second]);
    expect(log).toEqual(['start 1', 'start 2', 'reply 1', 'reply 2']);
  });

  it('keeps the order for work queued after the link went idle, and as its last work settles', async () => {
    const link = new Link('c2', outlet, 0);
    const log: string[] = [];
    await link.enqueue(async () => {
      await link.inOrder(Promise.resolve('a'), (reply) => log.push(reply));
    });
    await link.repliesSent();
    // Idle now; queue more, including work queued in the same turn another one settles.
    const slow = deferred<string>();
    const b = link.enqueue(async () => {
      await link.inOrder(slow.promise, (reply) => log.push(reply));
    });
    const c = link.enqueue(async () => {
      await link.inOrder(Promise.resolve('c'), (reply) => log.push(reply));
    });
    slow.resolve('b');
    const d = link.enqueue(async () => {
      await link.inOrder(Promise.resolve('d'), (reply) => log.push(reply));
    });
    await Promise.all([b, c, d]);
    await link.repliesSent();
    expect(log).toEqual(['a', 'b', 'c', 'd']);
  });

  it('holds new work behind running work even after the work before both has settled', async () => {
    const link = new Link('c4', outlet, 0);
    const log: string[] = [];
    const slowReply = deferred<string>();
    const zDone = deferred<void>();
    const x = link.enqueue(async () => {
      await link.inOrder(Promise.resolve('x'), (reply) => log.push(reply));
    });
    const y = link.enqueue(async (release) => {
      log.push('start y');
      // Released: later work may start, but its reply must still wait for y's.
      release();
      await link.inOrder(slowReply.promise, (reply) => log.push(reply));
    });
    const z = link.enqueue(async () => {
      log.push('start z');
      await zDone.promise;
      log.push('end z');
    });
    await x;
    await new Promise((resolve) => setTimeout(resolve, 5));
    // x has settled, y waits for its reply, z runs alone: w must wait for z.
    const w = link.enqueue(async () => {
      log.push('start w');
      await link.inOrder(Promise.resolve('w'), (reply) => log.push(reply));
    });
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(log).toEqual(['x', 'start y', 'start z']);
    zDone.resolve();
    await new Promise((resolve) => setTimeout(resolve, 5));
    // w started once z ended, and its reply waits for y's.
    expect(log).toEqual(['x', 'start y', 'start z', 'end z', 'start w']);
    slowReply.resolve('y');
    await Promise.all([y, z, w]);
    expect(log).toEqual(['x', 'start y', 'start z', 'end z', 'start w', 'y', 'w']);
  });

  it('keeps a reply behind an earlier pending one after the reply before both went out', async () => {
    const link = new Link('c5', outlet, 0);
    const log: string[] = [];
    const xReply = deferred<string>();
    const yReply = deferred<string>();
    const pipelined = (reply: Promise<string>) =>
      link.enqueue(async (release) => {
        release();
        await link.inOrder(reply, (text) => log.push(text));
      });
    const x = pipelined(xReply.promise);
    const y = pipelined(yReply.promise);
    xReply.resolve('x');
    await x;
    await new Promise((resolve) => setTimeout(resolve, 5));
    const z = pipelined(Promise.resolve('z'));
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(log).toEqual(['x']);
    yReply.resolve('y');
    await Promise.all([y, z]);
    expect(log).toEqual(['x', 'y', 'z']);
  });

  it('goes on after a request that failed', async () => {
    const link = new Link('c3', outlet, 0);
    const log: string[] = [];
    await expect(
      link.enqueue(async () => {
        throw new Error('handler bug');
      }),
    ).rejects.toThrow('handler bug');
    await link.enqueue(async () => {
      await link.inOrder(Promise.resolve('after'), (reply) => log.push(reply));
    });
    expect(log).toEqual(['after']);
  });
});
