import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { ChatClient } from '../src/client/client.js';
import { CHROMIUM, launchBrowser } from '../test/helpers/browser.js';
import { ServerProcess, sourceAddress } from './harness.js';
import { nowMicros } from './lean-client.js';
import {
  sleep,
  SOURCE_ADDRESSES,
  type Row,
  type RunContext,
  type ScenarioResult,
} from './measure.js';
import { formatCount, formatMicros, LatencyHistogram } from './stats.js';

const ROOM = 'bench';
const here = path.dirname(fileURLToPath(import.meta.url));

/** One connected, logged-in member of the room, whatever its transport. */
interface Member {
  say(text: string): void;
  close(): void;
}

interface TransportRun {
  readonly rssPerConnection: number;
  readonly heapPerConnection: number;
  readonly deliveries: number;
  readonly seconds: number;
  readonly latency: LatencyHistogram;
  readonly expected: number;
  /** CPU time over the load (senders paced, then every delivery waited for), µs. */
  readonly serverCpuMicros: number;
  readonly clientCpuMicros: number;
}

/** The marker receivers read: `b:<sent at, µs>`; everything else in the room is ignored. */
function onMessage(text: unknown, latency: LatencyHistogram, count: () => void): void {
  if (typeof text !== 'string' || !text.startsWith('b:')) return;
  latency.record(nowMicros() - Number(text.slice(2)));
  count();
}

async function nativeMember(
  port: number,
  index: number,
  latency: LatencyHistogram,
  count: () => void,
): Promise<Member> {
  const client = await ChatClient.connect({
    host: '127.0.0.1',
    port,
    localAddress: sourceAddress(index, SOURCE_ADDRESSES),
  });
  await client.login(`n${index}`);
  client.on('event', (event) => {
    if (event.ev === 'message') onMessage(event.text, latency, count);
  });
  await joinRoom((cmd, args) => client.request(cmd, args));
  return {
    say: (text) => void client.request('say', { room: ROOM, text }).catch(() => undefined),
    close: () => client.destroy(),
  };
}

async function webSocketMember(
  port: number,
  index: number,
  latency: LatencyHistogram,
  count: () => void,
): Promise<Member> {
  const socket = new WebSocket(`ws://127.0.0.1:${port}/ws`, {
    localAddress: sourceAddress(index, SOURCE_ADDRESSES),
    perMessageDeflate: false,
  });
  let nextId = 1;
  const pending = new Map<number, (frame: { ok: boolean; error?: { code: string } }) => void>();
  socket.on('message', (data) => {
    const frame = JSON.parse(String(data)) as {
      re?: number;
      ok: boolean;
      ev?: string;
      text?: unknown;
      error?: { code: string };
    };
    if (frame.ev === 'message') onMessage(frame.text, latency, count);
    else if (frame.re !== undefined) pending.get(frame.re)?.(frame);
  });
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  const request = (cmd: string, args: object) =>
    new Promise<unknown>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, (frame) => {
        pending.delete(id);
        if (frame.ok) resolve(frame);
        else reject(Object.assign(new Error(frame.error?.code), { code: frame.error?.code }));
      });
      socket.send(JSON.stringify({ id, cmd, args }));
    });
  await request('nick', { nick: `w${index}` });
  await joinRoom(request);
  return {
    say: (text) => void request('say', { room: ROOM, text }).catch(() => undefined),
    close: () => socket.terminate(),
  };
}

async function joinRoom(request: (cmd: string, args: object) => Promise<unknown>): Promise<void> {
  try {
    await request('join', { room: ROOM });
  } catch {
    await request('create', { room: ROOM }).catch(() => request('join', { room: ROOM }));
  }
}

/**
 * One fresh server, `count` members of one room on one transport: the server's memory per
 * idle connection, then paced senders in the room and every delivery timed.
 */
async function runTransport(
  ctx: RunContext,
  transport: 'native' | 'ws',
  count: number,
  rate: number,
  seconds: number,
): Promise<TransportRun> {
  const server = await ServerProcess.start({
    web: transport === 'ws',
    ...(ctx.profileDir !== undefined && { profileDir: ctx.profileDir }),
  });
  const latency = new LatencyHistogram();
  let deliveries = 0;
  const members: Member[] = [];
  try {
    const before = await server.stats(true);
    const port = transport === 'ws' ? server.webPort! : server.port;
    const connect = transport === 'ws' ? webSocketMember : nativeMember;
    // A few at a time: a login burst is the logins scenario's subject, not this one's.
    for (let start = 0; start < count; start += 50) {
      const batch = Array.from({ length: Math.min(50, count - start) }, (_, i) =>
        connect(port, start + i, latency, () => deliveries++),
      );
      members.push(...(await Promise.all(batch)));
    }
    await sleep(500);
    const idle = await server.stats(true);
    ctx.log(
      `  ${transport}: ${count} members, RSS ${((idle.rss - before.rss) / count).toFixed(0)} B each`,
    );
    // Paced senders, evenly spaced; each message reaches every other member.
    const senders = members.slice(0, 4);
    const clientCpuBefore = process.cpuUsage();
    const serverCpuBefore = idle.cpuMicros;
    const started = nowMicros();
    const total = Math.round(rate * seconds);
    for (let k = 0; k < total; k++) {
      const due = started + (k * 1e6) / rate;
      const wait = (due - nowMicros()) / 1000;
      if (wait > 1) await sleep(wait);
      senders[k % senders.length]!.say(`b:${nowMicros()}`);
    }
    const expected = total * (count - 1);
    const deadline = Date.now() + 20_000;
    while (deliveries < expected && Date.now() < deadline) await sleep(50);
    const elapsed = (nowMicros() - started) / 1e6;
    const clientCpu = process.cpuUsage(clientCpuBefore);
    const serverCpuMicros = (await server.stats()).cpuMicros - serverCpuBefore;
    return {
      serverCpuMicros,
      clientCpuMicros: clientCpu.user + clientCpu.system,
      rssPerConnection: (idle.rss - before.rss) / count,
      heapPerConnection: (idle.heapUsed - before.heapUsed) / count,
      deliveries,
      seconds: elapsed,
      latency,
      expected,
    };
  } finally {
    for (const member of members) member.close();
    await server.stop();
  }
}

