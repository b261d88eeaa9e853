import type { CommandDefinition } from './command.js';
import { exemptCommand, unexemptCommand } from './flood.js';
import { broadcastCommand, msgCommand, sayCommand } from './messaging.js';
import { whoCommand, whoelseCommand } from './presence.js';
import { nickCommand, pingCommand, quitCommand, registerCommand } from './session-commands.js';

/** The command table: every command a client or the console can run, in catalogue order. */
export const ALL_COMMANDS: readonly CommandDefinition[] = [
  nickCommand,
  sayCommand,
  msgCommand,
  broadcastCommand,
  whoCommand,
  whoelseCommand,
  registerCommand,
  pingCommand,
  quitCommand,
  exemptCommand,
  unexemptCommand,
];
