/**
 * Fitting a linear identity + expression shape model (e.g. the ICT-FaceKit model restricted to
 * its 68 landmark vertices) to one photo's landmarks, alternating pose and coefficients:
 *   - 3D: similarity-align the landmarks onto the current model shape, then ridge-fit the
 *     coefficients (uses the landmarks' depth);
 *   - 2D: scaled-orthographic pose from x, y only, then ridge-fit the coefficients of the
 *     projected model (ignores the landmarks' depth, for when it is unreliable).
 * Both are MAP fits under unit-normal coefficient priors with noise variance `lambda` (model
 * units squared).
 */
import type { LinearModel } from './bundle.js';
import { fitJointCoefficients } from './fit.js';
import { alignSimilarity, rotationToEuler, type EulerAngles, type Rotation } from './procrustes.js';
import type { FloatArray } from '../core/linear-algebra.js';

/** Identity and expression models over the same points, sharing `identity.mean`. */
export interface ShapeModelPair {
  readonly identity: LinearModel;
  readonly expression: LinearModel;
}

export interface LandmarkFitOptions {
  readonly lambda: number;
  /** Pose / coefficient alternations; default 4. */
  readonly iterations?: number;
}

export interface LandmarkFit {
  readonly identity: Float64Array;
  readonly expression: Float64Array;
  /** Head rotation from the model frame to the photo. */
  readonly pose: EulerAngles;
  /** Root-mean-square distance (model units) between the fitted shape and the landmarks in the model frame (3D) or image plane (2D). */
  readonly rmsd: number;
}

/** Model shape for the given coefficients (flat xyz). */
export function modelShape(models: ShapeModelPair, identity: ArrayLike<number>, expression: ArrayLike<number>): Float64Array {
  const out = Float64Array.from(models.identity.mean);
  const add = (model: LinearModel, coefficients: ArrayLike<number>): void => {
    const { rows, cols, data } = model.basis;
    for (let j = 0; j < Math.min(rows, coefficients.length); j++) {
      const scale = coefficients[j] * model.sigma[j];
      if (scale !== 0) for (let c = 0; c < cols; c++) out[c] += scale * data[j * cols + c];
    }
  };
  add(models.identity, identity);
  add(models.expression, expression);
  return out;
}

/** `landmarks`: flat xyz, y up, +z towards the viewer, any scale and pose. */
export function fitLandmarks3d(models: ShapeModelPair, landmarks: FloatArray, options: LandmarkFitOptions): LandmarkFit {
  let identity: Float64Array = new Float64Array(models.identity.basis.rows);
  let expression: Float64Array = new Float64Array(models.expression.basis.rows);
  let shape: Float64Array = Float64Array.from(models.identity.mean);
  let aligned = alignSimilarity(landmarks, shape);
  for (let iteration = 0; iteration < (options.iterations ?? 4); iteration++) {
    aligned = alignSimilarity(landmarks, shape);
    [identity, expression] = fitJointCoefficients(aligned.aligned, models.identity.mean, [models.identity, models.expression], options.lambda);
    shape = modelShape(models, identity, expression);
  }
  return { identity, expression, pose: rotationToEuler(transposeRotation(aligned.rotation)), rmsd: rmsDistance(aligned.aligned, shape, 3) };
}

/** `landmarks`: flat xy (y up), a scaled orthographic view of the face. */
export function fitLandmarks2d(models: ShapeModelPair, landmarks: FloatArray, options: LandmarkFitOptions): LandmarkFit {
  const n = landmarks.length / 2;
  const target = centred(landmarks, 2);
  let identity: Float64Array = new Float64Array(models.identity.basis.rows);
  let expression: Float64Array = new Float64Array(models.expression.basis.rows);
  let shape: Float64Array = Float64Array.from(models.identity.mean);
  let pose = orthographicPose(shape, target);
  for (let iteration = 0; iteration < (options.iterations ?? 4); iteration++) {
    pose = orthographicPose(shape, target);
    const inModelUnits = target.map((v) => v / pose.scale);
    const projectedMean = centred(project(pose.rows, models.identity.mean, 0, n), 2);
    [identity, expression] = fitJointCoefficients(
      inModelUnits,
      projectedMean,
      [projectModel(models.identity, pose.rows, projectedMean), projectModel(models.expression, pose.rows, projectedMean)],
      options.lambda,
    );
    shape = modelShape(models, identity, expression);
  }
  const fitted = centred(project(pose.rows, shape, 0, n), 2);
  return { identity, expression, pose: rotationToEuler(pose.rotation), rmsd: rmsDistance(target.map((v) => v / pose.scale), fitted, 2) };
}

interface OrthographicPose {
  /** The first two rows of `rotation`, the image axes in the model frame (row-major 2x3). */
  readonly rows: Float64Array;
  readonly rotation: Rotation;
  /** Photo units per model unit. */
  readonly scale: number;
}