const percent = (share: number) => `${(share * 100).toFixed(0)}%`;

function gzippedBundle(): { js: number; css: number } | undefined {
  const assets = path.resolve(here, '..', 'web', 'assets');
  if (!existsSync(assets)) return undefined;
  let js = 0;
  let css = 0;
  for (const name of readdirSync(assets)) {
    if (name.endsWith('.js.gz')) js += statSync(path.join(assets, name)).size;
    if (name.endsWith('.css.gz')) css += statSync(path.join(assets, name)).size;
  }
  return { js, css };
}

/** Median time from navigation to the login form on screen, in a fresh context each time. */
async function firstRender(loads: number): Promise<number[] | string> {
  if (!existsSync(CHROMIUM)) return 'Chromium missing (apt-get install chromium)';
  const server = await ServerProcess.start({ web: true });
  // The browser tests' launch: Debian's Chromium, kept off the network.
  const browser = await launchBrowser();
  try {
    const times: number[] = [];
    for (let i = 0; i < loads; i++) {
      const context = await browser.newContext();
      const page = await context.newPage();
      const started = performance.now();
      await page.goto(`http://127.0.0.1:${server.webPort}/`);
      await page.getByLabel('Nickname', { exact: true }).waitFor();
      times.push(performance.now() - started);
      await context.close();
    }
    return times.sort((a, b) => a - b);
  } finally {
    await browser.close();
    await server.stop();
  }
}

/**
 * `npm run bench -- ws`: the WebSocket transport beside the native one (a room of
 * 1,000, paced senders, every delivery timed; memory per idle connection), the web
 * client's gzipped size, and its first render on loopback.
 */
export async function webSockets(ctx: RunContext): Promise<ScenarioResult> {
  const count = ctx.quick ? 200 : 1000;
  const rate = ctx.quick ? 20 : 40;
  const seconds = ctx.quick ? 3 : 5;
  const rows: Row[] = [];
  const runs: Record<string, TransportRun> = {};
  for (const transport of ['native', 'ws'] as const) {
    const run = await runTransport(ctx, transport, count, rate, seconds);
    runs[transport] = run;
    rows.push(
      {
        metric: `${transport}: ${count} in a room, ${rate} msg/s: deliveries/s`,
        value: `${formatCount(run.deliveries / run.seconds)} (${formatCount(run.deliveries)} of ${formatCount(run.expected)} in ${run.seconds.toFixed(1)} s)`,
        target: 'all delivered',
        met: run.deliveries === run.expected,
      },
      {
        metric: `${transport}: latency p50 / p99 / max`,
        value: `${formatMicros(run.latency.quantile(0.5))} / ${formatMicros(run.latency.quantile(0.99))} / ${formatMicros(run.latency.max)}`,
      },
      {
        metric: `${transport}: CPU per delivery, server / bench client`,
        value:
          `${(run.serverCpuMicros / run.deliveries).toFixed(2)} / ${(run.clientCpuMicros / run.deliveries).toFixed(2)} µs ` +
          `(${percent(run.serverCpuMicros / 1e6 / run.seconds)} / ${percent(run.clientCpuMicros / 1e6 / run.seconds)} of one core)`,
      },
      {
        metric: `${transport}: server RSS / heap per idle connection`,
        value: `${(run.rssPerConnection / 1024).toFixed(1)} / ${(run.heapPerConnection / 1024).toFixed(1)} KiB`,
      },
    );
  }
  const ratio = runs.ws!.rssPerConnection / runs.native!.rssPerConnection;
  rows.push({
    metric: 'RSS per idle connection, WebSocket / native',
    value: `${ratio.toFixed(2)}×`,
    target: '≤ 2×',
    met: ratio <= 2,
  });
  const bundle = gzippedBundle();
  rows.push({
    metric: 'web client, gzipped: JavaScript / CSS',
    value: bundle
      ? `${(bundle.js / 1024).toFixed(1)} / ${(bundle.css / 1024).toFixed(1)} KiB`
      : 'not built',
    target: 'JS ≤ 150 KiB',
    met: bundle !== undefined && bundle.js <= 150 * 1024,
  });
  const render = await firstRender(ctx.quick ? 3 : 7);
  if (typeof render === 'string') rows.push({ metric: 'first render', value: render });
  else {
    const median = render[Math.floor(render.length / 2)]!;
    rows.push({
      metric: 'first render (navigation to login form), median / max',
      value: `${median.toFixed(0)} / ${render[render.length - 1]!.toFixed(0)} ms over ${render.length} fresh loads`,
      target: '≤ 1000 ms',
      met: median <= 1000,
    });
  }
  return {
    name: 'ws',
    title: `WebSocket transport and web client (${count} members)`,
    rows,
    notes: [
      'Both transports measured on fresh servers, one after the other, from one client process ' +
        '(the native members use the bundled ChatClient, the WebSocket ones the ws package).',
      'RSS per idle connection: server RSS after the logins and a GC, minus before, over the count.',
    ],
  };
}
