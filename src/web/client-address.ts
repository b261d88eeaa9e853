import net from 'node:net';
import type { AddressList } from '../transport/address-list.js';

/**
 * The client behind a request. `X-Forwarded-For` lists the hops a request passed,
 * nearest last; it is read from the right only while each hop is a trusted proxy, so a
 * client cannot choose its address by writing the header itself.
 */
export function clientAddress(
  peer: string,
  forwardedFor: string | readonly string[] | undefined,
  trusted: AddressList,
): string {
  if (forwardedFor === undefined || !trusted.includes(peer)) return peer;
  const hops = (typeof forwardedFor === 'string' ? forwardedFor : forwardedFor.join(','))
    .split(',')
    .map((hop) => hop.trim())
    .filter((hop) => hop !== '');
  let address = peer;
  while (hops.length > 0 && trusted.includes(address)) {
    const hop = hops.pop()!;
    // A malformed hop ends the chain: what the proxy vouched for stops here.
    if (net.isIP(hop) === 0) break;
    address = hop;
  }
  return address;
}
