/**
 * Identity vectors and their comparison: a bundle's [α, β] vector, cosine similarity, L2
 * normalisation and subject templates. A zero vector has no direction; it is treated as similar
 * to nothing (cosine 0).
 */
import type { FloatArray } from './linear-algebra.js';

/**
 * A face's 3DMM identity coefficients under one bundle, one type from the encoder to the index:
 * [α, β] side by side in one array, the vector cosine compares, with α and β as views of it.
 */
export interface IdentityVector {
  readonly bundleId: string;
  /** [α, β], σ units. */
  readonly vector: Float32Array;
  /** α: a view of `vector`'s first values. */
  readonly shape: Float32Array;
  /** β: a view of the rest. */
  readonly texture: Float32Array;
}

/** The identity vector of a regressor's output, α then β (anything after them left out), without a copy. */
export function identityVectorOf(bundleId: string, coefficients: Float32Array, shapeComponents: number, textureComponents: number): IdentityVector {
  const length = shapeComponents + textureComponents;
  const vector = coefficients.length === length ? coefficients : coefficients.subarray(0, length);
  return { bundleId, vector, shape: vector.subarray(0, shapeComponents), texture: vector.subarray(shapeComponents) };
}

/** The identity vector of α and β kept apart (a stored row, a fit), joined once. */
export function joinedIdentityVector(bundleId: string, shape: ArrayLike<number>, texture: ArrayLike<number>): IdentityVector {
  const vector = new Float32Array(shape.length + texture.length);
  vector.set(shape);
  vector.set(texture, shape.length);
  return identityVectorOf(bundleId, vector, shape.length, texture.length);
}

export function dotProduct(a: FloatArray, b: FloatArray): number {
  assertSameLength(a, b);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * b[i];
  return sum;
}

export function l2Norm(v: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i] * v[i];
  return Math.sqrt(sum);
}

/** In [−1, 1]; 0 when either vector is zero. */
export function cosineSimilarity(a: FloatArray, b: FloatArray): number {
  const denominator = l2Norm(a) * l2Norm(b);
  return denominator > 0 ? dotProduct(a, b) / denominator : 0;
}

/** A unit-length copy; a zero vector stays zero. */
export function l2Normalise(v: ArrayLike<number>): Float32Array {
  const norm = l2Norm(v);
  const out = new Float32Array(v.length);
  if (norm > 0) for (let i = 0; i < v.length; i++) out[i] = v[i] / norm;
  return out;
}

/**
 * A subject's template from several photos: each vector is normalised first, so that every photo
 * counts by its weight (its quality at enrollment; equally without weights) whatever its magnitude,
 * then the mean is renormalised, so that templates compare with probes by cosine (or by dot
 * product) like any single photo.
 */
export function meanTemplate(vectors: readonly FloatArray[], weights?: readonly number[]): Float32Array {
  if (vectors.length === 0) throw new RangeError('meanTemplate needs at least one vector');
  if (weights && weights.length !== vectors.length) throw new RangeError(`${vectors.length} vectors but ${weights.length} weights`);
  const sum = new Float64Array(vectors[0].length);
  vectors.forEach((vector, v) => {
    assertSameLength(vector, sum);
    const unit = l2Normalise(vector);
    const weight = weights?.[v] ?? 1;
    for (let i = 0; i < sum.length; i++) sum[i] += weight * unit[i];
  });
  return l2Normalise(sum);
}

function assertSameLength(a: FloatArray, b: FloatArray): void {
  if (a.length !== b.length) throw new RangeError(`vector lengths differ: ${a.length} vs ${b.length}`);
}

/** A face's weight in its subject's template: its score, never quite zero (the only face of a subject still makes a template). */
export function templateWeight(score: number | null | undefined): number {
  return score === null || score === undefined ? 1 : Math.max(0.05, score);
}
