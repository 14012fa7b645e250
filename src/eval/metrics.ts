/**
 * Verification and identification metrics. Everywhere a pair is declared "same" when its score
 * is at or above the threshold. Thresholds are chosen among +∞ (accept nothing), the midpoints
 * between consecutive distinct scores, and −∞ (accept everything), so a chosen threshold sits
 * halfway between the scores it separates.
 */
import { l2Normalise } from '../core/vector.js';
import { dot, type FloatArray, type Matrix } from '../core/linear-algebra.js';
import { mulberry32, randomInt, type Random } from '../training/random.js';
import { groupIndices } from '../training/groups.js';

/**
 * The score of every comparison one of whose photos has no face, in every protocol: below every
 * threshold, never a match (as the service answers NO_FACE). A genuine comparison without a face
 * counts as a miss; none is dropped.
 */
export const NO_FACE_SCORE = -Infinity;

export interface ScoredPair {
  readonly score: number;
  readonly same: boolean;
}

/** Every candidate threshold, highest first, with how many pairs of each kind it accepts. */
interface ThresholdSweep {
  readonly thresholds: number[];
  readonly acceptedSame: number[];
  readonly acceptedDifferent: number[];
  readonly same: number;
  readonly different: number;
}

function sweep(pairs: readonly ScoredPair[]): ThresholdSweep {
  if (pairs.some((pair) => Number.isNaN(pair.score))) throw new RangeError('pair scores must not be NaN');
  const sorted = [...pairs].sort((a, b) => b.score - a.score);
  const result: ThresholdSweep = { thresholds: [Infinity], acceptedSame: [0], acceptedDifferent: [0], same: 0, different: 0 };
  let same = 0;
  let different = 0;
  for (let i = 0; i < sorted.length; i++) {
    if (sorted[i].same) same++;
    else different++;
    const next = sorted[i + 1];
    if (next !== undefined && next.score === sorted[i].score) continue;
    result.thresholds.push(next === undefined ? -Infinity : (sorted[i].score + next.score) / 2);
    result.acceptedSame.push(same);
    result.acceptedDifferent.push(different);
  }
  return { ...result, same, different };
}

function requireBothKinds(s: ThresholdSweep, what: string): void {
  if (s.same === 0 || s.different === 0) throw new RangeError(`${what} needs both same and different pairs`);
}

export interface ThresholdAccuracy {
  readonly accuracy: number;
  readonly threshold: number;
}

/** The threshold with the highest accuracy on these pairs (the highest such threshold on ties). */
export function bestThresholdAccuracy(pairs: readonly ScoredPair[]): ThresholdAccuracy {
  if (pairs.length === 0) throw new RangeError('bestThresholdAccuracy needs pairs');
  const s = sweep(pairs);
  let best = { accuracy: -1, threshold: Infinity };
  s.thresholds.forEach((threshold, i) => {
    const accuracy = (s.acceptedSame[i] + s.different - s.acceptedDifferent[i]) / pairs.length;
    if (accuracy > best.accuracy) best = { accuracy, threshold };
  });
  return best;
}

/** Share of pairs decided correctly at a fixed threshold. */
export function accuracyAt(pairs: readonly ScoredPair[], threshold: number): number {
  const correct = pairs.filter((pair) => pair.score >= threshold === pair.same).length;
  return correct / pairs.length;
}

export interface CrossValidatedAccuracy {
  readonly mean: number;
  /** Sample standard deviation of the fold accuracies (n − 1). */
  readonly std: number;
  /** std / √folds, the ± that the LFW protocol reports. */
  readonly standardError: number;
  readonly foldAccuracies: number[];
  /** The threshold each fold was scored with, chosen on the other folds. */
  readonly thresholds: number[];
}

/**
 * LFW-protocol accuracy: each fold is scored at the threshold that maximises accuracy on the other
 * folds. Fold f holds the f-th consecutive tenth of the same pairs and the f-th tenth of the
 * different pairs, in list order: exactly LFW's folds for View 2 `pairs.txt` (10 sets of 300 same
 * then 300 different), and balanced folds for View 1 files (all same pairs, then all different).
 */
export function tenFoldAccuracy(pairs: readonly ScoredPair[], folds = 10): CrossValidatedAccuracy {
  const foldOf = stratifiedConsecutiveFolds(pairs, folds);
  const foldAccuracies: number[] = [];
  const thresholds: number[] = [];
  for (let f = 0; f < folds; f++) {
    const held = pairs.filter((_, i) => foldOf[i] === f);
    const { threshold } = bestThresholdAccuracy(pairs.filter((_, i) => foldOf[i] !== f));
    thresholds.push(threshold);
    foldAccuracies.push(accuracyAt(held, threshold));
  }
  const mean = foldAccuracies.reduce((sum, a) => sum + a, 0) / folds;
  const std = Math.sqrt(foldAccuracies.reduce((sum, a) => sum + (a - mean) ** 2, 0) / (folds - 1));
  return { mean, std, standardError: std / Math.sqrt(folds), foldAccuracies, thresholds };
}

