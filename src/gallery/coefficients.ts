/** Checks and arithmetic on 3DMM coefficient vectors (α, β, expression), σ units. */
import { Face3dError } from '../core/errors.js';
import type { Coefficients } from '../morphable/reconstruct.js';

/**
 * A regressor fed bad input (or a broken model file) yields NaN; storing it would poison the
 * subject's template and every ranking it takes part in, so such a vector is refused.
 */
export function assertFiniteCoefficients(vector: { readonly shape: Float32Array; readonly texture: Float32Array }): void {
  const finite = (values: Float32Array): boolean => values.every(Number.isFinite);
  if (!finite(vector.shape) || !finite(vector.texture)) {
    throw new Face3dError('MODEL_UNAVAILABLE', 'the 3DMM regressor produced non-finite coefficients; the model files may be damaged');
  }
}

/** Element-wise mean: a subject's template shape is the mean of its faces' coefficients. */
export function meanCoefficients(vectors: readonly Float32Array[]): Float32Array {
  if (vectors.length === 0) throw new RangeError('meanCoefficients needs at least one vector');
  const mean = new Float32Array(vectors[0].length);
  for (const vector of vectors) {
    if (vector.length !== mean.length) throw new RangeError(`vector lengths differ: ${vector.length} vs ${mean.length}`);
    for (let i = 0; i < mean.length; i++) mean[i] += vector[i] / vectors.length;
  }
  return mean;
}

/** A subject's template under one bundle: its faces' mean α and β. */
export interface SubjectTemplate {
  readonly bundleId: string;
  readonly shape: Float32Array;
  readonly texture: Float32Array;
}

/** The template of a subject with these enrolled faces under `bundleId`, or null while it has none. */
export function subjectTemplate(bundleId: string, faces: readonly { readonly shape: Float32Array; readonly texture: Float32Array; readonly expression: Float32Array }[]): SubjectTemplate | null {
  return faces.length === 0 ? null : { bundleId, ...templateCoefficients(faces, false) };
}

/** A subject's template coefficients: the mean of its faces' α and β (and expression, when asked). */
export function templateCoefficients(
  faces: readonly { readonly shape: Float32Array; readonly texture: Float32Array; readonly expression: Float32Array }[],
  withExpression: boolean,
): Coefficients & { readonly shape: Float32Array; readonly texture: Float32Array } {
  return {
    shape: meanCoefficients(faces.map((face) => face.shape)),
    texture: meanCoefficients(faces.map((face) => face.texture)),
    ...(withExpression && { expression: meanCoefficients(faces.map((face) => face.expression)) }),
  };
}
