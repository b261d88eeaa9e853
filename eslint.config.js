// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const noCoreImports = {
  group: ['**/core/*', '**/core/**'],
  message: 'Clients import the shared rules from src/protocol, never src/core.',
};

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
);
