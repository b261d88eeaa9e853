import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { initialModel, STEPS } from './model/steps.js';
import { NICKS, World } from './model/world.js';

const RUNS = 25;

describe('model-based: several clients against a real server', () => {
  it('keeps membership, delivery, order, authorization and replies as the model says', async () => {
    let checks = 0;
    await fc.assert(
      fc.asyncProperty(fc.commands(STEPS, { maxCommands: 30, size: 'large' }), async (steps) => {
        const world = await World.create();
        try {
          // Everyone starts online, so the first steps already have someone to talk to.
          for (const nick of NICKS) await world.join(nick);
          const model = initialModel(NICKS);
          await fc.asyncModelRun(() => ({ model, real: world }), steps);
          checks += world.checks;
        } finally {
          await world.dispose();
        }
      }),
      // Bounded: each run starts a server; a failure prints its seed and the shrunk steps.
      { numRuns: RUNS, endOnFailure: true },
    );
    // The runs really exercised the server: most generated steps are runnable.
    expect(checks).toBeGreaterThan(RUNS * 4);
  }, 120_000);
});
