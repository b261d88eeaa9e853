import { defineConfig } from 'vitest/config';

/**
 * The ordering, history and backlog tests run a second time with a store that answers
 * late and out of call order (src/store/latency-store.ts): they show that the core relies
 * on nothing the store contract (src/store/store.ts) does not promise.
 */
const UNDER_STORE_LATENCY = [
  'test/pipelining.test.ts',
  'test/outbox.test.ts',
  'test/history.test.ts',
  'test/inbox.test.ts',
  'test/messaging.test.ts',
  'test/resume.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Two cores: more workers only contend with the servers the tests start.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: { name: 'suite', include: ['test/**/*.test.ts', 'test/**/*.test.tsx'] },
      },
      {
        extends: true,
        test: {
          name: 'store-latency',
          include: UNDER_STORE_LATENCY,
          env: { CONFAB_TEST_STORE_LATENCY: '1:10' },
        },
      },
    ],
  },
});
