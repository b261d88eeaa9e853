import net from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  encodeV1,
  encodeV2,
  proxySignature,
  readProxyHeader,
  V1_MAX_BYTES,
  type HeaderRead,
} from '../src/transport/proxy-protocol.js';

const latin1 = (text: string) => Buffer.from(text, 'latin1');
const V2_SIGNATURE = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');

/** A v2 header from its raw parts, to write what no well-behaved encoder would. */
function v2(versionCommand: number, family: number, block: Buffer, length = block.length): Buffer {
  const fixed = Buffer.alloc(4);
  fixed[0] = versionCommand;
  fixed[1] = family;
  fixed.writeUInt16BE(length, 2);
  return Buffer.concat([V2_SIGNATURE, fixed, block]);
}

function expectHeader(read: HeaderRead) {
  if (read.kind !== 'header') throw new Error(`expected a header, got ${JSON.stringify(read)}`);
  return read;
}

function expectInvalid(bytes: Buffer, reason: RegExp) {
  const read = readProxyHeader(bytes);
  expect(read.kind, JSON.stringify(bytes.toString('latin1'))).toBe('invalid');
  if (read.kind === 'invalid') expect(read.reason).toMatch(reason);
}

describe('PROXY protocol version 1', () => {
  it('reads TCP4 and tells where the client data starts', () => {
    const header = latin1('PROXY TCP4 203.0.113.7 192.0.2.1 40000 7777\r\n');
    const read = expectHeader(readProxyHeader(Buffer.concat([header, latin1('{"id":1}\n')])));
    expect(read.length).toBe(header.length);
    expect(read.header).toEqual({
      command: 'proxy',
      version: 1,
      source: { address: '203.0.113.7', port: 40000 },
      destination: { address: '192.0.2.1', port: 7777 },
    });
  });

  it('reads TCP6 and writes the addresses as the socket layer would', () => {
    const read = expectHeader(
      readProxyHeader(latin1('PROXY TCP6 2001:DB8:0:0:0:0:0:7 2001:db8::1 65535 0\r\n')),
    );
    expect(read.header).toMatchObject({
      source: { address: '2001:db8::7', port: 65535 },
      destination: { address: '2001:db8::1', port: 0 },
    });
  });

  it('takes UNKNOWN, with or without what follows it, as the connection speaking for itself', () => {
    for (const line of ['PROXY UNKNOWN\r\n', 'PROXY UNKNOWN ffff:: ffff:: 1 2\r\n']) {
      const read = expectHeader(readProxyHeader(latin1(line)));
      expect(read).toEqual({
        kind: 'header',
        header: { command: 'local', version: 1 },
        length: line.length,
      });
    }
  });

  it('refuses what the specification does not allow', () => {
    expectInvalid(latin1('PROXY TCP4 203.0.113.7 192.0.2.1 040000 7777\r\n'), /port/);
    expectInvalid(latin1('PROXY TCP4 203.0.113.7 192.0.2.1 65536 7777\r\n'), /port/);
    expectInvalid(latin1('PROXY TCP4 203.0.113.7 192.0.2.1 -1 7777\r\n'), /port/);
    expectInvalid(latin1('PROXY TCP4 203.0.113.7  192.0.2.1 1 7777\r\n'), /6 fields/);
    expectInvalid(latin1('PROXY TCP4 203.0.113.7 192.0.2.1 1\r\n'), /6 fields/);
    expectInvalid(latin1('PROXY TCP4 2001:db8::1 192.0.2.1 1 2\r\n'), /IPv4/);
    expectInvalid(latin1('PROXY TCP6 203.0.113.7 2001:db8::1 1 2\r\n'), /IPv6/);
    expectInvalid(latin1('PROXY TCP6 fe80::1%eth0 2001:db8::1 1 2\r\n'), /IPv6/);
    expectInvalid(latin1('PROXY TCP4 203.0.113.007 192.0.2.1 1 2\r\n'), /IPv4/);
    expectInvalid(latin1('PROXY UDP4 203.0.113.7 192.0.2.1 1 2\r\n'), /TCP4, TCP6 or UNKNOWN/);
    expectInvalid(latin1('PROXY tcp4 203.0.113.7 192.0.2.1 1 2\r\n'), /TCP4, TCP6 or UNKNOWN/);
    // A bare LF, a CR not followed by LF, a byte outside printable ASCII.
    expectInvalid(latin1('PROXY TCP4 203.0.113.7 192.0.2.1 1 2\n'), /printable ASCII/);
    expectInvalid(latin1('PROXY TCP4 203.0.113.7\r192.0.2.1 1 2\r\n'), /printable ASCII/);
    expectInvalid(latin1('PROXY TCP4 203.0.113.7 192.0.2.1 1 2\u00e9\r\n'), /printable ASCII/);
    // Never a line longer than the longest legal one, however patient the sender.
    expectInvalid(latin1('PROXY UNKNOWN ' + 'x'.repeat(V1_MAX_BYTES)), /within 107 bytes/);
  });

  it('accepts the longest legal header and nothing longer', () => {
    const longest = latin1(
      // The specification's own worst case: UNKNOWN with two full IPv6 addresses and ports.
      'PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n',
    );
    expect(longest.length).toBe(V1_MAX_BYTES);
    expect(expectHeader(readProxyHeader(longest)).length).toBe(V1_MAX_BYTES);
    const tooLong = latin1(`PROXY UNKNOWN ${'x'.repeat(V1_MAX_BYTES - 15)}\r\n`);
    expect(tooLong.length).toBe(V1_MAX_BYTES + 1);
    expectInvalid(tooLong, /within 107 bytes/);
  });
});

