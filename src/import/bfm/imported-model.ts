/**
 * A morphable model read from another format, in face3d's conventions before it is written as a
 * bundle: millimetres, texture 0..255 per vertex, x y z (r g b) interleaved per vertex, 0-based
 * triangles, orthonormal basis rows with σ per component (S = μ + U (σ ⊙ α), the Basel Face
 * Model's own form).
 */
import { Face3dError } from '../../core/errors.js';
import type { LinearModel } from '../../morphable/bundle.js';

export interface ImportedModel {
  readonly vertexCount: number;
  readonly triangles: Uint32Array;
  readonly shape: LinearModel;
  readonly texture: LinearModel;
  readonly expression?: LinearModel;
  /** What was read, for the manifest's description. */
  readonly source: string;
}

/** `basis` holds one component per column of a [dims x components] column-major matrix, i.e. one per row of ours. */
export function linearModel(mean: ArrayLike<number>, basisColumns: ArrayLike<number>, sigma: ArrayLike<number>, what: string): LinearModel {
  const dims = mean.length;
  const components = sigma.length;
  if (basisColumns.length !== dims * components) {
    throw new Face3dError('BAD_USER_INPUT', `${what}: basis holds ${basisColumns.length} values, expected ${dims} x ${components}`);
  }
  const asFloat32 = (values: ArrayLike<number>) => (values instanceof Float32Array ? values : Float32Array.from(values));
  return { mean: asFloat32(mean), basis: { rows: components, cols: dims, data: asFloat32(basisColumns) }, sigma: asFloat32(sigma) };
}

/** The first `components` components (the seed keeps 99 of BFM 2009's 199). */
export function firstComponents(model: LinearModel, components: number): LinearModel {
  const rows = Math.min(components, model.basis.rows);
  return { mean: model.mean, basis: { rows, cols: model.basis.cols, data: model.basis.data.subarray(0, rows * model.basis.cols) }, sigma: model.sigma.subarray(0, rows) };
}

/** The model restricted to `vertices` (0-based), x y z of each kept together. */
export function selectVertices(model: LinearModel, vertices: ArrayLike<number>): LinearModel {
  const n = vertices.length;
  const cols = n * 3;
  const pick = (source: Float32Array, offset: number, out: Float32Array, outOffset: number) => {
    for (let v = 0; v < n; v++) {
      const from = offset + vertices[v] * 3;
      out[outOffset + v * 3] = source[from];
      out[outOffset + v * 3 + 1] = source[from + 1];
      out[outOffset + v * 3 + 2] = source[from + 2];
    }
  };
  const mean = new Float32Array(cols);
  pick(model.mean, 0, mean, 0);
  const basis = new Float32Array(model.basis.rows * cols);
  for (let k = 0; k < model.basis.rows; k++) pick(model.basis.data, k * model.basis.cols, basis, k * cols);
  return { mean, basis: { rows: model.basis.rows, cols, data: basis }, sigma: model.sigma };
}

/** Scales the model's values (mean and σ; the basis stays orthonormal). */
export function scaleModel(model: LinearModel, factor: number): LinearModel {
  if (factor === 1) return model;
  return { mean: model.mean.map((v) => v * factor), basis: model.basis, sigma: model.sigma.map((s) => s * factor) };
}

/**
 * Factor to millimetres from the mean shape's extent: a face is ~100-200 mm across, so an extent
 * above 5,000 means micrometres (BFM 2009 stores µm; BFM 2017/2019 and the seed's trimmed model mm).
 */
export function millimetresPerUnit(mean: Float32Array): number {
  const extent = mean.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  return extent > 5000 ? 1 / 1000 : 1;
}

/** Factor to 0..255 from the mean colour: BFM 2017/2019 store colours in 0..1, BFM 2009 in 0..255. */
export function byteColourPerUnit(mean: Float32Array): number {
  return mean.reduce((m, v) => Math.max(m, v), 0) <= 1.5 ? 255 : 1;
}

/** Triangles as stored by MATLAB-side tools: `base` 1 for 1-based indices. Checks every index against the vertices. */
export function zeroBasedTriangles(indices: ArrayLike<number>, base: 0 | 1, vertexCount: number): Uint32Array {
  const out = new Uint32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const index = indices[i] - base;
    if (!Number.isInteger(index) || index < 0 || index >= vertexCount) {
      throw new Face3dError('BAD_USER_INPUT', `triangle index ${indices[i]} is outside the ${vertexCount} vertices (${base}-based)`);
    }
    out[i] = index;
  }
  return out;
}
