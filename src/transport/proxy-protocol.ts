import net from 'node:net';

/**
 * The PROXY protocol, versions 1 (text) and 2 (binary), as HAProxy's specification
 * (`proxy-protocol.txt`) defines it: the header a balancer writes at the very start of a
 * connection, before any byte of the client's, to say whom it is relaying.
 *
 * Only the receiving side is here, and only what a stream server needs: the client's
 * address and port. Strict on purpose: a header is believed only from a trusted balancer,
 * and anything that does not follow the specification to the letter is refused rather than
 * guessed at (see docs/architecture.md for why this is not a dependency).
 */

/** Where a connection really came from, by the balancer's word. */
export interface ProxiedEndpoint {
  readonly address: string;
  readonly port: number;
}

export type ProxyHeader =
  /** The balancer relays a client: these are the client's address and port. */
  | {
      readonly command: 'proxy';
      readonly version: 1 | 2;
      readonly source: ProxiedEndpoint;
      readonly destination: ProxiedEndpoint;
    }
  /**
   * The balancer speaks for itself (v2 `LOCAL`, as in a health check), or relays something
   * without an IP address (v1 `UNKNOWN`, v2 `UNSPEC` or a Unix socket): the connection's
   * own endpoints stand, as the specification requires.
   */
  | { readonly command: 'local'; readonly version: 1 | 2 };

export type HeaderRead =
  /** The bytes so far are the start of a header (or could be): wait for more. */
  | { readonly kind: 'incomplete' }
  /** The bytes do not start with either signature: they are the connection's own data. */
  | { readonly kind: 'absent' }
  /** A whole header; `length` bytes of the input were its, the rest is the client's. */
  | { readonly kind: 'header'; readonly header: ProxyHeader; readonly length: number }
  /** A signature followed by something the specification does not allow. */
  | { readonly kind: 'invalid'; readonly reason: string };

/** `PROXY ` opens a version 1 header. */
const V1_SIGNATURE = Buffer.from('PROXY ', 'latin1');
/** Twelve bytes that cannot begin any sane text protocol open a version 2 header. */
const V2_SIGNATURE = Buffer.from([
  0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
]);
/** A version 1 header is at most 107 bytes, its CR LF included (the worst case, TCP6). */
export const V1_MAX_BYTES = 107;
/** The fixed part of a version 2 header: signature, version and command, family, length. */
const V2_FIXED_BYTES = 16;
/** The address block's size for v2 TCP over IPv4 and over IPv6. */
const V2_INET_BYTES = 12;
const V2_INET6_BYTES = 36;

/** `a` starts with `b`, or `b` starts with `a` (a partial read of a signature). */
function agreeSoFar(input: Uint8Array, signature: Uint8Array): 'whole' | 'partial' | 'no' {
  const length = Math.min(input.length, signature.length);
  for (let i = 0; i < length; i++) if (input[i] !== signature[i]) return 'no';
  return input.length >= signature.length ? 'whole' : 'partial';
}

/**
 * Which header the first bytes of a connection begin, if any: `partial` while they are too
 * few to tell. Cheap enough to run on every connection's first read.
 */
export function proxySignature(input: Uint8Array): 'v1' | 'v2' | 'partial' | 'none' {
  const v1 = agreeSoFar(input, V1_SIGNATURE);
  if (v1 === 'whole') return 'v1';
  const v2 = agreeSoFar(input, V2_SIGNATURE);
  if (v2 === 'whole') return 'v2';
  return v1 === 'partial' || v2 === 'partial' ? 'partial' : 'none';
}

/**
 * Reads a header from the start of `input` (everything received so far). Call again with
 * more bytes while it answers `incomplete`; it never looks past the header's end.
 */
export function readProxyHeader(input: Uint8Array): HeaderRead {
  const bytes = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  switch (proxySignature(bytes)) {
    case 'partial':
      return { kind: 'incomplete' };
    case 'none':
      return { kind: 'absent' };
    case 'v1':
      return readV1(bytes);
    case 'v2':
      return readV2(bytes);
  }
}

const invalid = (reason: string): HeaderRead => ({ kind: 'invalid', reason });

