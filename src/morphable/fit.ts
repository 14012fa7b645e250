/**
 * Fitting the morphable model to one photo's landmarks and texture: pose by similarity Procrustes
 * to the mean shape, then identity and expression coefficients jointly by ridge-regularised least
 * squares, and texture coefficients on the texels the photo shows. This is the per-photo `fitted`
 * vector of the paper's baseline, and the per-photo fit that training labels pool.
 */
import { alignSimilarity, rotationToEuler, type EulerAngles } from './procrustes.js';
import type { Bundle, LinearModel } from './bundle.js';
import { dot, solveSymmetricPositiveDefinite, symmetricPositiveDefiniteSolver, transpose, zeros64 } from '../core/linear-algebra.js';
import { imageToModelSpace } from '../mesh/mesh.js';
import { project } from './pca.js';
import { symmetriseShape } from './symmetry.js';

export interface PoseFit {
  /** Photo landmarks mapped into the model frame (similarity-aligned to the mean shape). */
  readonly aligned: Float64Array;
  /** The head's rotation in the photo (degrees), from the model frame to the photo. */
  readonly pose: EulerAngles;
  /** Model millimetres per photo pixel. */
  readonly scale: number;
}

export function fitPose(meanShape: ArrayLike<number>, points: Float32Array): PoseFit {
  const photo = imageToModelSpace(points);
  const toModel = alignSimilarity(photo, Float64Array.from(meanShape));
  // The alignment the other way (model to photo) has the transposed cross-covariance, hence the
  // transposed rotation: no second alignment needed.
  const toPhoto = transpose({ rows: 3, cols: 3, data: toModel.rotation }).data;
  return { aligned: toModel.aligned, pose: rotationToEuler(toPhoto), scale: toModel.scale };
}

/** One row of the stacked bases: basis vector `offset / cols` of a model, with its sigma. */
interface StackedRow {
  readonly data: Float32Array;
  readonly offset: number;
  readonly sigma: number;
}

/** The stacked rows of several linear models and their ridge normal matrix (Σ Bᵀ B Σ + λ I), k x k. */
function jointNormalEquations(models: readonly LinearModel[], lambda: number, d: number): { rows: StackedRow[]; normal: Float64Array } {
  const rows: StackedRow[] = [];
  for (const model of models) {
    for (let j = 0; j < model.basis.rows; j++) rows.push({ data: model.basis.data, offset: j * model.basis.cols, sigma: model.sigma[j] });
  }
  const k = rows.length;
  const normal = new Float64Array(k * k);
  for (let a = 0; a < k; a++) {
    const ra = rows[a];
    for (let b = 0; b <= a; b++) {
      const rb = rows[b];
      let s = 0;
      for (let c = 0; c < d; c++) s += ra.data[ra.offset + c] * rb.data[rb.offset + c];
      normal[a * k + b] = normal[b * k + a] = ra.sigma * rb.sigma * s;
    }
    normal[a * k + a] += lambda;
  }
  return { rows, normal };
}

/**
 * argmin ||x − μ − Σ_m B_m (σ_m ⊙ c_m)||² + λ ||c||² over the stacked coefficients of several
 * linear models sharing one mean (identity and expression), i.e. the MAP fit under unit-normal priors.
 * The normal matrix depends only on the models, so it is built and factored once and every x costs
 * two triangular solves.
 */
export function jointFitter(mean: ArrayLike<number>, models: readonly LinearModel[], lambda: number): (x: ArrayLike<number>) => Float64Array[] {
  const d = mean.length;
  const { rows, normal } = jointNormalEquations(models, lambda, d);
  const k = rows.length;
  const solve = symmetricPositiveDefiniteSolver(normal, k);
  return (x) => {
    const residual = new Float64Array(d);
    for (let c = 0; c < d; c++) residual[c] = x[c] - mean[c];
    const rhs = zeros64(k, 1);
    rows.forEach((r, a) => {
      let dot = 0;
      for (let c = 0; c < d; c++) dot += r.data[r.offset + c] * residual[c];
      rhs.data[a] = r.sigma * dot;
    });
    const solution = solve(rhs).data;
    let start = 0;
    return models.map((model) => {
      const part = solution.slice(start, start + model.basis.rows);
      start += model.basis.rows;
      return part;
    });
  };
}

