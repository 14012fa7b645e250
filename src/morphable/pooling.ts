/**
 * Pooling the per-photo fits of one person into that person's label (Tran et al. pool the fits
 * of all a subject's photos, weighted by fit confidence), with robust variants so that one bad
 * fit (occlusion, extreme pose, a mislabelled photo) does not drag the label.
 */
import { assertLength, type FloatArray } from '../core/linear-algebra.js';

export interface PooledVector {
  readonly pooled: Float64Array;
  /** Each sample's final share of the pool (confidence x robustness weight), summing to 1. */
  readonly weights: Float64Array;
}

/** Any of the poolers below, as a value (e.g. for `splitHalfReliability`). */
export type Pooler = (vectors: readonly FloatArray[], confidences?: ArrayLike<number>) => PooledVector;

export const weightedMean: Pooler = (vectors, confidences) => {
  const weights = normalise(checkedConfidences(vectors, confidences));
  return { pooled: combine(vectors, weights), weights };
};

/**
 * The weighted median of scalars: the smallest value whose cumulative weight reaches half the
 * total, averaged with the next value when it reaches exactly half (so two equal weights give
 * their mean).
 */
export function weightedMedian(values: ArrayLike<number>, weights: ArrayLike<number>): number {
  assertLength(weights, values.length, 'weightedMedian weights');
  const order = Array.from({ length: values.length }, (_, i) => i).filter((i) => weights[i] > 0);
  if (order.length === 0) throw new RangeError('weightedMedian needs a positive weight');
  order.sort((i, j) => values[i] - values[j]);
  let total = 0;
  for (const i of order) total += weights[i];
  const half = total / 2;
  let cumulative = 0;
  for (let r = 0; r < order.length; r++) {
    cumulative += weights[order[r]];
    if (cumulative >= half * (1 + 1e-12)) return values[order[r]];
    if (cumulative >= half * (1 - 1e-12)) return r + 1 < order.length ? (values[order[r]] + values[order[r + 1]]) / 2 : values[order[r]];
  }
  return values[order[order.length - 1]];
}

/** Each coordinate's weighted median; `weights` are the normalised confidences. */
export const elementwiseWeightedMedian: Pooler = (vectors, confidences) => {
  const weights = normalise(checkedConfidences(vectors, confidences));
  const column = new Float64Array(vectors.length);
  const pooled = new Float64Array(vectors[0].length);
  for (let c = 0; c < pooled.length; c++) {
    for (let i = 0; i < vectors.length; i++) column[i] = vectors[i][c];
    pooled[c] = weightedMedian(column, weights);
  }
  return { pooled, weights };
};

export interface RobustPoolOptions {
  /**
   * 'tukey' (default) gives weight 0 beyond `tuning` x the typical distance, so gross outliers are
   * ignored; 'huber' only shrinks them (weight tuning x typical / distance beyond the cut).
   */
  readonly estimator?: 'huber' | 'tukey';
  /** Cut-off in units of the weighted median distance. Defaults: tukey 3, huber 1.5. */
  readonly tuning?: number;
  readonly maxIterations?: number;
}

const DEFAULT_TUNING = { tukey: 3, huber: 1.5 } as const;

/**
 * Iteratively reweighted mean (an M-estimator on whole vectors): start at the elementwise
 * weighted median, weigh each sample by its confidence times a Huber or Tukey function of its
 * Euclidean distance to the current estimate, in units of the weighted median of those distances
 * (distances in many dimensions concentrate, so the median is a stable scale), and repeat.
 */
export function robustPool(vectors: readonly FloatArray[], confidences?: ArrayLike<number>, options: RobustPoolOptions = {}): PooledVector {
  const prior = checkedConfidences(vectors, confidences);
  const estimator = options.estimator ?? 'tukey';
  const tuning = options.tuning ?? DEFAULT_TUNING[estimator];
  // Above 1, every sample nearer than the median distance keeps a positive weight.
  if (!(tuning > 1)) throw new RangeError('robustPool: tuning must exceed 1');
  let estimate = elementwiseWeightedMedian(vectors, prior).pooled;
  let weights = normalise(prior);
  for (let iteration = 0; iteration < (options.maxIterations ?? 50); iteration++) {
    const distances = Float64Array.from(vectors, (v) => distance(v, estimate));
    const cut = tuning * weightedMedian(distances, prior);
    weights = normalise(prior.map((p, i) => p * robustnessWeight(estimator, distances[i], cut)));
    const next = combine(vectors, weights);
    const moved = distance(next, estimate);
    estimate = next;
    if (moved <= 1e-12 * cut) break;
  }
  return { pooled: estimate, weights };
}

