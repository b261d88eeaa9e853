import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { initialModel, STEPS } from './model/steps.js';
import { NICKS, World } from './model/world.js';

/** `MODEL_RUNS=n` for a longer search. */
const RUNS = Number(process.env.MODEL_RUNS ?? 40);
/** `MODEL_SEED=n` replays the runs of seed n (a failure prints its seed). */
const seed = process.env.MODEL_SEED === undefined ? undefined : Number(process.env.MODEL_SEED);

describe('model-based: several clients against a real server', () => {
  it('keeps membership, delivery, order, resume, authorization and replies as the model says', async () => {
    let checks = 0;
    let resumed = 0;
    await fc.assert(
      fc.asyncProperty(fc.commands(STEPS, { maxCommands: 40, size: 'large' }), async (steps) => {
        const world = await World.create();
        try {
          // Everyone starts online, so the first steps already have someone to talk to.
          for (const nick of NICKS) await world.join(nick);
          const model = initialModel(NICKS);
          // Every step starts from a settled world: what the logins caused has arrived.
          await world.check(model);
          await fc.asyncModelRun(() => ({ model, real: world }), steps);
          checks += world.checks;
          resumed += world.resumed;
        } finally {
          await world.dispose();
        }
      }),
      // Bounded: each run starts a server; a failure prints its seed and the shrunk steps.
      { numRuns: RUNS, endOnFailure: true, ...(seed !== undefined && { seed }) },
    );
    // The runs really exercised the server: most generated steps are runnable.
    expect(checks).toBeGreaterThan(RUNS * 4);
    // …and sessions really came back from away.
    expect(resumed).toBeGreaterThan(0);
  }, 120_000);
});
