import { describe, expect, it } from 'vitest';
import { moduleTimes, selfTimes, stalls } from '../../bench/profile-summary.js';

const frame = (functionName: string, url = '') => ({ functionName, url, lineNumber: 0 });
// (root) → handle → commit; samples every millisecond but one 250 ms gap before a commit.
const profile = {
  nodes: [
    { id: 1, callFrame: frame('(root)'), children: [2] },
    { id: 2, callFrame: frame('handle', 'file:///x/dist/src/core/handle.js'), children: [3] },
    { id: 3, callFrame: frame('commit', 'file:///x/dist/src/store/commit.js') },
  ],
  samples: [2, 2, 3, 2, 2],
  timeDeltas: [1000, 1000, 250_000, 1000, 1000],
};

describe('profile summary', () => {
  it('reports self time within a window of the run', () => {
    const all = selfTimes(profile, 10);
    expect(all.map((line) => line.name)).toEqual([
      'commit src/store/commit.js:1',
      'handle src/core/handle.js:1',
    ]);
    const early = selfTimes(profile, 10, 0, 5000);
    expect(early).toEqual([{ name: 'handle src/core/handle.js:1', micros: 2000, share: 1 }]);
  });

  it('finds the longest gap between samples and the call that ended it', () => {
    const [longest] = stalls(profile, 1);
    expect(longest).toEqual({
      atMicros: 252_000,
      micros: 250_000,
      stack: ['commit src/store/commit.js:1', 'handle src/core/handle.js:1'],
    });
  });

  it('splits busy time by module: a package’s system call is the package’s, idle left out', () => {
    const byModule = {
      nodes: [
        { id: 1, callFrame: frame('(root)'), children: [2, 5, 6] },
        {
          id: 2,
          callFrame: frame('send', 'file:///x/dist/src/bus/redis/redis-bus.js'),
          children: [3],
        },
        {
          id: 3,
          callFrame: frame('write', 'file:///x/node_modules/ioredis/built/Redis.js'),
          children: [4],
        },
        { id: 4, callFrame: frame('writeUtf8String') },
        { id: 5, callFrame: frame('(idle)') },
        { id: 6, callFrame: frame('handle', 'file:///x/dist/src/core/commands/messaging.js') },
      ],
      samples: [4, 4, 4, 5, 5, 6],
      timeDeltas: [1000, 1000, 1000, 1000, 1000, 1000],
    };
    expect(moduleTimes(byModule)).toEqual([
      { name: 'ioredis', micros: 3000, share: 0.75 },
      { name: 'core/commands', micros: 1000, share: 0.25 },
    ]);
  });
});
