/**
 * The shared protocol module: what a client and the server agree on, and nothing of
 * either's insides. Clients (terminal, line mode, browser, IRC gateway) import this, never
 * src/core. No Node-only module may be imported from here: the browser bundles it.
 */
export * from './catalog.js';
export * from './closing.js';
export * from './errors.js';
export * from './events.js';
export * from './frames.js';
export * from './version.js';
export * from './parse.js';
// Types only: the schemas themselves stay out of the browser bundle (see replies.ts).
export type { ReplyCommand, ReplyData } from './replies.js';
