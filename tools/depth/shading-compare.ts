/**
 * How much of a face's true depth deviation a recovered change holds, on synthetic faces: both in
 * the model frame, compared at the face's inner vertices (not the outline, which no photo's shading
 * constrains), each less its best-fit plane over x, y (a plane is pose).
 */
import { computeVertexNormals } from '../../src/mesh/mesh.js';
import { FACEMESH_REGIONS, FACEMESH_TRIANGLES } from '../../src/morphable/facemesh-topology.js';

export interface DeviationComparison {
  /** Pearson correlation of the recovered and the true deviation. */
  readonly correlation: number;
  /** RMS of the recovered over RMS of the true. */
  readonly sizeRatio: number;
  /** RMS of (true − recovered) over RMS of the true: below 1 is nearer the truth than the mean face. */
  readonly rmseRatio: number;
}

/** Inner vertices of `mean`: off the outline and facing the camera. */
function innerVertices(mean: Float32Array): Uint8Array {
  const normals = computeVertexNormals({ positions: mean, indices: FACEMESH_TRIANGLES });
  const outline = new Set(FACEMESH_REGIONS.faceOval);
  return Uint8Array.from({ length: mean.length / 3 }, (_, i) => (!outline.has(i) && normals[3 * i + 2] > 0.5 ? 1 : 0));
}

/** `innerVertices` that `within` (where given) also marks. */
function keptVertices(mean: Float32Array, within?: Uint8Array): Uint8Array {
  return innerVertices(mean).map((k, i) => (within && !within[i] ? 0 : k));
}

function withoutPlane(z: ArrayLike<number>, shape: Float32Array, keep: Uint8Array): Float64Array {
  // Least squares of z on [x, y, 1] over the kept vertices (3 × 3 normal equations).
  const a = new Float64Array(9);
  const b = new Float64Array(3);
  keep.forEach((k, i) => {
    if (!k) return;
    const row = [shape[3 * i], shape[3 * i + 1], 1];
    for (let r = 0; r < 3; r++) {
      b[r] += row[r] * z[i];
      for (let c = 0; c < 3; c++) a[3 * r + c] += row[r] * row[c];
    }
  });
  const [p, q, s] = solve3(a, b);
  return Float64Array.from({ length: keep.length }, (_, i) => z[i] - p * shape[3 * i] - q * shape[3 * i + 1] - s);
}

function solve3(m: Float64Array, b: Float64Array): [number, number, number] {
  const det = (x: number[]) => x[0] * (x[4] * x[8] - x[5] * x[7]) - x[1] * (x[3] * x[8] - x[5] * x[6]) + x[2] * (x[3] * x[7] - x[4] * x[6]);
  const d = det([...m]);
  return [0, 1, 2].map((col) => det([...m].map((v, k) => (k % 3 === col ? b[Math.floor(k / 3)] : v))) / d) as [number, number, number];
}

/** RMS (mm) of `trueDeviation` less its best-fit plane, over the inner vertices `within` marks: the error of `mean` itself. */
export function deviationRms(mean: Float32Array, trueDeviation: ArrayLike<number>, within?: Uint8Array): number {
  const keep = keptVertices(mean, within);
  const truth = withoutPlane(trueDeviation, mean, keep);
  let squares = 0;
  keep.forEach((k, i) => (squares += k ? truth[i] ** 2 : 0));
  return Math.sqrt(squares / keep.reduce((s, k) => s + k, 0));
}

/**
 * `trueDeviation` per vertex (depth, mm) against `change` (flat xyz, model frame; its z is compared),
 * over the inner vertices that `within` (where given) also marks: where the truth is known.
 */
export function compareDeviations(mean: Float32Array, trueDeviation: ArrayLike<number>, change: ArrayLike<number>, within?: Uint8Array): DeviationComparison {
  const keep = keptVertices(mean, within);
  const truth = withoutPlane(trueDeviation, mean, keep);
  const recovered = withoutPlane(Float64Array.from({ length: keep.length }, (_, i) => change[3 * i + 2]), mean, keep);
  let n = 0, st = 0, sr = 0, stt = 0, srr = 0, str = 0, sdd = 0;
  keep.forEach((k, i) => {
    if (!k) return;
    n++; st += truth[i]; sr += recovered[i]; stt += truth[i] ** 2; srr += recovered[i] ** 2; str += truth[i] * recovered[i]; sdd += (truth[i] - recovered[i]) ** 2;
  });
  const cov = str - (st * sr) / n;
  const varT = stt - (st * st) / n;
  const varR = srr - (sr * sr) / n;
  return { correlation: varR > 0 ? cov / Math.sqrt(varT * varR) : 0, sizeRatio: Math.sqrt(srr / stt), rmseRatio: Math.sqrt(sdd / stt) };
}