/** `PROXY TCP4|TCP6 SRC DST SPORT DPORT\r\n` or `PROXY UNKNOWN...\r\n`. */
function readV1(bytes: Buffer): HeaderRead {
  const window = bytes.subarray(0, V1_MAX_BYTES);
  const end = window.indexOf('\r\n', 0, 'latin1');
  if (end < 0) {
    // Only printable ASCII may come before the CR LF; a lone CR or LF ends hope early.
    for (let i = V1_SIGNATURE.length; i < window.length; i++) {
      const byte = window[i]!;
      if (byte === 0x0d && i === window.length - 1) break;
      if (byte < 0x20 || byte > 0x7e)
        return invalid('a version 1 header holds only printable ASCII');
    }
    return window.length >= V1_MAX_BYTES
      ? invalid(`a version 1 header ends with CR LF within ${V1_MAX_BYTES} bytes`)
      : { kind: 'incomplete' };
  }
  const line = window.toString('latin1', 0, end);
  if (!/^[\x20-\x7e]*$/.test(line)) return invalid('a version 1 header holds only printable ASCII');
  const fields = line.split(' ');
  const protocol = fields[1];
  const length = end + 2;
  // The specification lets a receiver ignore whatever follows UNKNOWN.
  if (protocol === 'UNKNOWN')
    return { kind: 'header', header: { command: 'local', version: 1 }, length };
  if (protocol !== 'TCP4' && protocol !== 'TCP6')
    return invalid(`"${protocol ?? ''}" is not TCP4, TCP6 or UNKNOWN`);
  if (fields.length !== 6) return invalid('a version 1 header has 6 fields, one space apart');
  const [, , sourceText = '', destinationText = '', sourcePort = '', destinationPort = ''] = fields;
  const family = protocol === 'TCP4' ? 4 : 6;
  const source = textAddress(sourceText, family);
  const destination = textAddress(destinationText, family);
  if (source === undefined || destination === undefined)
    return invalid(`the addresses are not both IPv${family} addresses`);
  const ports = [decimalPort(sourcePort), decimalPort(destinationPort)] as const;
  if (ports[0] === undefined || ports[1] === undefined)
    return invalid('a port is a decimal number from 0 to 65535 without leading zeros');
  return {
    kind: 'header',
    header: {
      command: 'proxy',
      version: 1,
      source: { address: source, port: ports[0] },
      destination: { address: destination, port: ports[1] },
    },
    length,
  };
}

/** An address as the socket layer would print it (IPv6 compressed, lower case), or undefined. */
function textAddress(text: string, family: 4 | 6): string | undefined {
  if (net.isIP(text) !== family || text.includes('%')) return undefined;
  return canonical(text, family);
}

function canonical(text: string, family: 4 | 6): string {
  return new net.SocketAddress({ address: text, family: family === 4 ? 'ipv4' : 'ipv6' }).address;
}

function decimalPort(text: string): number | undefined {
  if (!/^(0|[1-9]\d{0,4})$/.test(text)) return undefined;
  const port = Number(text);
  return port <= 65535 ? port : undefined;
}

/** The binary header: 16 fixed bytes, then `length` bytes of addresses and TLVs. */
function readV2(bytes: Buffer): HeaderRead {
  if (bytes.length < V2_FIXED_BYTES) return { kind: 'incomplete' };
  const versionCommand = bytes[12]!;
  if (versionCommand >> 4 !== 2) return invalid(`version ${versionCommand >> 4} is not 2`);
  const command = versionCommand & 0x0f;
  if (command > 1) return invalid(`command ${command} is neither LOCAL (0) nor PROXY (1)`);
  const familyProtocol = bytes[13]!;
  const blockLength = bytes.readUInt16BE(14);
  const length = V2_FIXED_BYTES + blockLength;
  if (bytes.length < length) return { kind: 'incomplete' };
  const block = bytes.subarray(V2_FIXED_BYTES, length);
  // LOCAL: the balancer's own connection (a health check); whatever follows is ignored.
  if (command === 0) return { kind: 'header', header: { command: 'local', version: 2 }, length };
  let addressBytes: number;
  switch (familyProtocol) {
    case 0x00: // UNSPEC: nothing to say about the source
    case 0x31: // a Unix stream socket: no IP address to give
      addressBytes = familyProtocol === 0x31 ? 216 : 0;
      if (block.length < addressBytes) return invalid('the address block is too short');
      return tlvsValid(block.subarray(addressBytes))
        ? { kind: 'header', header: { command: 'local', version: 2 }, length }
        : invalid('the TLVs after the addresses do not add up');
    case 0x11: // TCP over IPv4
      addressBytes = V2_INET_BYTES;
      break;
    case 0x21: // TCP over IPv6
      addressBytes = V2_INET6_BYTES;
      break;
    case 0x12:
    case 0x22:
    case 0x32:
      return invalid('a datagram source on a stream connection');
    default:
      return invalid(`address family and protocol 0x${familyProtocol.toString(16)} is not defined`);
  }
  if (block.length < addressBytes) return invalid('the address block is too short');
  if (!tlvsValid(block.subarray(addressBytes)))
    return invalid('the TLVs after the addresses do not add up');
  const ipv4 = familyProtocol === 0x11;
  const size = ipv4 ? 4 : 16;
  const source = binaryAddress(block.subarray(0, size), ipv4);
  const destination = binaryAddress(block.subarray(size, 2 * size), ipv4);
  return {
    kind: 'header',
    header: {
      command: 'proxy',
      version: 2,
      source: { address: source, port: block.readUInt16BE(2 * size) },
      destination: { address: destination, port: block.readUInt16BE(2 * size + 2) },
    },
    length,
  };
}

