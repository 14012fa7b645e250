import { describe, expect, it } from '@jest/globals';
import { NO_FACE_SCORE } from '../../../../src/eval/metrics.js';
import type { IdentityFraming } from '../../../../src/inference/identity.js';
import {
  averageWithMirror,
  pairsMissingAPhoto,
  scorePairs,
  searchFraming,
  verification,
  type FramingGrid,
} from '../../../../tools/identity/verification.js';

describe('scorePairs', () => {
  const vectors = new Map([
    ['a', Float32Array.of(1, 0)],
    ['b', Float32Array.of(2, 0)],
    ['c', Float32Array.of(0, 3)],
  ]);

  it('scores by cosine and gives a pair with a missing photo the lowest score', () => {
    const pairs = [
      { imageA: 'a', imageB: 'b', same: true },
      { imageA: 'a', imageB: 'c', same: false },
      { imageA: 'a', imageB: 'gone', same: true },
    ];
    expect(scorePairs(pairs, vectors)).toEqual([
      { score: 1, same: true },
      { score: 0, same: false },
      { score: NO_FACE_SCORE, same: true },
    ]);
    expect(pairsMissingAPhoto(pairs, vectors)).toBe(1);
  });
});

describe('verification', () => {
  it('is perfect when every same pair outscores every different pair', () => {
    const scored = Array.from({ length: 40 }, (_, i) => ({ score: i < 20 ? 0.9 + i / 1000 : 0.1 + i / 1000, same: i < 20 }));
    expect(verification(scored)).toEqual({ accuracy: 1, tenFoldAccuracy: 1, tenFoldStandardError: 0, auc: 1 });
  });

  it('reports chance for scores that do not depend on the label', () => {
    const scored = Array.from({ length: 40 }, (_, i) => ({ score: 0.5, same: i % 2 === 0 }));
    const result = verification(scored);
    expect(result.accuracy).toBe(0.5);
    expect(result.auc).toBe(0.5);
  });
});

describe('averageWithMirror', () => {
  it('averages the normalised embeddings of each photo and its mirror', () => {
    const averaged = averageWithMirror(new Map([['p', Float32Array.of(3, 0)]]), new Map([['p', Float32Array.of(0, 5)]]));
    const [x, y] = averaged.get('p')!;
    expect(x).toBeCloseTo(Math.SQRT1_2, 6);
    expect(y).toBeCloseTo(Math.SQRT1_2, 6);
  });

  it('refuses a photo without a mirrored embedding', () => {
    expect(() => averageWithMirror(new Map([['p', Float32Array.of(1)]]), new Map())).toThrow(/no mirrored embedding for p/);
  });
});

describe('searchFraming', () => {
  const grid: FramingGrid = { start: { offset: -0.3, side: 3.2, level: true }, sides: [2.8, 3.2, 3.6], offsets: [-0.5, -0.3, 0] };

  it('walks side, then offset, then levelling, trying each framing once', async () => {
    // Peaks at side 3.6, offset 0, unlevelled.
    const accuracyOf = async (f: IdentityFraming): Promise<number> => 1 - Math.abs(f.side - 3.6) - Math.abs(f.offset) - (f.level ? 0.01 : 0);
    const search = await searchFraming(grid, accuracyOf);
    expect(search.best.framing).toEqual({ offset: 0, side: 3.6, level: false });
    expect(search.trials.map((t) => t.framing)).toEqual([
      { offset: -0.3, side: 3.2, level: true },
      { offset: -0.3, side: 2.8, level: true },
      { offset: -0.3, side: 3.6, level: true },
      { offset: -0.5, side: 3.6, level: true },
      { offset: 0, side: 3.6, level: true },
      { offset: 0, side: 3.6, level: false },
    ]);
  });

  it('keeps the start on ties', async () => {
    const search = await searchFraming(grid, async () => 0.9);
    expect(search.best).toEqual({ framing: grid.start, accuracy: 0.9 });
  });
});
