import { type CoreClient, profileAllocations, startCoreBench } from './core-harness.js';
import { LOAD_END, LOAD_START } from './gc-trace.js';
import { mainThreadCpuMicros } from './process-stats.js';

/**
 * Room fan-out without sockets or a generator, the in-process twin of `fanout`: MEMBERS
 * clients join one room, SENDERS of them keep WINDOW `say` requests in flight each, and
 * every message is encoded for each other member by its outlet and dropped. The real
 * SQLite store stores every message. Its figure per delivery is the core's, the store's and
 * the encoder's and nothing else: no socket, no generator competing for the cores
 * (bench/ab-core.ts compares two builds or settings with it).
 * CONFAB_BENCH_ALLOC_PROFILE=FILE samples the load's allocations (`profileAllocations`).
 * Prints one JSON line. argv: MESSAGES [MEMBERS] [SENDERS] [WINDOW].
 */
export interface CoreRoomResult {
  readonly messages: number;
  readonly members: number;
  readonly senders: number;
  readonly ms: number;
  readonly cpuMicros: number;
  readonly mainThreadCpuMicros: number | undefined;
  readonly deliveries: number;
  /** Store commits during the load (undefined with the metrics off). */
  readonly commits: number | undefined;
}

const ROOM = 'bench';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const [messages = 10_000, members = 100, senders = 10, window = 4] = args.map(Number);
  const bench = await startCoreBench('core-room');
  const clients: CoreClient[] = [];
  const answered = (client: CoreClient, cmd: string, args: object) =>
    new Promise<void>((resolve) => {
      client.onFrame = (frame) => {
        if ('re' in frame && frame.re !== null) resolve();
      };
      client.call(cmd, args);
    });
  for (let index = 0; index < members; index++) {
    const client = bench.attach();
    await answered(client, 'nick', { nick: `m${index}` });
    await answered(client, index === 0 ? 'create' : 'join', { room: ROOM });
    clients.push(client);
  }
  let deliveries = 0;
  let replies = 0;
  let sent = 0;
  const text = '~1.1.1 lorem ipsum dolor sit amet consectetur';
  const finished = new Promise<void>((resolve) => {
    clients.forEach((client, index) => {
      const sends = () => {
        while (client.outstanding < window && sent < messages) {
          sent++;
          client.call('say', { room: ROOM, text });
        }
        if (replies >= messages) resolve();
      };
      client.onFrame = (frame) => {
        if (!('re' in frame)) {
          if (frame.ev === 'message') deliveries++;
        } else if (frame.re !== null && index < senders) {
          replies++;
          sends();
        }
      };
    });
  });
  const commitsBefore = await bench.commits();
  const stopProfile = await profileAllocations();
  // Under --trace-gc-nvp, the collections between these lines are the load's.
  console.log(LOAD_START);
  const cpuBefore = process.cpuUsage();
  const mainBefore = mainThreadCpuMicros();
  const started = performance.now();
  for (let index = 0; index < senders; index++) {
    const client = clients[index]!;
    for (let n = 0; n < window && sent < messages; n++, sent++) {
      client.call('say', { room: ROOM, text });
    }
  }
  await finished;
  const ms = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const mainAfter = mainThreadCpuMicros();
  console.log(LOAD_END);
  await stopProfile();
  const commitsAfter = await bench.commits();
  const result: CoreRoomResult = {
    messages,
    members,
    senders,
    ms,
    cpuMicros: cpu.user + cpu.system,
    mainThreadCpuMicros:
      mainBefore === undefined || mainAfter === undefined ? undefined : mainAfter - mainBefore,
    deliveries,
    commits:
      commitsBefore === undefined || commitsAfter === undefined
        ? undefined
        : commitsAfter - commitsBefore,
  };
  console.log(JSON.stringify(result));
  await bench.stop();
}

await main();
process.exit(0);
