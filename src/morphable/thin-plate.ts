/**
 * Smoothing thin-plate spline over the plane: f(p) = a₀ + a₁x + a₂y + Σ_c w_c φ(|p − c|), φ(r) = r² log r,
 * the smoothest function (least bending energy) through values at scattered centres; with
 * `lambda` > 0 it may miss them by a little in exchange for less bending. Far from the centres it
 * continues as a plane, never oscillates.
 *
 * f is linear in the centres' values, so a spline is returned as the matrix that maps values at
 * the centres to values at the queries: one matrix serves every person's values (issue 14: depth
 * measured at CFP's marked points, spread over all 468 FaceMesh vertices).
 */
import { solveSymmetricPositiveDefinite, type Matrix } from '../core/linear-algebra.js';

function kernel(dx: number, dy: number): number {
  const r2 = dx * dx + dy * dy;
  return r2 > 0 ? 0.5 * r2 * Math.log(r2) : 0;
}

/**
 * The queries × centres matrix L with f(queries) = L · (values at the centres), for the spline
 * through `centres` (flat x, y) evaluated at `queries` (flat x, y). Needs three centres not on one line.
 */
export function thinPlateOperator(rawCentres: ArrayLike<number>, rawQueries: ArrayLike<number>, lambda = 0): Matrix<Float64Array> {
  const m = rawCentres.length / 2;
  const q = rawQueries.length / 2;
  if (m < 3) throw new RangeError('a thin-plate spline needs at least 3 centres');
  // Coordinates in units of the centres' RMS radius keep the system well conditioned; the spline
  // itself does not change (φ(sr) − s²φ(r) is a plane term the side conditions cancel), only the
  // meaning of lambda, which is therefore in those units.
  const [cx, cy] = [0, 1].map((a) => Array.from({ length: m }, (_, i) => rawCentres[2 * i + a]).reduce((s, v) => s + v, 0) / m);
  const radius = Math.sqrt(Array.from({ length: m }, (_, i) => (rawCentres[2 * i] - cx) ** 2 + (rawCentres[2 * i + 1] - cy) ** 2).reduce((s, v) => s + v, 0) / m);
  if (!(radius > 0)) throw new RangeError('thin-plate centres must not all coincide');
  const unit = (values: ArrayLike<number>) => Float64Array.from(values, (v, c) => (v - (c % 2 === 0 ? cx : cy)) / radius);
  const centres = unit(rawCentres);
  const queries = unit(rawQueries);
  // The bordered system A = [K + λI  P; Pᵀ 0] (P = [1 x y]) is symmetric but indefinite: it is
  // solved through AᵀA, which is positive definite when A is invertible (centres not on a line).
  const size = m + 3;
  const system = new Float64Array(size * size);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) system[i * size + j] = kernel(centres[2 * i] - centres[2 * j], centres[2 * i + 1] - centres[2 * j + 1]) + (i === j ? lambda : 0);
    const row = [1, centres[2 * i], centres[2 * i + 1]];
    for (let k = 0; k < 3; k++) {
      system[i * size + m + k] = row[k];
      system[(m + k) * size + i] = row[k];
    }
  }
  // Aᵀ A is symmetric positive definite when A (symmetric, invertible) is: solve (AᵀA) X = Aᵀ [I; 0].
  const normal = new Float64Array(size * size);
  for (let i = 0; i < size; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = 0; k < size; k++) s += system[k * size + i] * system[k * size + j];
      normal[i * size + j] = normal[j * size + i] = s;
    }
  }
  const rhs = { rows: size, cols: m, data: new Float64Array(size * m) };
  for (let i = 0; i < size; i++) for (let c = 0; c < m; c++) rhs.data[i * m + c] = system[c * size + i];
  // Columns of the solution: the spline's coefficients [w; a] for a unit value at centre c.
  const coefficients = solveSymmetricPositiveDefinite(normal, rhs);
  const out = { rows: q, cols: m, data: new Float64Array(q * m) };
  for (let p = 0; p < q; p++) {
    const [x, y] = [queries[2 * p], queries[2 * p + 1]];
    const basis = new Float64Array(size);
    for (let i = 0; i < m; i++) basis[i] = kernel(x - centres[2 * i], y - centres[2 * i + 1]);
    basis.set([1, x, y], m);
    for (let c = 0; c < m; c++) {
      let s = 0;
      for (let k = 0; k < size; k++) s += basis[k] * coefficients.data[k * m + c];
      out.data[p * m + c] = s;
    }
  }
  return out;
}