function robustnessWeight(estimator: 'huber' | 'tukey', distance: number, cut: number): number {
  if (distance === 0) return 1;
  if (estimator === 'huber') return Math.min(1, cut / distance);
  return distance < cut ? (1 - (distance / cut) ** 2) ** 2 : 0;
}

function checkedConfidences(vectors: readonly FloatArray[], confidences?: ArrayLike<number>): Float64Array {
  if (vectors.length === 0) throw new RangeError('pooling needs at least one vector');
  for (const v of vectors) assertLength(v, vectors[0].length, 'pooled vector');
  if (!confidences) return new Float64Array(vectors.length).fill(1);
  assertLength(confidences, vectors.length, 'pooling confidences');
  const out = Float64Array.from(confidences);
  if (out.some((c) => !(c >= 0)) || !out.some((c) => c > 0)) throw new RangeError('pooling confidences must be non-negative, not all zero');
  return out;
}

function normalise(weights: Float64Array): Float64Array {
  const total = weights.reduce((sum, w) => sum + w, 0);
  return weights.map((w) => w / total);
}

function combine(vectors: readonly FloatArray[], weights: Float64Array): Float64Array {
  const out = new Float64Array(vectors[0].length);
  vectors.forEach((v, i) => {
    if (weights[i] !== 0) for (let c = 0; c < out.length; c++) out[c] += weights[i] * v[c];
  });
  return out;
}

function distance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let c = 0; c < a.length; c++) sum += (a[c] - b[c]) ** 2;
  return Math.sqrt(sum);
}

export interface PersonSamples {
  readonly vectors: readonly FloatArray[];
  readonly confidences?: ArrayLike<number>;
}

export interface SplitHalfReliability {
  /** Over all coefficients of all people used; see `splitHalfReliability`. */
  readonly r2: number;
  /** The same statistic for each coefficient alone. */
  readonly perCoefficient: Float64Array;
  readonly peopleUsed: number;
}

/**
 * How reproducible pooled labels are. For each person with at least `minSamples` vectors, the
 * even- and odd-indexed samples are pooled separately into a and b. With m_c the mean of
 * coefficient c over both halves of all those people,
 *   R² = 1 − Σ (a − b)² / Σ [(a − m)² + (b − m)²]   (sums over people and coefficients).
 * With true label t and independent pooling noise, this estimates var(t) / (var(t) + var(noise)),
 * the reliability of a half-sized pool: 1 for identical halves, about 0 when halves share nothing
 * beyond the population mean, negative when they disagree more than chance.
 */
export function splitHalfReliability(people: readonly PersonSamples[], pool: Pooler = robustPool, minSamples = 6): SplitHalfReliability {
  const halves: Array<[Float64Array, Float64Array]> = [];
  for (const person of people) {
    if (person.vectors.length < Math.max(2, minSamples)) continue;
    const pick = (parity: number): PooledVector => {
      const indices = person.vectors.map((_, i) => i).filter((i) => i % 2 === parity);
      const confidences = person.confidences;
      return pool(indices.map((i) => person.vectors[i]), confidences && indices.map((i) => confidences[i]));
    };
    halves.push([pick(0).pooled, pick(1).pooled]);
  }
  if (halves.length === 0) throw new RangeError(`splitHalfReliability: nobody has ${minSamples} or more samples`);
  const dims = halves[0][0].length;
  const mean = new Float64Array(dims);
  for (const [a, b] of halves) for (let c = 0; c < dims; c++) mean[c] += (a[c] + b[c]) / (2 * halves.length);
  const residual = new Float64Array(dims);
  const total = new Float64Array(dims);
  for (const [a, b] of halves) {
    for (let c = 0; c < dims; c++) {
      residual[c] += (a[c] - b[c]) ** 2;
      total[c] += (a[c] - mean[c]) ** 2 + (b[c] - mean[c]) ** 2;
    }
  }
  const sum = (values: Float64Array): number => values.reduce((s, v) => s + v, 0);
  return {
    r2: 1 - sum(residual) / sum(total),
    perCoefficient: residual.map((r, c) => 1 - r / total[c]),
    peopleUsed: halves.length,
  };
}
