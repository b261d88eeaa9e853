import net from 'node:net';
import type { ServerCommand, ServerReply } from './ipc.js';
import { processStats } from './process-stats.js';

/**
 * A measuring stick, not a chat server: the least a Node.js process can do to carry the
 * private-message load on this machine. It speaks only what that load uses (greeting,
 * `nick`, `msg` to one name) and skips everything Confab does per message: no storage, no
 * argument checks, no ordering machinery, no logs, no blocking or moderation. Frames are
 * split on LF and parsed with JSON.parse like Confab's; each socket's output is written once
 * per turn. Run by `npm run bench -- floor` with the same generator as `pm`; what Confab
 * reaches against what this reaches is Confab's own cost.
 */

interface Peer {
  readonly socket: net.Socket;
  pending: string;
  nick: string | undefined;
  out: string[];
}

const byNick = new Map<string, Peer>();
const dirty = new Set<Peer>();
let forwarded = 0;
let nextId = 1;
let flushScheduled = false;

function queue(peer: Peer, line: string): void {
  peer.out.push(line);
  dirty.add(peer);
  if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(flush);
  }
}

function flush(): void {
  flushScheduled = false;
  for (const peer of dirty) {
    if (!peer.socket.destroyed) peer.socket.write(peer.out.join(''));
    peer.out = [];
  }
  dirty.clear();
}

function handle(peer: Peer, line: string): void {
  const request = JSON.parse(line) as {
    id: number;
    cmd: string;
    args: { nick?: string; to?: string[]; text?: string };
  };
  if (request.cmd === 'nick' && request.args.nick !== undefined) {
    peer.nick = request.args.nick;
    byNick.set(peer.nick, peer);
    queue(peer, `{"re":${request.id},"ok":true,"data":{"nick":${JSON.stringify(peer.nick)}}}\n`);
    return;
  }
  if (request.cmd === 'msg' && request.args.to && request.args.text !== undefined) {
    const mid = nextId++;
    const to = byNick.get(request.args.to[0] ?? '');
    if (to) {
      const event = { ev: 'private', id: mid, ts: Date.now(), mid, from: peer.nick };
      queue(
        to,
        `${JSON.stringify(event).slice(0, -1)},"to":${JSON.stringify(request.args.to)},"text":${JSON.stringify(request.args.text)}}\n`,
      );
      forwarded++;
    }
    queue(peer, `{"re":${request.id},"ok":true,"data":{"mid":${mid}}}\n`);
    return;
  }
  queue(peer, `{"re":${request.id},"ok":false,"error":{"code":"unknown_command"}}\n`);
}

const server = net.createServer((socket) => {
  socket.setNoDelay(true);
  const peer: Peer = { socket, pending: '', nick: undefined, out: [] };
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    let text = peer.pending + chunk;
    let lf = text.indexOf('\n');
    while (lf >= 0) {
      handle(peer, text.slice(0, lf));
      text = text.slice(lf + 1);
      lf = text.indexOf('\n');
    }
    peer.pending = text;
  });
  socket.on('error', () => undefined);
  socket.on('close', () => {
    if (peer.nick !== undefined && byNick.get(peer.nick) === peer) byNick.delete(peer.nick);
  });
  queue(peer, `{"ev":"hello","id":${nextId++},"ts":${Date.now()},"server":"floor","protocol":1}\n`);
});

const send = (message: ServerReply) => process.send!(message);
process.on('message', (message: ServerCommand) => {
  if (message.type === 'exit') process.exit(0);
  // Nothing is stored: what was forwarded stands in, so the integrity check still counts.
  send(processStats(byNick.size, forwarded));
});
process.on('disconnect', () => process.exit(0));
server.listen(0, '127.0.0.1', () => {
  send({ type: 'ready', port: (server.address() as net.AddressInfo).port, skipped: [] });
});
