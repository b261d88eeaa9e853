import net from 'node:net';

const IPV4_MAPPED = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

/**
 * One spelling per address, for what applies to an exact address (address bans, the
 * address a name last came from): an IPv4-mapped IPv6 address is its IPv4 address.
 */
export function canonicalAddress(address: string): string {
  return IPV4_MAPPED.exec(address)?.[1] ?? address;
}

/**
 * The one address normaliser for limits (connections, sessions, login lockouts, guests'
 * upload quota): the address a per-address limit counts against. IPv4 (also when it arrives as an
 * IPv4-mapped IPv6 address) counts per address; IPv6 per /64, because one host commonly
 * holds a whole /64 and could otherwise sidestep any limit by changing its low bits.
 */
export function addressGroup(address: string): string {
  const mapped = IPV4_MAPPED.exec(address);
  if (mapped) return mapped[1]!;
  if (!net.isIPv6(address)) return address;
  const withoutZone = address.split('%')[0]!;
  const [head = '', tail] = withoutZone.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const missing = 8 - headGroups.length - tailGroups.length;
  const groups = [...headGroups, ...Array<string>(Math.max(missing, 0)).fill('0'), ...tailGroups];
  return (
    groups
      .slice(0, 4)
      .map((group) => Number.parseInt(group, 16).toString(16))
      .join(':') + '::/64'
  );
}
