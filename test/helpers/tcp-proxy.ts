import net from 'node:net';

/**
 * A TCP forwarder on a loopback port the test controls, to cut one node off from a shared
 * service (Redis) while the others keep it: `cut()` stops every byte in both directions
 * with the connections left open, as a network partition does (nothing is closed, nothing
 * arrives); `heal()` lets the held bytes through again. `drop()` ends every connection
 * at once, bytes held by a cut included (a Wi-Fi handover, a NAT forgetting a mapping), and
 * lets new ones through.
 */
export interface TcpProxy {
  readonly port: number;
  cut(): void;
  heal(): void;
  drop(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(
  targetPort: number,
  targetHost = '127.0.0.1',
): Promise<TcpProxy> {
  const pairs = new Set<[net.Socket, net.Socket]>();
  let isCut = false;
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, targetHost);
    const pair: [net.Socket, net.Socket] = [client, upstream];
    pairs.add(pair);
    client.pipe(upstream);
    upstream.pipe(client);
    if (isCut) for (const socket of pair) socket.pause();
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    cut() {
      isCut = true;
      for (const pair of pairs) for (const socket of pair) socket.pause();
    },
    heal() {
      isCut = false;
      for (const pair of pairs) for (const socket of pair) socket.resume();
    },
    drop() {
      isCut = false;
      for (const [a, b] of pairs) {
        a.destroy();
        b.destroy();
      }
      pairs.clear();
    },
    async close() {
      for (const [a, b] of pairs) {
        a.destroy();
        b.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
