/**
 * IRCv3 capability negotiation (CAP LS/LIST/REQ/END, version 302, cap-notify). The
 * capabilities offered are those the gateway implements in full; each is what its
 * specification at ircv3.net says.
 */
export const CAPABILITIES = [
  'account-notify',
  'account-tag',
  'away-notify',
  'batch',
  'cap-notify',
  'draft/chathistory',
  'echo-message',
  'extended-join',
  'labeled-response',
  'message-tags',
  'multi-prefix',
  'sasl',
  'server-time',
  'standard-replies',
  'userhost-in-names',
] as const;

export type Capability = (typeof CAPABILITIES)[number];

const OFFERED: ReadonlySet<string> = new Set(CAPABILITIES);

/** Values shown to clients that negotiate CAP version 302 or later. */
const VALUES: Partial<Record<Capability, string>> = { sasl: 'PLAIN' };

export function isCapability(name: string): name is Capability {
  return OFFERED.has(name);
}

/** `CAP LS` tokens, with values for 302 clients. */
export function capabilityTokens(version: number): string[] {
  return CAPABILITIES.map((cap) => {
    const value = VALUES[cap];
    return version >= 302 && value !== undefined ? `${cap}=${value}` : cap;
  });
}

/**
 * Splits space-separated tokens into lines whose joined text stays under `maxBytes`, for
 * multiline `CAP LS` and RPL_ISUPPORT.
 */
export function splitTokens(tokens: readonly string[], maxBytes: number): string[][] {
  const lines: string[][] = [];
  let current: string[] = [];
  let size = 0;
  for (const token of tokens) {
    const bytes = Buffer.byteLength(token) + 1;
    if (current.length > 0 && size + bytes > maxBytes) {
      lines.push(current);
      current = [];
      size = 0;
    }
    current.push(token);
    size += bytes;
  }
  if (current.length > 0 || lines.length === 0) lines.push(current);
  return lines;
}

/**
 * A `CAP REQ` is applied all or nothing: any unknown capability, or removing one that
 * cannot be removed, refuses the whole request (NAK).
 */
export function parseCapRequest(
  text: string,
): { ok: true; add: Capability[]; remove: Capability[] } | { ok: false } {
  const add: Capability[] = [];
  const remove: Capability[] = [];
  for (const token of text.split(' ')) {
    if (token === '') continue;
    const removing = token.startsWith('-');
    const name = removing ? token.slice(1) : token;
    if (!isCapability(name)) return { ok: false };
    // cap-notify cannot be turned off by a 302 client; we refuse removing it from anyone.
    if (removing && name === 'cap-notify') return { ok: false };
    (removing ? remove : add).push(name);
  }
  if (add.length + remove.length === 0) return { ok: false };
  return { ok: true, add, remove };
}
