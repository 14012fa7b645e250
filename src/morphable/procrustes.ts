/**
 * Similarity alignment of 3D point sets (Umeyama 1991): the rotation, uniform scale and
 * translation that best map one set onto another in the (weighted) least-squares sense, never
 * a reflection. Point sets are flat xyz arrays: x0, y0, z0, x1, ...
 */
import { Matrix as MlMatrix, SingularValueDecomposition } from 'ml-matrix';
import { assertLength, type FloatArray } from '../core/linear-algebra.js';

/** Row-major 3x3. */
export type Rotation = Float64Array;

export interface SimilarityAlignment {
  /** Row-major 3x3 proper rotation (determinant +1). */
  readonly rotation: Rotation;
  readonly scale: number;
  readonly translation: Float64Array;
  /** scale · rotation · source_i + translation, flat xyz. */
  readonly aligned: Float64Array;
  /** Weighted root-mean-square distance between aligned and target points. */
  readonly rmsd: number;
}

/**
 * Minimises Σ_i w_i ||target_i − (s R source_i + t)||² over R ∈ SO(3), s > 0, t.
 * `weights` are per point (not per coordinate), e.g. landmark visibility.
 */
export function alignSimilarity(source: FloatArray, target: FloatArray, weights?: ArrayLike<number>): SimilarityAlignment {
  const n = pointCount(source);
  assertLength(target, source.length, 'alignSimilarity target');
  const w = normalisedWeights(weights, n);
  const sourceCentre = weightedCentroid(source, w);
  const targetCentre = weightedCentroid(target, w);
  // Cross-covariance Σ_i w_i (y_i − ȳ)(x_i − x̄)ᵀ and the source variance.
  const cross = new Float64Array(9);
  let sourceVariance = 0;
  for (let i = 0; i < n; i++) {
    if (w[i] === 0) continue;
    for (let r = 0; r < 3; r++) {
      const y = target[3 * i + r] - targetCentre[r];
      const x = source[3 * i + r] - sourceCentre[r];
      sourceVariance += w[i] * x * x;
      for (let c = 0; c < 3; c++) cross[r * 3 + c] += w[i] * y * (source[3 * i + c] - sourceCentre[c]);
    }
  }
  if (!(sourceVariance > 0)) throw new RangeError('alignSimilarity: source points are all at one place');
  const svd = new SingularValueDecomposition(MlMatrix.from1DArray(3, 3, cross));
  const u = svd.leftSingularVectors;
  const v = svd.rightSingularVectors;
  // Flipping the weakest axis when U Vᵀ would be a reflection gives the best proper rotation.
  const singular = svd.diagonal;
  const signs = [1, 1, 1];
  if (determinant3(u.to1DArray()) * determinant3(v.to1DArray()) < 0) signs[singular.indexOf(Math.min(...singular))] = -1;
  const rotation = new Float64Array(9);
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) {
      let value = 0;
      for (let k = 0; k < 3; k++) value += u.get(r, k) * signs[k] * v.get(c, k);
      rotation[r * 3 + c] = value;
    }
  }
  const scale = (singular[0] * signs[0] + singular[1] * signs[1] + singular[2] * signs[2]) / sourceVariance;
  const rotatedCentre = applyRotation(rotation, sourceCentre, 0);
  const translation = Float64Array.from(targetCentre, (t, r) => t - scale * rotatedCentre[r]);
  const aligned = applySimilarity(source, rotation, scale, translation);
  let squaredError = 0;
  for (let i = 0; i < n; i++) {
    for (let r = 0; r < 3; r++) squaredError += w[i] * (aligned[3 * i + r] - target[3 * i + r]) ** 2;
  }
  return { rotation, scale, translation, aligned, rmsd: Math.sqrt(squaredError) };
}

/** scale · rotation · p + translation for every point p. */
export function applySimilarity(points: FloatArray, rotation: Rotation, scale: number, translation: ArrayLike<number>): Float64Array {
  const out = new Float64Array(points.length);
  for (let i = 0; i < points.length; i += 3) {
    const rotated = applyRotation(rotation, points, i);
    for (let r = 0; r < 3; r++) out[i + r] = scale * rotated[r] + translation[r];
  }
  return out;
}

function applyRotation(rotation: Rotation, points: ArrayLike<number>, offset: number): Float64Array {
  const out = new Float64Array(3);
  for (let r = 0; r < 3; r++) {
    out[r] = rotation[r * 3] * points[offset] + rotation[r * 3 + 1] * points[offset + 1] + rotation[r * 3 + 2] * points[offset + 2];
  }
  return out;
}

function pointCount(points: FloatArray): number {
  if (points.length === 0 || points.length % 3 !== 0) throw new RangeError(`point set length ${points.length} is not a positive multiple of 3`);
  return points.length / 3;
}

function normalisedWeights(weights: ArrayLike<number> | undefined, n: number): Float64Array {
  if (!weights) return new Float64Array(n).fill(1 / n);
  assertLength(weights, n, 'point weights');
  let total = 0;
  for (let i = 0; i < n; i++) {
    if (!(weights[i] >= 0)) throw new RangeError(`point weight ${i} must be non-negative`);
    total += weights[i];
  }
  if (!(total > 0)) throw new RangeError('point weights must not all be zero');
  return Float64Array.from(weights, (w) => w / total);
}

function weightedCentroid(points: FloatArray, w: Float64Array): Float64Array {
  const centre = new Float64Array(3);
  for (let i = 0; i < w.length; i++) {
    for (let r = 0; r < 3; r++) centre[r] += w[i] * points[3 * i + r];
  }
  return centre;
}

