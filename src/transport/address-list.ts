import net from 'node:net';

/**
 * Checks one entry of an address list (`net.trustedProxies`, `metrics.allow`): an IP
 * address or `address/bits`. Returns why it is not one, or undefined when it is.
 */
export function invalidAddressEntry(entry: string): string | undefined {
  const [address = '', bits, extra] = entry.split('/');
  const family = net.isIP(address);
  const maxBits = family === 6 ? 128 : 32;
  if (
    family === 0 ||
    address.includes('%') ||
    extra !== undefined ||
    (bits !== undefined && (!/^\d{1,3}$/.test(bits) || Number(bits) > maxBits))
  )
    return `"${entry}" is not an address or CIDR block (like 10.0.0.0/8 or fd00::/8)`;
  return undefined;
}

/** An IPv4 address that arrived as IPv4-mapped IPv6 (a dual-stack socket's `::ffff:a.b.c.d`). */
const MAPPED_IPV4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

/**
 * A set of addresses and CIDR blocks, asked whether it holds an address. One matcher for
 * every list of the kind: the balancers whose PROXY header (native listeners) or
 * `X-Forwarded-For` (web listener) is believed, and who may read `/metrics`.
 *
 * An IPv4 address is matched whether it arrives plain or IPv4-mapped, so `10.0.0.0/8`
 * covers a balancer seen through a dual-stack socket as `::ffff:10.1.2.3`.
 */
export class AddressList {
  private readonly list = new net.BlockList();
  readonly isEmpty: boolean;

  /** Entries are checked by the config (see `invalidAddressEntry`); a bad one throws here. */
  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const problem = invalidAddressEntry(entry);
      if (problem) throw new Error(problem);
      const [address = '', bits] = entry.split('/');
      const family = net.isIPv6(address) ? 'ipv6' : 'ipv4';
      if (bits === undefined) this.list.addAddress(address, family);
      else this.list.addSubnet(address, Number(bits), family);
    }
    this.isEmpty = entries.length === 0;
  }

  includes(address: string | undefined): boolean {
    if (this.isEmpty || address === undefined || net.isIP(address) === 0) return false;
    const mapped = MAPPED_IPV4.exec(address);
    if (mapped) return this.list.check(mapped[1]!, 'ipv4');
    return this.list.check(address, net.isIPv6(address) ? 'ipv6' : 'ipv4');
  }
}
