/**
 * A neutral face with its mouth closed. Our bundles' mean shape is the average of LFW's faces, and
 * LFW's people mostly smile or talk: the average keeps the inner lips about 7 mm apart, and so does
 * every identity reconstructed without an expression (issue 14).
 *
 * The correction is a harmonic deformation of the lower face. Each upper inner-lip vertex and its
 * lower partner move to their midpoint; the skin of the upper lip up to UPPER_LIP_RINGS edges from
 * it (short of the nose) and of the lower lip and jaw up to LOWER_LIP_RINGS edges (the chin) may
 * follow, the rest stays where it is; each of those takes the displacement that solves Laplace's equation on the
 * mesh (each the mean of its neighbours'), the smoothest field meeting those constraints. Distance
 * runs along the mesh, and the lip line is a hole in it, so the upper lip drags the upper lip's
 * skin and the lower lip the chin's, never each other's.
 *
 * The expression model was tried first (the MAP expression closing the lips): it closes them to
 * under a millimetre, but its modes, learnt from how LFW faces move between photos, also move the
 * eyes and brows by up to 6 mm (docs/BENCHMARKS.md), which a neutral face must not do.
 *
 * The field depends only on the topology, so it is solved once: every vertex's displacement is a
 * fixed weighted sum of the lip vertices' displacements.
 */
import { Matrix as MlMatrix, solve } from 'ml-matrix';
import { FACEMESH_REGIONS, FACEMESH_TRIANGLES, FACEMESH_VERTEX_COUNT } from './facemesh-topology.js';

/** Upper and lower inner-lip vertices that meet when the mouth is closed (the shared corners left out). */
export const INNER_LIP_PAIRS: readonly (readonly [number, number])[] = FACEMESH_REGIONS.lipsUpperInner
  .slice(1, -1)
  .map((upper, k) => [upper, FACEMESH_REGIONS.lipsLowerInner[k + 1]] as const);

/** How far (edges from the inner lip) the closing reaches above the mouth: short of the nose (5 edges away). */
export const UPPER_LIP_RINGS = 4;
/** How far below the mouth: the chin (8 edges away) follows the lower lip, the face's edge (11) does not. */
export const LOWER_LIP_RINGS = 10;

/** The widest distance between an upper inner-lip vertex and its lower partner, in the mesh's units. */
export function lipGap(positions: ArrayLike<number>): number {
  let widest = 0;
  for (const [upper, lower] of INNER_LIP_PAIRS) {
    const gap = Math.hypot(positions[3 * upper] - positions[3 * lower], positions[3 * upper + 1] - positions[3 * lower + 1], positions[3 * upper + 2] - positions[3 * lower + 2]);
    widest = Math.max(widest, gap);
  }
  return widest;
}

let adjacency: readonly ReadonlySet<number>[] | undefined;

/** Each FaceMesh vertex's neighbours along the mesh's edges (built once: the topology is fixed). */
function neighbours(): readonly ReadonlySet<number>[] {
  if (adjacency) return adjacency;
  const sets = Array.from({ length: FACEMESH_VERTEX_COUNT }, () => new Set<number>());
  for (let t = 0; t < FACEMESH_TRIANGLES.length; t += 3) {
    const [a, b, c] = [FACEMESH_TRIANGLES[t], FACEMESH_TRIANGLES[t + 1], FACEMESH_TRIANGLES[t + 2]];
    sets[a].add(b).add(c);
    sets[b].add(a).add(c);
    sets[c].add(a).add(b);
  }
  adjacency = sets;
  return sets;
}

/** Edges from each vertex to the nearest of `sources` (breadth-first). */
export function ringDistances(sources: readonly number[]): Int32Array {
  const adjacent = neighbours();
  const distance = new Int32Array(FACEMESH_VERTEX_COUNT).fill(-1);
  let frontier = [...sources];
  for (const v of frontier) distance[v] = 0;
  while (frontier.length > 0) {
    const next: number[] = [];
    for (const v of frontier) for (const n of adjacent[v]) if (distance[n] < 0) { distance[n] = distance[v] + 1; next.push(n); }
    frontier = next;
  }
  return distance;
}

interface ClosureField {
  /** The lip vertices whose displacement is given (pairs flattened: upper, lower, ...). */
  readonly lips: readonly number[];
  /** The vertices that move with them. */
  readonly free: readonly number[];
  /** free x lips: each free vertex's displacement as a weighted sum of the lips'. */
  readonly weights: MlMatrix;
}

let field: ClosureField | undefined;

function closureField(): ClosureField {
  if (field) return field;
  const lips = INNER_LIP_PAIRS.flat();
  const upper = ringDistances(FACEMESH_REGIONS.lipsUpperInner);
  const lower = ringDistances(FACEMESH_REGIONS.lipsLowerInner);
  const free = [...upper.keys()].filter((v) => upper[v] > 0 && lower[v] > 0 && (upper[v] < lower[v] ? upper[v] <= UPPER_LIP_RINGS : lower[v] <= LOWER_LIP_RINGS));
  const freeIndex = new Map(free.map((v, i) => [v, i]));
  const lipIndex = new Map(lips.map((v, i) => [v, i]));
  const adjacent = neighbours();
  // Uniform Laplacian rows of the free vertices: degree·u_v − Σ u_free = Σ u_lips (the others are 0).
  const system = MlMatrix.zeros(free.length, free.length);
  const rhs = MlMatrix.zeros(free.length, lips.length);
  free.forEach((v, i) => {
    system.set(i, i, adjacent[v].size);
    for (const n of adjacent[v]) {
      const j = freeIndex.get(n);
      if (j !== undefined) system.set(i, j, system.get(i, j) - 1);
      const k = lipIndex.get(n);
      if (k !== undefined) rhs.set(i, k, rhs.get(i, k) + 1);
    }
  });
  field = { lips, free, weights: solve(system, rhs) };
  return field;
}

/** `positions` (FaceMesh order) with the mouth closed, as a new array. */
export function closeMouth(positions: ArrayLike<number>): Float32Array {
  const { lips, free, weights } = closureField();
  const out = Float32Array.from(positions);
  const shift = new Float64Array(3 * lips.length);
  INNER_LIP_PAIRS.forEach(([upper, lower], p) => {
    for (let axis = 0; axis < 3; axis++) {
      const half = (positions[3 * lower + axis] - positions[3 * upper + axis]) / 2;
      shift[3 * (2 * p) + axis] = half;
      shift[3 * (2 * p + 1) + axis] = -half;
    }
  });
  lips.forEach((v, k) => {
    for (let axis = 0; axis < 3; axis++) out[3 * v + axis] += shift[3 * k + axis];
  });
  free.forEach((v, i) => {
    for (let axis = 0; axis < 3; axis++) {
      let sum = 0;
      for (let k = 0; k < lips.length; k++) sum += weights.get(i, k) * shift[3 * k + axis];
      out[3 * v + axis] += sum;
    }
  });
  return out;
}