function determinant3(m: ArrayLike<number>): number {
  return m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6]);
}

/** Root-mean-square distance of the points from their (weighted) centroid: the set's "size". */
export function centroidSize(points: FloatArray, weights?: ArrayLike<number>): number {
  const w = normalisedWeights(weights, pointCount(points));
  const centre = weightedCentroid(points, w);
  let sum = 0;
  for (let i = 0; i < w.length; i++) {
    for (let r = 0; r < 3; r++) sum += w[i] * (points[3 * i + r] - centre[r]) ** 2;
  }
  return Math.sqrt(sum);
}

export interface GeneralisedProcrustesResult {
  /** Centred at the origin, sized to the mean centroid size of the inputs, oriented like the first shape. */
  readonly mean: Float64Array;
  /** Every input shape similarity-aligned to `mean`. */
  readonly aligned: Float64Array[];
  /** Iterations run; fewer than asked when the mean stopped moving. */
  readonly iterations: number;
}

export interface GeneralisedProcrustesOptions {
  readonly iterations: number;
  /** Stop when the mean moves less than this (RMSD, input units). Default 1e-9 x the mean size. */
  readonly tolerance?: number;
  /** Per-point weights used in every alignment (e.g. to ignore unreliable landmarks). */
  readonly pointWeights?: ArrayLike<number>;
}

/**
 * Generalised Procrustes analysis: align all shapes to a reference, average, and repeat with the
 * average as the new reference. The reference's size and pose are pinned (centred, fixed
 * centroid size, aligned to the previous reference) so the iteration cannot shrink or drift.
 */
export function generalisedProcrustesMean(shapes: readonly FloatArray[], options: GeneralisedProcrustesOptions): GeneralisedProcrustesResult {
  if (shapes.length === 0) throw new RangeError('generalisedProcrustesMean needs at least one shape');
  const { pointWeights } = options;
  const size = shapes.reduce((sum, shape) => sum + centroidSize(shape, pointWeights), 0) / shapes.length;
  const tolerance = options.tolerance ?? size * 1e-9;
  let reference = normaliseShape(shapes[0], size, pointWeights);
  let aligned = shapes.map((shape) => alignSimilarity(shape, reference, pointWeights).aligned);
  let iterations = 0;
  while (iterations < options.iterations) {
    iterations++;
    const average = new Float64Array(reference.length);
    for (const shape of aligned) for (let c = 0; c < average.length; c++) average[c] += shape[c] / aligned.length;
    const next = alignSimilarity(normaliseShape(average, size, pointWeights), reference, pointWeights);
    const pinned = normaliseShape(next.aligned, size, pointWeights);
    const movement = rmsDistance(pinned, reference);
    reference = pinned;
    aligned = shapes.map((shape) => alignSimilarity(shape, reference, pointWeights).aligned);
    if (movement < tolerance) break;
  }
  return { mean: reference, aligned, iterations };
}

function normaliseShape(points: FloatArray, size: number, weights?: ArrayLike<number>): Float64Array {
  const w = normalisedWeights(weights, pointCount(points));
  const centre = weightedCentroid(points, w);
  const factor = size / centroidSize(points, weights);
  return Float64Array.from(points, (value, index) => (value - centre[index % 3]) * factor);
}

function rmsDistance(a: Float64Array, b: Float64Array): number {
  let sum = 0;
  for (let c = 0; c < a.length; c++) sum += (a[c] - b[c]) ** 2;
  return Math.sqrt(sum / (a.length / 3));
}

export interface EulerAngles {
  readonly yaw: number;
  readonly pitch: number;
  readonly roll: number;
}

const DEGREES = 180 / Math.PI;

/**
 * Convention: R = Rz(roll) · Ry(yaw) · Rx(pitch), angles in degrees, right-handed rotations about
 * the frame's own axes (x: pitch, y: yaw, z: roll; pitch applied first). For a pose estimated by
 * `alignSimilarity(modelMeanShape, photoLandmarks)`, the frame is the landmarks' frame. Yaw lies
 * in [−90, 90]; at exactly ±90 (gimbal lock) roll is reported as 0 and folded into pitch.
 */
export function rotationToEuler(rotation: Rotation): EulerAngles {
  assertLength(rotation, 9, 'rotation');
  const [r00, , , r10, r11, r12, r20, r21, r22] = rotation;
  const cosYaw = Math.hypot(r00, r10);
  const yaw = Math.atan2(-r20, cosYaw);
  if (cosYaw < 1e-9) return { yaw: yaw * DEGREES, pitch: Math.atan2(-r12, r11) * DEGREES, roll: 0 };
  return { yaw: yaw * DEGREES, pitch: Math.atan2(r21, r22) * DEGREES, roll: Math.atan2(r10, r00) * DEGREES };
}

/** The inverse of `rotationToEuler`, same convention. */
export function eulerToRotation(angles: EulerAngles): Rotation {
  const [cx, sx] = [Math.cos(angles.pitch / DEGREES), Math.sin(angles.pitch / DEGREES)];
  const [cy, sy] = [Math.cos(angles.yaw / DEGREES), Math.sin(angles.yaw / DEGREES)];
  const [cz, sz] = [Math.cos(angles.roll / DEGREES), Math.sin(angles.roll / DEGREES)];
  return Float64Array.of(
    cy * cz, sx * sy * cz - cx * sz, cx * sy * cz + sx * sz,
    cy * sz, sx * sy * sz + cx * cz, cx * sy * sz - sx * cz,
    -sy, sx * cy, cx * cy,
  );
}
