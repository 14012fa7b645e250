/**
 * The pure parts of comparing identity networks: scoring pairs of photos, the mirrored-copy
 * trick, and the search for a network's crop framing.
 */
import type { ImagePair } from '../../src/dataset/folder-dataset.js';
import { areaUnderCurve, bestThresholdAccuracy, NO_FACE_SCORE, tenFoldAccuracy, type ScoredPair } from '../../src/eval/metrics.js';
import { cosineSimilarity, meanTemplate } from '../../src/core/vector.js';
import type { IdentityFraming } from '../../src/inference/identity.js';

export function scorePairs(pairs: readonly ImagePair[], vectors: ReadonlyMap<string, Float32Array>): ScoredPair[] {
  return pairs.map(({ imageA, imageB, same }) => {
    const a = vectors.get(imageA);
    const b = vectors.get(imageB);
    return { score: a && b ? cosineSimilarity(a, b) : NO_FACE_SCORE, same };
  });
}

/** Cosine scores of every pair of vectors of different people, highest first (`people[i]` is `vectors[i]`'s person). */
export function impostorScoresDescending(vectors: readonly Float32Array[], people: readonly string[]): Float32Array {
  const scores: number[] = [];
  for (let a = 0; a < vectors.length; a++) {
    for (let b = a + 1; b < vectors.length; b++) if (people[a] !== people[b]) scores.push(cosineSimilarity(vectors[a], vectors[b]));
  }
  return Float32Array.from(scores).sort().reverse();
}

/** Share of the genuine pairs scoring above the impostor score exceeded by `far` of the impostors. */
export function tarAtImpostorFar(scored: readonly ScoredPair[], impostorsDescending: Float32Array, far: number): { threshold: number; tar: number } {
  const threshold = impostorsDescending[Math.floor(far * impostorsDescending.length)];
  const genuine = scored.filter((p) => p.same);
  return { threshold, tar: genuine.filter((p) => p.score > threshold).length / genuine.length };
}

export function pairsMissingAPhoto(pairs: readonly ImagePair[], vectors: ReadonlyMap<string, Float32Array>): number {
  return pairs.filter((pair) => !vectors.has(pair.imageA) || !vectors.has(pair.imageB)).length;
}

export interface Verification {
  /** At the threshold that is best on these very pairs (an optimistic figure). */
  readonly accuracy: number;
  /** LFW protocol: each tenth scored at the threshold chosen on the other nine. */
  readonly tenFoldAccuracy: number;
  readonly tenFoldStandardError: number;
  readonly auc: number;
}

export function verification(scored: readonly ScoredPair[]): Verification {
  const tenFold = tenFoldAccuracy(scored);
  return {
    accuracy: bestThresholdAccuracy(scored).accuracy,
    tenFoldAccuracy: tenFold.mean,
    tenFoldStandardError: tenFold.standardError,
    auc: areaUnderCurve(scored),
  };
}

/** The mirrored-copy trick: each photo's embedding and its mirror's, both normalised, averaged. */
export function averageWithMirror(plain: ReadonlyMap<string, Float32Array>, mirrored: ReadonlyMap<string, Float32Array>): Map<string, Float32Array> {
  return new Map([...plain].map(([path, vector]) => {
    const mirror = mirrored.get(path);
    if (!mirror) throw new RangeError(`no mirrored embedding for ${path}`);
    return [path, meanTemplate([vector, mirror])];
  }));
}

/** The framings a search may try: every side and every offset, levelled or not. */
export interface FramingGrid {
  readonly start: IdentityFraming;
  readonly sides: readonly number[];
  readonly offsets: readonly number[];
}

export interface FramingTrial {
  readonly framing: IdentityFraming;
  readonly accuracy: number;
}

export interface FramingSearch {
  readonly best: FramingTrial;
  /** In the order they were tried. */
  readonly trials: readonly FramingTrial[];
}

/**
 * Coordinate search, cheaper than the full grid: the start, then each side at the start's offset,
 * then each offset at the best side, then the best with levelling switched. A framing must beat the
 * best so far strictly to replace it, so ties keep the start.
 */
export async function searchFraming(grid: FramingGrid, accuracyOf: (framing: IdentityFraming) => Promise<number>): Promise<FramingSearch> {
  const trials: FramingTrial[] = [];
  const tried = (f: IdentityFraming): boolean => trials.some((t) => t.framing.side === f.side && t.framing.offset === f.offset && t.framing.level === f.level);
  let best: FramingTrial | undefined;
  const consider = async (framings: readonly IdentityFraming[]): Promise<void> => {
    for (const framing of framings.filter((f) => !tried(f))) {
      const trial = { framing, accuracy: await accuracyOf(framing) };
      trials.push(trial);
      if (!best || trial.accuracy > best.accuracy) best = trial;
    }
  };
  await consider([grid.start]);
  await consider(grid.sides.map((side) => ({ ...grid.start, side })));
  await consider(grid.offsets.map((offset) => ({ ...best!.framing, offset })));
  await consider([{ ...best!.framing, level: !best!.framing.level }]);
  return { best: best!, trials };
}
