import { CASE_COMMANDS } from './cases.js';
import type { CommandDefinition } from './command.js';
import { exemptCommand, unexemptCommand } from './flood.js';
import { FILE_COMMANDS } from './files.js';
import { broadcastCommand, msgCommand, sayCommand } from './messaging.js';
import { blockCommand, blockedCommand, unblockCommand } from './blocking.js';
import { inboxCommand } from './inbox.js';
import { awayCommand, whoCommand, whoelseCommand } from './presence.js';
import { historyCommand, membersCommand, roomsCommand, topicCommand } from './room-info.js';
import { closeCommand, createCommand, joinCommand, leaveCommand } from './rooms.js';
import { removeCommand } from './room-removal.js';
import { whoisCommand, wholasthrCommand } from './whois.js';
import {
  announceCommand,
  banCommand,
  bansCommand,
  forgiveCommand,
  kickCommand,
  lockCommand,
  monitorCommand,
  suspendCommand,
  unbanCommand,
  unlockCommand,
} from './moderation.js';
import { configCommand, shutdownCommand, usersCommand } from './server-admin.js';
import { deregisterCommand, lockoutsCommand, passwdCommand, registerCommand } from './accounts.js';
import { resumeCommand } from './resume.js';
import { nickCommand, pingCommand, quitCommand } from './session-commands.js';
import { catalogueCommand, helloCommand } from './protocol-commands.js';

/** The command table: every command a client or the console can run, in catalogue order. */
export const ALL_COMMANDS: readonly CommandDefinition[] = [
  nickCommand,
  sayCommand,
  msgCommand,
  broadcastCommand,
  whoCommand,
  whoelseCommand,
  wholasthrCommand,
  whoisCommand,
  awayCommand,
  inboxCommand,
  historyCommand,
  roomsCommand,
  createCommand,
  joinCommand,
  leaveCommand,
  closeCommand,
  removeCommand,
  topicCommand,
  membersCommand,
  blockCommand,
  unblockCommand,
  blockedCommand,
  registerCommand,
  deregisterCommand,
  passwdCommand,
  resumeCommand,
  lockoutsCommand,
  pingCommand,
  quitCommand,
  helloCommand,
  catalogueCommand,
  exemptCommand,
  unexemptCommand,
  ...FILE_COMMANDS,
  // admin
  kickCommand,
  banCommand,
  unbanCommand,
  bansCommand,
  suspendCommand,
  forgiveCommand,
  lockCommand,
  unlockCommand,
  announceCommand,
  monitorCommand,
  ...CASE_COMMANDS,
  shutdownCommand,
  configCommand,
  usersCommand,
];
