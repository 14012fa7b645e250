/**
 * The joint shading fit's change confined to a linear space (issue 14, docs/BENCHMARKS.md §58: the
 * scans' identity space carried onto FaceMesh, `scan-truth.ts`'s `identitySpace`; tried, not
 * adopted): the change is `offset` plus a weighted sum of `modes`, each weight a priori N(0, 1), and
 * each Gauss–Newton step solves for the weights (K of them) instead of every vertex. The fit takes it
 * as its `ChangeRule` (`jointShadingDepth`'s `rule`, `JointRefineOptions.rule` for downloads' depths).
 */
import { choleskySolve } from '../../src/morphable/shading-depth.js';
import type { ChangeRule } from '../../src/morphable/shading-joint.js';
import type { JointRefineOptions } from '../../src/morphable/shading-refine.js';

/** A linear space for the change: the offset and the modes, per vertex (in the change's units, or model-frame depth for `spaceInDepth`). */
export interface ChangeSpace {
  /** Per vertex. */
  readonly offset: ArrayLike<number>;
  /** `rows` modes of one value per vertex each, row after row. */
  readonly modes: { readonly rows: number; readonly data: ArrayLike<number> };
}

/**
 * The weight of the modes' N(0, 1) prior, in units of one average observation's weight (the
 * Laplacian and the anchor then play no part: the space is the prior); §58's setting.
 */
export const DEFAULT_SPACE_PRIOR = 0.01;

/** A fit's rule confining its change to `space` (in the change's units) with the modes' prior `prior`, and the modes' weights it has reached. */
export function spaceRule(space: ChangeSpace, prior = DEFAULT_SPACE_PRIOR): ChangeRule & { readonly weights: Float64Array } {
  const n = space.offset.length;
  if (space.modes.data.length !== space.modes.rows * n) throw new RangeError(`spaceRule: ${space.modes.data.length} mode values for ${space.modes.rows} modes of ${n} vertices`);
  const weights = new Float64Array(space.modes.rows);
  return { start: space.offset, weights, step: (h, g, observationWeight, change) => stepInSpace(space, h, g, weights, prior * observationWeight, change) };
}

/** `JointRefineOptions.rule` for `space` in model-frame depth (z, the shape's units), as `identitySpace` makes it. */
export function spaceInDepth(space: ChangeSpace, prior = DEFAULT_SPACE_PRIOR): NonNullable<JointRefineOptions['rule']> {
  return (changePerDepth) => {
    const scaled = (values: ArrayLike<number>) => Float64Array.from(values, (v) => v * changePerDepth);
    return spaceRule({ offset: scaled(space.offset), modes: { rows: space.modes.rows, data: scaled(space.modes.data) } }, prior);
  };
}

/**
 * One Gauss–Newton step of the modes' weights (`ChangeSpace`), from the per-vertex system `h`, `g`
 * (the change's Hessian and gradient) and the weights' N(0, 1) prior of weight `prior`; `weights`
 * and `change` (offset + modes · weights) are updated in place. False where the system cannot be
 * solved (only non-finite input: the prior makes it positive definite), and nothing moves.
 */
function stepInSpace(space: ChangeSpace, h: Float64Array, g: Float64Array, weights: Float64Array, prior: number, change: Float64Array): boolean {
  const n = change.length;
  const { rows, data: modes } = space.modes;
  // modes · h (rows × n) over h's non-zeros: the mesh's vertices meet only their neighbours.
  const mh = new Float64Array(rows * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const hij = h[i * n + j];
      if (hij === 0) continue;
      for (let k = 0; k < rows; k++) mh[k * n + j] += modes[k * n + i] * hij;
    }
  }
  const hw = new Float64Array(rows * rows);
  const gw = new Float64Array(rows);
  for (let k = 0; k < rows; k++) {
    for (let l = k; l < rows; l++) {
      let sum = 0;
      for (let j = 0; j < n; j++) sum += mh[k * n + j] * modes[l * n + j];
      hw[k * rows + l] = sum;
      hw[l * rows + k] = sum;
    }
    hw[k * rows + k] += prior;
    let gradient = prior * weights[k];
    for (let i = 0; i < n; i++) gradient += modes[k * n + i] * g[i];
    gw[k] = -gradient;
  }
  const step = choleskySolve(hw, gw, rows);
  if (!step) return false;
  for (let k = 0; k < rows; k++) weights[k] += step[k];
  for (let i = 0; i < n; i++) {
    let value = space.offset[i];
    for (let k = 0; k < rows; k++) value += modes[k * n + i] * weights[k];
    change[i] = value;
  }
  return true;
}
