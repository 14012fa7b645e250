import { describe, expect, it } from '@jest/globals';
import { repeatedSplits, splitOpenSet } from '../../../src/eval/open-set.js';
import { pairedDifferences, SPLIT_FIGURES, splitsDigest, summariseSplits, type SplitFigures } from '../../../src/eval/split-statistics.js';

/** A split's figures with every figure at `base`, and TPIR at FPIR 1% at `tpir`. */
function figures(base: number, tpir: number): SplitFigures {
  return { ...(Object.fromEntries(SPLIT_FIGURES.map((f) => [f, base])) as Record<(typeof SPLIT_FIGURES)[number], number>), tpirAtFpir1: tpir };
}

describe('figures over repeated splits', () => {
  it('give each figure its mean, sample sd, min and max', () => {
    const summary = summariseSplits([figures(1, 0.9), figures(1, 0.8), figures(1, 0.85), figures(1, 0.95)]);
    expect(summary.tpirAtFpir1.mean).toBeCloseTo(0.875, 12);
    // Deviations ±0.025, ±0.075: Σ² = 0.0125 over 3.
    expect(summary.tpirAtFpir1.sd).toBeCloseTo(Math.sqrt(0.0125 / 3), 12);
    expect([summary.tpirAtFpir1.min, summary.tpirAtFpir1.max]).toEqual([0.8, 0.95]);
    expect(summary.rank1).toEqual({ mean: 1, sd: 0, min: 1, max: 1 });
    expect(() => summariseSplits([figures(1, 0.9)])).toThrow(/two splits/);
  });

  it('pair two runs split by split: a shift common to both runs leaves the difference exact', () => {
    // The splits move TPIR by up to 10 points; the second run is 1 point lower on each.
    const baseline = [0.9, 0.8, 0.85, 0.95].map((t) => figures(1, t));
    const current = [0.89, 0.79, 0.84, 0.94].map((t) => figures(1, t));
    const paired = pairedDifferences(current, baseline);
    expect(paired.tpirAtFpir1.mean).toBeCloseTo(-0.01, 12);
    expect(paired.tpirAtFpir1.sd).toBeCloseTo(0, 12);
    expect(summariseSplits(current).tpirAtFpir1.sd).toBeGreaterThan(0.05);
    const noisy = pairedDifferences([0.91, 0.79, 0.85, 0.93].map((t) => figures(1, t)), baseline).tpirAtFpir1;
    // Differences +1, −1, 0, −2 points: mean −0.5, sd √(5/3)·0.01, standard error sd/2.
    expect(noisy.mean).toBeCloseTo(-0.005, 12);
    expect(noisy.sd).toBeCloseTo(Math.sqrt(5 / 3) * 0.01, 12);
    expect(noisy.standardError).toBeCloseTo(noisy.sd / 2, 12);
    expect(() => pairedDifferences(current.slice(1), baseline)).toThrow(/baseline has 4 splits/);
  });

  it('name the splits, so that a baseline run on other splits is told apart', () => {
    const people = [{ name: 'A', images: ['A/1', 'A/2', 'A/3'] }, ...Array.from({ length: 4 }, (_, i) => ({ name: `S${i}`, images: [`S${i}/1`] }))];
    const digest = splitsDigest(repeatedSplits(people, 5, 1));
    expect(splitsDigest(repeatedSplits([...people].reverse(), 5, 1))).toBe(digest);
    expect(splitsDigest(repeatedSplits(people, 5, 2))).not.toBe(digest);
    expect(splitsDigest(repeatedSplits(people, 4, 1))).not.toBe(digest);
    expect(splitsDigest([splitOpenSet(people)])).toMatch(/^[0-9a-f]{16}$/);
  });
});