describe('PROXY protocol version 2', () => {
  it('reads TCP over IPv4 and IPv6, skipping TLVs', () => {
    const tlv = Buffer.from([0x05, 0x00, 0x03, 0x61, 0x62, 0x63]); // PP2_TYPE_UNIQUE_ID "abc"
    const four = encodeV2(
      {
        source: { address: '203.0.113.7', port: 40000 },
        destination: { address: '192.0.2.1', port: 7777 },
      },
      tlv,
    );
    const read = expectHeader(readProxyHeader(Buffer.concat([four, latin1('rest')])));
    expect(read.length).toBe(four.length);
    expect(read.header).toEqual({
      command: 'proxy',
      version: 2,
      source: { address: '203.0.113.7', port: 40000 },
      destination: { address: '192.0.2.1', port: 7777 },
    });
    const six = encodeV2({
      source: { address: '2001:db8::7', port: 1 },
      destination: { address: '2001:db8:0:1::', port: 2 },
    });
    expect(expectHeader(readProxyHeader(six)).header).toMatchObject({
      source: { address: '2001:db8::7', port: 1 },
      destination: { address: '2001:db8:0:1::', port: 2 },
    });
  });

  it('takes LOCAL (a health check), UNSPEC and Unix sources as the connection itself', () => {
    const local = encodeV2('local');
    expect(readProxyHeader(local)).toEqual({
      kind: 'header',
      header: { command: 'local', version: 2 },
      length: 16,
    });
    // LOCAL with an address block anyway: the block is skipped whole.
    const withBlock = v2(0x20, 0x11, Buffer.alloc(12, 7));
    expect(expectHeader(readProxyHeader(withBlock)).length).toBe(28);
    expect(expectHeader(readProxyHeader(v2(0x21, 0x00, Buffer.alloc(0)))).header.command).toBe(
      'local',
    );
    expect(expectHeader(readProxyHeader(v2(0x21, 0x31, Buffer.alloc(216)))).header.command).toBe(
      'local',
    );
  });

  it('refuses what the specification does not allow', () => {
    expectInvalid(v2(0x11, 0x11, Buffer.alloc(12)), /version 1 is not 2/);
    expectInvalid(v2(0x22, 0x11, Buffer.alloc(12)), /command 2/);
    expectInvalid(v2(0x21, 0x12, Buffer.alloc(12)), /datagram/);
    expectInvalid(v2(0x21, 0x22, Buffer.alloc(36)), /datagram/);
    expectInvalid(v2(0x21, 0x41, Buffer.alloc(12)), /0x41 is not defined/);
    expectInvalid(v2(0x21, 0x13, Buffer.alloc(12)), /not defined/);
    expectInvalid(v2(0x21, 0x11, Buffer.alloc(11)), /too short/);
    expectInvalid(v2(0x21, 0x21, Buffer.alloc(12)), /too short/);
    expectInvalid(v2(0x21, 0x31, Buffer.alloc(100)), /too short/);
    // A TLV claiming more than is left, and one cut in its own header.
    expectInvalid(
      v2(0x21, 0x11, Buffer.concat([Buffer.alloc(12), Buffer.from([1, 0, 9, 0])])),
      /TLVs/,
    );
    expectInvalid(v2(0x21, 0x11, Buffer.concat([Buffer.alloc(12), Buffer.from([1, 0])])), /TLVs/);
  });

  it('waits for the whole announced length before reading', () => {
    const header = encodeV2(
      {
        source: { address: '203.0.113.7', port: 1 },
        destination: { address: '192.0.2.1', port: 2 },
      },
      Buffer.alloc(300),
    );
    expect(readProxyHeader(header.subarray(0, header.length - 1))).toEqual({ kind: 'incomplete' });
    expect(expectHeader(readProxyHeader(header)).length).toBe(header.length);
  });
});

