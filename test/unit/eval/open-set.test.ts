import { describe, expect, it } from '@jest/globals';
import { atFpir, detCurve, fpirAt, operatingPoint, rank1, repeatedSplits, splitOpenSet, tpirAt, type OpenSetScores } from '../../../src/eval/open-set.js';

// Mated: 0.9 right, 0.8 right, 0.7 wrong subject, 0.5 right. Strangers' best: 0.75, 0.6, 0.4, 0.3.
const scores: OpenSetScores = {
  mated: [
    { score: 0.9, correct: true },
    { score: 0.8, correct: true },
    { score: 0.7, correct: false },
    { score: 0.5, correct: true },
  ],
  nonMated: [0.75, 0.6, 0.4, 0.3],
};

describe('open-set rates on hand-computed scores', () => {
  it('count a mated probe named as somebody else as a miss, never as a hit', () => {
    expect(tpirAt(scores, 0.65)).toBe(0.5);
    expect(fpirAt(scores, 0.65)).toBe(0.25);
    expect(tpirAt(scores, -Infinity)).toBe(0.75);
    expect(rank1(scores)).toBe(0.75);
    expect(operatingPoint(scores, 0.55)).toEqual({ threshold: 0.55, fpir: 0.5, tpir: 0.5, fnir: 0.5 });
  });

  it('find the lowest threshold that names at most the given share of strangers', () => {
    const none = atFpir(scores, 0.001);
    expect(none.fpir).toBe(0);
    expect(none.threshold).toBeGreaterThan(0.75);
    expect(none.threshold).toBeLessThan(0.7500001);
    expect(none.tpir).toBe(0.5);
    const quarter = atFpir(scores, 0.25);
    expect([quarter.fpir, quarter.tpir]).toEqual([0.25, 0.5]);
    expect(quarter.threshold).toBeGreaterThan(0.6);
    expect(atFpir(scores, 1).fpir).toBe(1);
  });

  it('draw the DET curve from naming nobody to naming everybody', () => {
    const det = detCurve(scores);
    expect(det[0]).toEqual({ threshold: Infinity, fpir: 0, tpir: 0, fnir: 1 });
    expect(det.at(-1)).toEqual({ threshold: -Infinity, fpir: 1, tpir: 0.75, fnir: 0.25 });
    for (let i = 1; i < det.length; i++) expect(det[i].fpir).toBeGreaterThanOrEqual(det[i - 1].fpir);
    expect(det).toHaveLength(2 + 8);
  });
});

describe('the open-set split of a folder-per-person set', () => {
  const people = [
    { name: 'A', images: ['A/1.jpg', 'A/2.jpg', 'A/3.jpg'] },
    { name: 'B', images: ['B/1.jpg', 'B/2.jpg'] },
    ...Array.from({ length: 6 }, (_, i) => ({ name: `S${i}`, images: [`S${i}/1.jpg`] })),
  ];

  it('probes people with two photos with their second, and splits the others into distractors and strangers', () => {
    const split = splitOpenSet(people, 2);
    expect(split.mated.map((m) => [m.person, m.enrolled, m.probe]).sort()).toEqual([['A', 'A/1.jpg', 'A/2.jpg'], ['B', 'B/1.jpg', 'B/2.jpg']]);
    expect(split.distractors).toHaveLength(2);
    expect(split.strangers).toHaveLength(4);
    const enrolled = new Set([...split.mated.map((m) => m.person), ...split.distractors.map((d) => d.person)]);
    expect(split.strangers.some((s) => enrolled.has(s.person))).toBe(false);
    expect(splitOpenSet([...people].reverse(), 2)).toEqual(split);
    expect(splitOpenSet(people).distractors).toHaveLength(3);
  });

  it('refuses distractors that leave no stranger, and a set with nobody to probe', () => {
    expect(() => splitOpenSet(people, 6)).toThrow(RangeError);
    expect(() => splitOpenSet(people.slice(2), 1)).toThrow(/two photos/);
  });

  describe('repeated splits', () => {
    const splits = repeatedSplits(people, 40, 7, 2);

    it('keep the single split\'s sizes, and never enroll a stranger', () => {
      for (const split of splits) {
        expect([split.mated.length, split.distractors.length, split.strangers.length]).toEqual([2, 2, 4]);
        const enrolled = new Set([...split.mated.map((m) => m.person), ...split.distractors.map((d) => d.person)]);
        expect(split.strangers.filter((s) => enrolled.has(s.person))).toEqual([]);
      }
    });

    it('probe each mated person with another of their photos than the enrolled one, and draw afresh each time', () => {
      for (const m of splits.flatMap((split) => split.mated)) {
        expect(m.probe).not.toBe(m.enrolled);
        expect([m.enrolled, m.probe].every((photo) => photo.startsWith(`${m.person}/`))).toBe(true);
      }
      // A has 3 photos: all 6 ordered pairs turn up in 40 draws; the strangers change too.
      const pairsOfA = new Set(splits.map((split) => split.mated.find((m) => m.person === 'A')).map((m) => `${m?.enrolled}>${m?.probe}`));
      expect(pairsOfA.size).toBe(6);
      expect(new Set(splits.map((split) => split.strangers.map((s) => s.person).sort().join())).size).toBeGreaterThan(5);
    });

    it('are the same for the same seed, whatever the order of the people, and differ for another', () => {
      expect(repeatedSplits([...people].reverse(), 40, 7, 2)).toEqual(splits);
      expect(repeatedSplits(people, 40, 8, 2)).not.toEqual(splits);
      expect(repeatedSplits(people, 3, 7)[0].distractors).toHaveLength(3);
    });

    it('refuse a count below one and too many distractors', () => {
      expect(() => repeatedSplits(people, 0, 7)).toThrow(/--splits/);
      expect(() => repeatedSplits(people, 2.5, 7)).toThrow(RangeError);
      expect(() => repeatedSplits(people, 2, 7, 6)).toThrow(/--distractors/);
    });
  });
});