function stratifiedConsecutiveFolds(pairs: readonly ScoredPair[], folds: number): Int32Array {
  if (!Number.isInteger(folds) || folds < 2) throw new RangeError('folds must be an integer of at least 2');
  const totals = { same: pairs.filter((p) => p.same).length, different: pairs.filter((p) => !p.same).length };
  if (totals.same < folds || totals.different < folds) throw new RangeError(`${folds}-fold accuracy needs at least ${folds} pairs of each kind`);
  const seen = { same: 0, different: 0 };
  return Int32Array.from(pairs, (pair) => {
    const kind = pair.same ? 'same' : 'different';
    return Math.floor((seen[kind]++ * folds) / totals[kind]);
  });
}

export interface RocPoint {
  readonly threshold: number;
  readonly falseAcceptRate: number;
  readonly trueAcceptRate: number;
}

/** From (0, 0) at threshold +∞ to (1, 1) at −∞, one point per candidate threshold. */
export function rocCurve(pairs: readonly ScoredPair[]): RocPoint[] {
  const s = sweep(pairs);
  requireBothKinds(s, 'rocCurve');
  return s.thresholds.map((threshold, i) => ({
    threshold,
    falseAcceptRate: s.acceptedDifferent[i] / s.different,
    trueAcceptRate: s.acceptedSame[i] / s.same,
  }));
}

/** Area under the ROC curve (trapezoids, so tied scores count one half: the Mann-Whitney statistic). */
export function areaUnderCurve(pairs: readonly ScoredPair[]): number {
  const roc = rocCurve(pairs);
  let area = 0;
  for (let i = 1; i < roc.length; i++) {
    area += ((roc[i].falseAcceptRate - roc[i - 1].falseAcceptRate) * (roc[i].trueAcceptRate + roc[i - 1].trueAcceptRate)) / 2;
  }
  return area;
}

export interface EqualErrorRate {
  readonly rate: number;
  readonly threshold: number;
}

/**
 * Where the false accept rate equals the false reject rate, interpolated linearly between the two
 * ROC points that bracket the crossing (the threshold likewise, when both are finite).
 */
export function equalErrorRate(pairs: readonly ScoredPair[]): EqualErrorRate {
  const roc = rocCurve(pairs);
  const gap = (p: RocPoint): number => p.falseAcceptRate - (1 - p.trueAcceptRate);
  const i = roc.findIndex((p) => gap(p) >= 0);
  const [before, after] = [roc[i - 1], roc[i]];
  const t = -gap(before) / (gap(after) - gap(before));
  const rate = before.falseAcceptRate + t * (after.falseAcceptRate - before.falseAcceptRate);
  const threshold = Number.isFinite(before.threshold) && Number.isFinite(after.threshold)
    ? before.threshold + t * (after.threshold - before.threshold)
    : Number.isFinite(before.threshold) ? before.threshold : after.threshold;
  return { rate, threshold };
}

export interface OperatingPoint {
  readonly threshold: number;
  readonly trueAcceptRate: number;
  /** The false accept rate actually reached, at most the one asked for. */
  readonly falseAcceptRate: number;
}

/**
 * The lowest threshold whose false accept rate is at most `maxFalseAcceptRate`, and the true accept
 * rate there (TAR @ FAR). Its threshold is the calibration for that FAR.
 */
export function tarAtFar(pairs: readonly ScoredPair[], maxFalseAcceptRate: number): OperatingPoint {
  const roc = rocCurve(pairs);
  let chosen = roc[0];
  for (const point of roc) if (point.falseAcceptRate <= maxFalseAcceptRate) chosen = point;
  return { threshold: chosen.threshold, trueAcceptRate: chosen.trueAcceptRate, falseAcceptRate: chosen.falseAcceptRate };
}

/**
 * For each probe (row of `similarity`, probes x gallery), the rank of its own subject among gallery
 * subjects ordered by their best score: 1 + the number of other subjects scoring at least as high
 * (ties count against the probe). 0 when its subject is absent from the gallery.
 */
export function genuineRanks(similarity: Matrix, probeLabels: readonly string[], galleryLabels: readonly string[]): Int32Array {
  if (similarity.rows !== probeLabels.length || similarity.cols !== galleryLabels.length) {
    throw new RangeError(`similarity is ${similarity.rows}x${similarity.cols} for ${probeLabels.length} probes x ${galleryLabels.length} gallery`);
  }
  return Int32Array.from(probeLabels, (label, p) => {
    const bestBySubject = new Map<string, number>();
    galleryLabels.forEach((subject, g) => {
      const score = similarity.data[p * similarity.cols + g];
      if (!(score <= (bestBySubject.get(subject) ?? -Infinity))) bestBySubject.set(subject, score);
    });
    const genuine = bestBySubject.get(label);
    if (genuine === undefined) return 0;
    let rank = 1;
    for (const [subject, score] of bestBySubject) if (subject !== label && score >= genuine) rank++;
    return rank;
  });
}

