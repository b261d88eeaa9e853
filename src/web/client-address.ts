import net from 'node:net';

/**
 * The addresses whose word on a client's address is believed (`net.trustedProxies`): a
 * balancer or reverse proxy in front of the server. Anyone else could forge the header.
 */
export class TrustedProxies {
  private readonly list = new net.BlockList();
  readonly isEmpty: boolean;

  constructor(cidrs: readonly string[]) {
    for (const cidr of cidrs) {
      const [address = '', bits] = cidr.split('/');
      const family = net.isIPv6(address) ? 'ipv6' : 'ipv4';
      if (bits === undefined) this.list.addAddress(address, family);
      else this.list.addSubnet(address, Number(bits), family);
    }
    this.isEmpty = cidrs.length === 0;
  }

  trusts(address: string): boolean {
    if (this.isEmpty || net.isIP(address) === 0) return false;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped) return this.list.check(mapped[1]!, 'ipv4');
    return this.list.check(address, net.isIPv6(address) ? 'ipv6' : 'ipv4');
  }
}

/**
 * The client behind a request. `X-Forwarded-For` lists the hops a request passed,
 * nearest last; it is read from the right only while each hop is a trusted proxy, so a
 * client cannot choose its address by writing the header itself.
 */
export function clientAddress(
  peer: string,
  forwardedFor: string | readonly string[] | undefined,
  trusted: TrustedProxies,
): string {
  if (forwardedFor === undefined || !trusted.trusts(peer)) return peer;
  const hops = (typeof forwardedFor === 'string' ? forwardedFor : forwardedFor.join(','))
    .split(',')
    .map((hop) => hop.trim())
    .filter((hop) => hop !== '');
  let address = peer;
  while (hops.length > 0 && trusted.trusts(address)) {
    const hop = hops.pop()!;
    // A malformed hop ends the chain: what the proxy vouched for stops here.
    if (net.isIP(hop) === 0) break;
    address = hop;
  }
  return address;
}
