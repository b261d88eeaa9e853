// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const noCoreImports = {
  group: ['**/core/*', '**/core/**'],
  message: 'Clients import the shared rules from src/protocol, never src/core.',
};

/** Modules the core may not import (see the rule for src/core below). */
const CORE_FORBIDDEN_MODULES = [
  'ioredis',
  'postgres',
  'better-sqlite3',
  'ws',
  'net',
  'node:net',
  'tls',
  'node:tls',
  'http',
  'node:http',
  'https',
  'node:https',
  'http2',
  'node:http2',
  'dgram',
  'node:dgram',
];

/**
 * The core's import restriction, less the modules `allowed` (one file's justified exception).
 * @param {string[]} allowed
 */
function coreImportRule(allowed) {
  return {
    paths: CORE_FORBIDDEN_MODULES.filter((name) => !allowed.includes(name)).map((name) => ({
      name,
      message:
        'The core knows nothing of Redis, SQL or sockets: use a port, adapt outside src/core.',
    })),
    patterns: [
      {
        group: [
          '**/store/sqlite/**',
          '**/store/postgres/**',
          '**/bus/redis/**',
          '**/transport/**',
          '**/web/**',
        ],
        message:
          'The core reaches adapters only through its ports; they import the core, not the other way round.',
      },
    ],
  };
}

/** The shared client library's transport-neutral files, which the browser imports. */
const BROWSER_SHARED_CLIENT = [
  'src/client/channel.ts',
  'src/client/connection.ts',
  'src/client/emitter.ts',
  'src/client/websocket-channel.ts',
  'src/client/transfer-flow.ts',
  'src/client/room-tracker.ts',
  'src/client/resume.ts',
];

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // Plain Node scripts (npm start's launcher).
    files: ['scripts/**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      eqeqeq: ['error', 'always'],
      'no-console': 'off',
    },
  },
  {
    // Clients (terminal, line mode, browser) speak the protocol and never reach into the
    // server's core: what they share with it lives in src/protocol.
    files: ['src/client/**/*.{ts,tsx}', 'web/src/**/*.{ts,tsx}'],
    rules: { 'no-restricted-imports': ['error', { patterns: [noCoreImports] }] },
  },
  {
    // Transports (native, WebSocket, IRC, the web listener's file route) reach the core
    // through its ports (src/core/port.ts), never the concrete ChatCore (issue 14.1).
    files: ['src/transport/**/*.ts', 'src/web/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/core/chat-core', '**/core/chat-core.js'],
              message:
                'Transports reach the core through src/core/port.ts (ChatPort, GatewayPort, HttpFilePort), never ChatCore.',
            },
          ],
        },
      ],
    },
  },
  {
    // The IRC gateway is a client of the protocol like the others (issue 14.4): what it
    // shares with the server comes from src/protocol; of the core only its port (and the
    // logger's type).
    files: ['src/transport/irc/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/core/**', '!**/core/port.js', '!**/core/logger.js'],
              message:
                'The IRC gateway reaches the core through src/core/port.ts (GatewayPort); shared rules come from src/protocol.',
            },
          ],
        },
      ],
    },
  },
  {
    // What the browser bundles: the page itself and the client library's transport-neutral
    // part. Node's modules (and the Node-only halves of the library) would not run there.
    files: ['web/src/**/*.{ts,tsx}', ...BROWSER_SHARED_CLIENT],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            noCoreImports,
            {
              group: ['node:*', 'ws', '**/client/client.js', '**/client/transfers.js'],
              message:
                'The browser bundles this file: Node modules and the Node-only client (client.ts, transfers.ts) stay out.',
            },
          ],
        },
      ],
    },
  },
  {
    // The core knows nothing of Redis, SQL, sockets or HTTP: it reaches them through its
    // ports (store, bus, session directory, connection layer), and the adapters live in
    // src/store/{sqlite,postgres}, src/bus/redis, src/transport and src/web.
    files: ['src/core/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', coreImportRule([])] },
  },
  {
    // One exception: the address normaliser uses node:net's isIPv6, a pure parser of a
    // string (no socket is ever opened); writing our own IPv6 recogniser would be a second,
    // less tested copy of the same rules. Everything else stays forbidden here too.
    files: ['src/core/limits/address-group.ts'],
    rules: { 'no-restricted-imports': ['error', coreImportRule(['node:net'])] },
  },
);