function binaryAddress(bytes: Buffer, ipv4: boolean): string {
  if (ipv4) return bytes.join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  return canonical(groups.join(':'), 6);
}

/**
 * Type-length-value records fill the rest of the block exactly: one that claims more bytes
 * than are left means the sender and this reader disagree on the header, so nothing after
 * it can be trusted either. Their contents (TLS details, unique ids) are not used.
 */
function tlvsValid(tlvs: Buffer): boolean {
  let at = 0;
  while (at < tlvs.length) {
    if (at + 3 > tlvs.length) return false;
    at += 3 + tlvs.readUInt16BE(at + 1);
  }
  return at === tlvs.length;
}

/** Test and tool side: a version 1 header for this client endpoint. */
export function encodeV1(source: ProxiedEndpoint, destination: ProxiedEndpoint): Buffer {
  const family = net.isIPv6(source.address) ? 'TCP6' : 'TCP4';
  return Buffer.from(
    `PROXY ${family} ${source.address} ${destination.address} ${source.port} ${destination.port}\r\n`,
    'latin1',
  );
}

/** Test and tool side: a version 2 header (`LOCAL` without endpoints), with optional TLVs. */
export function encodeV2(
  endpoints: { source: ProxiedEndpoint; destination: ProxiedEndpoint } | 'local',
  tlvs: Uint8Array = new Uint8Array(),
): Buffer {
  let family = 0x00;
  let addresses = Buffer.alloc(0);
  if (endpoints !== 'local') {
    const ipv6 = net.isIPv6(endpoints.source.address);
    family = ipv6 ? 0x21 : 0x11;
    const size = ipv6 ? 16 : 4;
    addresses = Buffer.alloc(2 * size + 4);
    addressBytes(endpoints.source.address, ipv6).copy(addresses, 0);
    addressBytes(endpoints.destination.address, ipv6).copy(addresses, size);
    addresses.writeUInt16BE(endpoints.source.port, 2 * size);
    addresses.writeUInt16BE(endpoints.destination.port, 2 * size + 2);
  }
  const fixed = Buffer.alloc(V2_FIXED_BYTES);
  V2_SIGNATURE.copy(fixed);
  fixed[12] = endpoints === 'local' ? 0x20 : 0x21;
  fixed[13] = family;
  fixed.writeUInt16BE(addresses.length + tlvs.length, 14);
  return Buffer.concat([fixed, addresses, tlvs]);
}

function addressBytes(address: string, ipv6: boolean): Buffer {
  if (!ipv6) return Buffer.from(address.split('.').map(Number));
  const [head = '', tail] = address.split('::');
  // A trailing dotted IPv4 part (`::ffff:192.0.2.1`) is two groups.
  const parse = (part: string) =>
    part === ''
      ? []
      : part.split(':').flatMap((group) => {
          if (!group.includes('.')) return [group];
          const [a = 0, b = 0, c = 0, d = 0] = group.split('.').map(Number);
          return [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)];
        });
  const headGroups = parse(head);
  const tailGroups = tail === undefined ? [] : parse(tail);
  const groups = [
    ...headGroups,
    ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'),
    ...tailGroups,
  ];
  const out = Buffer.alloc(16);
  groups.forEach((group, i) => out.writeUInt16BE(parseInt(group, 16), 2 * i));
  return out;
}