/**
 * Model `index`'s part of jointFitter's solution as one linear map of x − μ: the normal equations
 * are solved once for every dimension (N⁻¹ Σ Bᵀ, that model's rows kept), so each x costs one
 * (rows x d) product instead of k dot products and two triangular solves. Equal to jointFitter's
 * part up to float rounding.
 */
export function jointPartEstimator(mean: ArrayLike<number>, models: readonly LinearModel[], lambda: number, index: number): (x: ArrayLike<number>) => Float64Array {
  const d = mean.length;
  const { rows, normal } = jointNormalEquations(models, lambda, d);
  const k = rows.length;
  // N⁻¹ (k x k, a solve with k right-hand sides), then that model's rows of N⁻¹ Σ Bᵀ: far cheaper
  // than solving for all d columns of Σ Bᵀ.
  const identity = zeros64(k, k);
  for (let a = 0; a < k; a++) identity.data[a * k + a] = 1;
  const inverse = symmetricPositiveDefiniteSolver(normal, k)(identity).data;
  const first = models.slice(0, index).reduce((sum, model) => sum + model.basis.rows, 0);
  const count = models[index].basis.rows;
  const map = new Float64Array(count * d);
  for (let j = 0; j < count; j++) {
    rows.forEach((r, a) => {
      const weight = inverse[(first + j) * k + a] * r.sigma;
      for (let c = 0; c < d; c++) map[j * d + c] += weight * r.data[r.offset + c];
    });
  }
  const meanValues = Float64Array.from(mean);
  return (x) => {
    const residual = new Float64Array(d);
    for (let c = 0; c < d; c++) residual[c] = x[c] - meanValues[c];
    return Float64Array.from({ length: count }, (_, j) => dot(map, j * d, residual, 0, d));
  };
}

export function fitJointCoefficients(x: ArrayLike<number>, mean: ArrayLike<number>, models: readonly LinearModel[], lambda: number): Float64Array[] {
  return jointFitter(mean, models, lambda)(x);
}

/**
 * How much one photo's fit counts when a person's photos are pooled: FaceMesh's face probability,
 * times cos²(yaw) because a frontal photo shows both halves of the face; never quite zero, so a
 * person whose every photo is in profile still gets a label.
 */
export function fitConfidence(landmarkConfidence: number, yawDegrees: number): number {
  return Math.max(0.05, landmarkConfidence * Math.cos((yawDegrees * Math.PI) / 180) ** 2);
}

/** Squared-millimetre noise of FaceMesh landmarks relative to the unit prior: the ridge strength. */
export const SHAPE_FIT_LAMBDA = 4;
/** Texture noise (squared 0..255 levels) relative to the prior, per texel channel. */
export const TEXTURE_FIT_LAMBDA = 2000;

export interface NeutralShape {
  /** The aligned shape less its expression (and averaged with its mirror image when `symmetric`). */
  readonly neutral: Float64Array;
  readonly expression: Float64Array;
}

/**
 * Removes a photo's expression: a joint ridge fit of identity and expression explains the aligned
 * shape, and only the expression part is subtracted, so the identity keeps its full scale. This is
 * exactly what per-person labels pool, so one photo's fit and a person's label are comparable.
 */
export function expressionRemover(mean: ArrayLike<number>, identity: LinearModel, expressionModel: LinearModel, lambda: number, symmetric: boolean): (aligned: Float64Array) => NeutralShape {
  const fit = jointFitter(mean, [identity, expressionModel], lambda);
  return (aligned) => {
    const [, expression] = fit(aligned);
    const out = Float64Array.from(aligned);
    const d = out.length;
    for (let j = 0; j < expression.length; j++) {
      const scale = expression[j] * expressionModel.sigma[j];
      for (let c = 0; c < d; c++) out[c] -= scale * expressionModel.basis.data[j * d + c];
    }
    return { neutral: symmetric ? symmetriseShape(out) : out, expression };
  };
}