describe('telling a header from client data', () => {
  it('answers absent for the native protocol and TLS, as soon as one byte says so', () => {
    expect(readProxyHeader(latin1('{"id":1,"cmd":"ping"}\n'))).toEqual({ kind: 'absent' });
    expect(readProxyHeader(Buffer.from([0x16, 0x03, 0x01]))).toEqual({ kind: 'absent' });
    expect(proxySignature(latin1('{'))).toBe('none');
    expect(proxySignature(latin1('PROXX'))).toBe('none');
    expect(proxySignature(latin1('PROXY'))).toBe('partial');
    expect(proxySignature(latin1('\r\n\r\n\r\n'))).toBe('none');
    expect(proxySignature(latin1('\r\n\r\n'))).toBe('partial');
    expect(proxySignature(Buffer.alloc(0))).toBe('partial');
  });

  it('never decides before the last byte of any header (every split point)', () => {
    const headers = [
      latin1('PROXY TCP4 203.0.113.7 192.0.2.1 40000 7777\r\n'),
      latin1('PROXY UNKNOWN\r\n'),
      encodeV2('local'),
      encodeV2({
        source: { address: '2001:db8::7', port: 1 },
        destination: { address: '2001:db8::1', port: 2 },
      }),
    ];
    for (const header of headers) {
      for (let cut = 0; cut < header.length; cut++)
        expect(readProxyHeader(header.subarray(0, cut)), `${cut} of ${header.length}`).toEqual({
          kind: 'incomplete',
        });
      expect(expectHeader(readProxyHeader(header)).length).toBe(header.length);
    }
  });
});

describe('properties over generated input', () => {
  const endpoint = (address: fc.Arbitrary<string>) =>
    fc.record({ address, port: fc.integer({ min: 0, max: 65535 }) });
  const tlv = fc
    .tuple(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 40 }))
    .map(([type, value]) => {
      const head = Buffer.from([type, 0, 0]);
      head.writeUInt16BE(value.length, 1);
      return Buffer.concat([head, value]);
    });

  it('reads back every header it can encode, whatever follows', () => {
    fc.assert(
      fc.property(
        fc
          .oneof(fc.constant(fc.ipV4()), fc.constant(fc.ipV6()))
          .chain((address) =>
            fc.record({ source: endpoint(address), destination: endpoint(address) }),
          ),
        fc.array(tlv, { maxLength: 4 }),
        fc.uint8Array({ maxLength: 64 }),
        ({ source, destination }, tlvs, trailing) => {
          for (const header of [
            encodeV1(source, destination),
            encodeV2({ source, destination }, Buffer.concat(tlvs)),
          ]) {
            const read = expectHeader(readProxyHeader(Buffer.concat([header, trailing])));
            expect(read.length).toBe(header.length);
            if (read.header.command !== 'proxy') throw new Error('not a proxy header');
            expect(read.header.source.port).toBe(source.port);
            expect(read.header.destination.port).toBe(destination.port);
            // The same address, written the way the socket layer writes it.
            const family = net.isIPv6(source.address) ? 'ipv6' : 'ipv4';
            expect(read.header.source.address).toBe(
              new net.SocketAddress({ address: source.address, family }).address,
            );
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never throws and never claims more bytes than it was given, on mangled or random input', () => {
    const valid = [
      latin1('PROXY TCP6 2001:db8::7 2001:db8::1 40000 7777\r\n'),
      encodeV2(
        {
          source: { address: '203.0.113.7', port: 1 },
          destination: { address: '192.0.2.1', port: 2 },
        },
        Buffer.from([4, 0, 1, 0]),
      ),
    ];
    const mangled = fc
      .tuple(
        fc.constantFrom(...valid),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 3,
        }),
        fc.nat(),
      )
      .map(([header, flips, keep]) => {
        const input = Buffer.from(header);
        for (const [at, value] of flips) input[at % input.length] = value;
        return input.subarray(0, keep % (input.length + 1));
      });
    const signatureThenNoise = fc
      .tuple(fc.constantFrom(V2_SIGNATURE, latin1('PROXY ')), fc.uint8Array({ maxLength: 200 }))
      .map(([signature, noise]) => Buffer.concat([signature, noise]));
    const kinds = new Set<string>();
    fc.assert(
      fc.property(
        // The valid headers themselves are one branch: a mangled one is only rarely still whole,
        // and the check below needs every outcome reached on every seed.
        fc.oneof(
          fc.constantFrom(...valid),
          mangled,
          signatureThenNoise,
          fc.uint8Array({ maxLength: 120 }),
        ),
        (input) => {
          const read = readProxyHeader(input);
          kinds.add(read.kind);
          if (read.kind !== 'header') return;
          expect(read.length).toBeLessThanOrEqual(input.length);
          if (read.header.command === 'proxy') {
            expect(read.header.source.port).toBeLessThan(65536);
            expect(net.isIP(read.header.source.address)).not.toBe(0);
          }
        },
      ),
      { numRuns: 3000 },
    );
    // The generators reached every outcome, so the checks above were not vacuous.
    expect([...kinds].sort()).toEqual(['absent', 'header', 'incomplete', 'invalid']);
  });
});