/**
 * Scaled orthographic camera from 3D model points to centred 2D points: the least-squares affine
 * map A (2x3), made a scaled rotation by its polar factor (A Aᵀ)^(-1/2) A, the nearest matrix
 * with orthonormal rows; the scale is the mean of A's singular values.
 */
export function orthographicPose(shape: FloatArray, target2d: FloatArray): OrthographicPose {
  const n = shape.length / 3;
  const model = centred(shape, 3);
  const xxT = new Float64Array(9);
  const yxT = new Float64Array(6);
  for (let i = 0; i < n; i++) {
    for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) xxT[r * 3 + c] += model[3 * i + r] * model[3 * i + c];
    for (let r = 0; r < 2; r++) for (let c = 0; c < 3; c++) yxT[r * 3 + c] += target2d[2 * i + r] * model[3 * i + c];
  }
  const inverse = invert3(xxT);
  const a = new Float64Array(6);
  for (let r = 0; r < 2; r++) for (let c = 0; c < 3; c++) for (let k = 0; k < 3; k++) a[r * 3 + c] += yxT[r * 3 + k] * inverse[k * 3 + c];
  // M = A Aᵀ (2x2 SPD); sqrt(M) = (M + √det I) / √(tr + 2√det).
  const m00 = a[0] * a[0] + a[1] * a[1] + a[2] * a[2];
  const m01 = a[0] * a[3] + a[1] * a[4] + a[2] * a[5];
  const m11 = a[3] * a[3] + a[4] * a[4] + a[5] * a[5];
  const rootDet = Math.sqrt(Math.max(0, m00 * m11 - m01 * m01));
  const norm = Math.sqrt(m00 + m11 + 2 * rootDet);
  const [s00, s01, s11] = [(m00 + rootDet) / norm, m01 / norm, (m11 + rootDet) / norm];
  const det = s00 * s11 - s01 * s01;
  const [i00, i01, i11] = [s11 / det, -s01 / det, s00 / det];
  const rows = Float64Array.from({ length: 6 }, (_, k) => {
    const [r, c] = [Math.floor(k / 3), k % 3];
    return r === 0 ? i00 * a[c] + i01 * a[3 + c] : i01 * a[c] + i11 * a[3 + c];
  });
  const third = [rows[1] * rows[5] - rows[2] * rows[4], rows[2] * rows[3] - rows[0] * rows[5], rows[0] * rows[4] - rows[1] * rows[3]];
  return { rows, rotation: Float64Array.of(...rows, ...third), scale: (s00 + s11) / 2 };
}

/** x, y of the rotated points (rows · p) for n points of `values` from `offset`. */
function project(rows: Float64Array, values: ArrayLike<number>, offset: number, n: number): Float64Array {
  const out = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    const [x, y, z] = [values[offset + 3 * i], values[offset + 3 * i + 1], values[offset + 3 * i + 2]];
    out[2 * i] = rows[0] * x + rows[1] * y + rows[2] * z;
    out[2 * i + 1] = rows[3] * x + rows[4] * y + rows[5] * z;
  }
  return out;
}

/** The model seen through the camera: basis rows projected and centred (translation is free). */
function projectModel(model: LinearModel, rows: Float64Array, projectedMean: Float64Array): LinearModel {
  const n = model.basis.cols / 3;
  const data = new Float32Array(model.basis.rows * 2 * n);
  for (let j = 0; j < model.basis.rows; j++) data.set(centred(project(rows, model.basis.data, j * model.basis.cols, n), 2), j * 2 * n);
  return { mean: Float32Array.from(projectedMean), basis: { rows: model.basis.rows, cols: 2 * n, data }, sigma: model.sigma };
}

/** Each coordinate less its mean over the points (flat, `dims` values per point). */
export function centred(values: ArrayLike<number>, dims: number): Float64Array {
  const n = values.length / dims;
  const centre = new Float64Array(dims);
  for (let i = 0; i < values.length; i++) centre[i % dims] += values[i] / n;
  return Float64Array.from(values, (v, i) => v - centre[i % dims]);
}

function rmsDistance(a: ArrayLike<number>, b: ArrayLike<number>, dims: number): number {
  let sum = 0;
  for (let c = 0; c < a.length; c++) sum += (a[c] - b[c]) ** 2;
  return Math.sqrt(sum / (a.length / dims));
}

export function transposeRotation(m: Rotation): Rotation {
  return Float64Array.of(m[0], m[3], m[6], m[1], m[4], m[7], m[2], m[5], m[8]);
}

function invert3(m: Float64Array): Float64Array {
  const [a, b, c, d, e, f, g, h, k] = m;
  const det = a * (e * k - f * h) - b * (d * k - f * g) + c * (d * h - e * g);
  if (!(Math.abs(det) > 0)) throw new RangeError('orthographicPose: model points are degenerate (coplanar)');
  return Float64Array.of(e * k - f * h, c * h - b * k, b * f - c * e, f * g - d * k, a * k - c * g, c * d - a * f, d * h - e * g, b * g - a * h, a * e - b * d).map((v) => v / det);
}