/** What one bundle's fits set up once per ridge strength, built on first use. */
function perBundle<T>(cache: WeakMap<Bundle, Map<number, T>>, bundle: Bundle, lambda: number, build: () => T): T {
  let byLambda = cache.get(bundle);
  if (!byLambda) cache.set(bundle, (byLambda = new Map()));
  let value = byLambda.get(lambda);
  if (value === undefined) {
    value = build();
    byLambda.set(lambda, value);
  }
  return value;
}

const removers = new WeakMap<Bundle, Map<number, (aligned: Float64Array) => NeutralShape>>();

function bundleRemover(bundle: Bundle, lambda: number): (aligned: Float64Array) => NeutralShape {
  return perBundle(removers, bundle, lambda, () => expressionRemover(bundle.expression.mean, bundle.shape, bundle.expression, lambda, bundle.manifest.preprocessing.symmetric === true));
}

const expressionEstimators = new WeakMap<Bundle, Map<number, (aligned: Float64Array) => Float64Array>>();

/** The expression part of the joint identity and expression fit that bundleRemover runs. */
function bundleExpressionEstimator(bundle: Bundle, lambda: number): (aligned: Float64Array) => Float64Array {
  return perBundle(expressionEstimators, bundle, lambda, () => jointPartEstimator(bundle.expression.mean, [bundle.shape, bundle.expression], lambda, 1));
}

export interface PoseExpressionFit extends PoseFit {
  readonly expression: Float64Array;
}

export interface ShapeFit extends PoseExpressionFit {
  readonly identity: Float64Array;
}

/** Pose, expression and the identity coefficients of one photo's landmarks (its neutral shape projected on the shape basis). */
export function fitShape(bundle: Bundle, points: Float32Array, lambda = SHAPE_FIT_LAMBDA): ShapeFit {
  // The expression model's mean is the population's mean face with its average expression: the
  // reference every training photo was aligned to, so a photo is fitted exactly as labels were made.
  const pose = fitPose(bundle.expression.mean, points);
  const { neutral, expression } = bundleRemover(bundle, lambda)(pose.aligned);
  return { ...pose, identity: project(bundle.shape, neutral), expression };
}

/**
 * fitShape's pose and expression (up to float rounding) without the identity it projects: what
 * enrollment stores beside the regressed vector, at a fraction of the cost per photo. The bundle's
 * set-up is done here, once, so an encoder opening calls this and no photo waits for it.
 */
export function poseAndExpressionFitter(bundle: Bundle, lambda = SHAPE_FIT_LAMBDA): (points: Float32Array) => PoseExpressionFit {
  const estimate = bundleExpressionEstimator(bundle, lambda);
  return (points) => {
    const pose = fitPose(bundle.expression.mean, points);
    return { ...pose, expression: estimate(pose.aligned) };
  };
}

/**
 * Texture coefficients from the texels the photo shows: weighted ridge regression with the
 * visibility mask as weights, so hidden parts are filled in by the model, not by zeros.
 */
export function fitTexture(model: LinearModel, texture: Float32Array, visibility: Float32Array, lambda = TEXTURE_FIT_LAMBDA): Float64Array {
  const d = model.basis.cols;
  const k = model.basis.rows;
  const normal = new Float64Array(k * k);
  const rhs = zeros64(k, 1);
  const weighted = new Float64Array(d);
  for (let a = 0; a < k; a++) {
    const oa = a * d;
    let r = 0;
    for (let c = 0; c < d; c++) {
      weighted[c] = visibility[c] * model.basis.data[oa + c];
      r += weighted[c] * (texture[c] - model.mean[c]);
    }
    rhs.data[a] = model.sigma[a] * r;
    for (let b = 0; b <= a; b++) {
      const ob = b * d;
      let s = 0;
      for (let c = 0; c < d; c++) s += weighted[c] * model.basis.data[ob + c];
      normal[a * k + b] = normal[b * k + a] = model.sigma[a] * model.sigma[b] * s;
    }
    normal[a * k + a] += lambda;
  }
  return solveSymmetricPositiveDefinite(normal, rhs).data;
}