export interface IdentificationRates {
  readonly rank1: number;
  readonly rank5: number;
  /** Probes whose subject is in the gallery: the denominator of the rates. */
  readonly probesWithMate: number;
  readonly probesWithoutMate: number;
}

export function identificationRates(similarity: Matrix, probeLabels: readonly string[], galleryLabels: readonly string[]): IdentificationRates {
  const ranks = genuineRanks(similarity, probeLabels, galleryLabels);
  const mated = ranks.filter((rank) => rank > 0);
  if (mated.length === 0) throw new RangeError('no probe has its subject in the gallery');
  const within = (k: number): number => mated.filter((rank) => rank <= k).length / mated.length;
  return { rank1: within(1), rank5: within(5), probesWithMate: mated.length, probesWithoutMate: ranks.length - mated.length };
}

export interface StabilityRatio {
  /** withinDistance / betweenDistance: lower means vectors of one person agree more, relative to others. */
  readonly ratio: number;
  /** Mean cosine distance (1 − cosine) between photos of the same person. */
  readonly withinDistance: number;
  /** Mean cosine distance between photos of different people. */
  readonly betweenDistance: number;
  readonly withinPairs: number;
  readonly betweenPairs: number;
}

export interface StabilityOptions {
  /** Above this many pairs of a kind, that many are sampled (with replacement, seeded). Default 200,000. */
  readonly maxPairs?: number;
  readonly seed?: number;
}

export function stabilityRatio(vectors: readonly FloatArray[], labels: readonly string[], options: StabilityOptions = {}): StabilityRatio {
  if (vectors.length !== labels.length) throw new RangeError(`${vectors.length} vectors but ${labels.length} labels`);
  const maxPairs = options.maxPairs ?? 200_000;
  const random = mulberry32(options.seed ?? 1);
  const units = vectors.map((v) => l2Normalise(v));
  const groups = groupIndices(labels);
  if (groups.length < 2) throw new RangeError('stabilityRatio needs at least two different people');
  const within = meanDistance(units, withinPersonPairs(groups, maxPairs, random));
  const between = meanDistance(units, betweenPersonPairs(labels, maxPairs, random));
  if (within.count === 0) throw new RangeError('stabilityRatio needs a person with at least two vectors');
  return { ratio: within.mean / between.mean, withinDistance: within.mean, betweenDistance: between.mean, withinPairs: within.count, betweenPairs: between.count };
}

type IndexPair = readonly [number, number];

function meanDistance(units: Float32Array[], pairs: Iterable<IndexPair>): { mean: number; count: number } {
  let sum = 0;
  let count = 0;
  for (const [a, b] of pairs) {
    sum += 1 - dot(units[a], 0, units[b], 0, units[a].length);
    count++;
  }
  return { mean: sum / count, count };
}

function* withinPersonPairs(groups: number[][], maxPairs: number, random: Random): Generator<IndexPair> {
  const counts = groups.map((g) => (g.length * (g.length - 1)) / 2);
  const total = counts.reduce((sum, c) => sum + c, 0);
  if (total <= maxPairs) {
    for (const g of groups) for (let a = 0; a < g.length; a++) for (let b = a + 1; b < g.length; b++) yield [g[a], g[b]];
    return;
  }
  const cumulative: number[] = [];
  let running = 0;
  for (const c of counts) cumulative.push((running += c));
  for (let s = 0; s < maxPairs; s++) {
    const g = groups[firstAbove(cumulative, random() * total)];
    const a = randomInt(random, g.length);
    const b = (a + 1 + randomInt(random, g.length - 1)) % g.length;
    yield [g[a], g[b]];
  }
}

/** The first index whose value exceeds `target` in an ascending array (binary search). */
function firstAbove(ascending: number[], target: number): number {
  let low = 0;
  let high = ascending.length - 1;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (ascending[middle] > target) high = middle;
    else low = middle + 1;
  }
  return low;
}

function* betweenPersonPairs(labels: readonly string[], maxPairs: number, random: Random): Generator<IndexPair> {
  const n = labels.length;
  if ((n * (n - 1)) / 2 <= maxPairs) {
    for (let a = 0; a < n; a++) for (let b = a + 1; b < n; b++) if (labels[a] !== labels[b]) yield [a, b];
    return;
  }
  for (let s = 0; s < maxPairs; ) {
    const a = randomInt(random, n);
    const b = randomInt(random, n);
    if (labels[a] === labels[b]) continue;
    s++;
    yield [a, b];
  }
}
