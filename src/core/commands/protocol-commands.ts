import { z } from 'zod';
import type { Capability } from '../../protocol/events.js';
import { pickVersion } from '../../protocol/version.js';
import { ChatError } from '../errors.js';
import type { Link } from '../session.js';
import type { ChatCore } from '../chat-core.js';
import { defineCommand } from './command.js';

/** The optional features this server offers on this link. */
export function offeredCapabilities(core: ChatCore, link: Link): Capability[] {
  const offered: Capability[] = [];
  if (link.outlet.sendBulk) offered.push('files');
  if (core.params['resume.graceSeconds'] > 0) offered.push('resume');
  return offered;
}

/**
 * Version negotiation: the client lists the protocol versions it speaks and the optional
 * features it wants; the server picks the newest common version and grants the features
 * it offers. A client that skips this speaks the greeting's `protocol`.
 */
export const helloCommand = defineCommand({
  phase: 'any',
  info: {
    name: 'hello',
    aliases: [],
    bare: [],
    args: [
      { name: 'protocols', kind: 'integers' },
      { name: 'capabilities', kind: 'words', optional: true },
    ],
    summary: 'agree on a protocol version and optional features',
    group: 'session',
    hidden: true,
  },
  args: z.object({
    protocols: z.array(z.number().int().min(1)).min(1).max(16),
    capabilities: z.array(z.string().max(64)).max(32).optional(),
  }),
  handle({ core, link, after }, { protocols, capabilities = [] }) {
    const protocol = pickVersion(protocols);
    if (protocol === undefined) {
      after(() => core.closeLink(link, 'unsupported_version', 'No protocol version in common'));
      throw new ChatError(
        'unsupported_version',
        `This server speaks protocol ${core.describe().protocols.join(', ')}`,
        { protocols: core.describe().protocols },
      );
    }
    const offered = offeredCapabilities(core, link);
    return {
      protocol,
      capabilities: offered.filter((name) => capabilities.includes(name)),
    };
  },
});

/** The command catalogue, which `hello` names by hash only: clients cache it by that hash. */
export const catalogueCommand = defineCommand({
  phase: 'any',
  info: {
    name: 'catalogue',
    aliases: [],
    bare: [],
    args: [],
    summary: 'the list of commands and their arguments',
    group: 'session',
    hidden: true,
  },
  args: z.object({}),
  handle({ core }) {
    return { hash: core.catalogueHash, commands: core.commands() };
  },
});
