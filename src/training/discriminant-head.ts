/**
 * A linear regression head that keeps what tells people apart. A head fitted only to the labels
 * squeezes the identity features onto the few directions that predict the (noisy) 3D labels and
 * drops the rest, so the regressed vector loses identity its input had (issue 13: rank-1 below a
 * random projection). This head:
 *  1. whitens the unit-length features against the within-person scatter (shrunk towards a
 *     multiple of the identity by `withinShrinkage`; 1 = no whitening) and keeps the `components`
 *     directions of largest between-person variance there (LDA; without whitening, the principal
 *     directions of the person means);
 *  2. fits the ridge map M from those coordinates to the person's pooled [α, β];
 *  3. floors M's singular values at `floor` times the largest: directions that predict the labels
 *     keep their fitted gain, the others keep a share of identity instead of vanishing.
 * The result is one dense layer on unit-length input: y = x̂ · W + b (W = P · M', b = ȳ − μ · W).
 */
import { EigenvalueDecomposition, inverse, Matrix as MlMatrix, SingularValueDecomposition } from 'ml-matrix';
import type { RegressionHead } from './head.js';
import { unitRows } from './head.js';
import type { Matrix } from '../core/linear-algebra.js';
import { groupIndices } from './groups.js';

export interface DiscriminantHeadOptions {
  /** Discriminant directions kept (at most the output size, so M is square). */
  readonly components: number;
  /** Within-person scatter shrunk towards its mean variance by this share (0..1): few photos per person. */
  readonly withinShrinkage: number;
  /** Ridge penalty of the map from discriminant coordinates to labels. */
  readonly ridge: number;
  /** Singular values of that map are at least this share of the largest (0: plain ridge; 1: a scaled rotation). */
  readonly floor: number;
}

export interface DiscriminantHeadReport {
  /** Between/within variance ratio of each kept direction, largest first. */
  readonly discriminantRatios: readonly number[];
  /** Singular values of the ridge map before the floor, largest first. */
  readonly singularValues: readonly number[];
}

function toMl(x: Matrix): MlMatrix {
  return MlMatrix.from1DArray(x.rows, x.cols, Array.from(x.data));
}

/** Symmetric A^(-1/2) through its eigendecomposition. */
function inverseSquareRoot(a: MlMatrix): MlMatrix {
  const evd = new EigenvalueDecomposition(a, { assumeSymmetric: true });
  const scale = evd.realEigenvalues.map((v) => 1 / Math.sqrt(Math.max(v, 1e-12)));
  const vectors = evd.eigenvectorMatrix;
  return vectors.mulRowVector(scale).mmul(vectors.transpose());
}

/**
 * `x`: identity features, one row per photo (any length: rows are made unit length); `groups`: the
 * person of each row; `y`: each row's label (the person's pooled [α, β]).
 */
export function trainDiscriminantHead(x: Matrix, groups: readonly string[], y: Matrix, options: DiscriminantHeadOptions): { head: RegressionHead; report: DiscriminantHeadReport } {
  if (x.rows !== y.rows || x.rows !== groups.length) throw new RangeError(`rows differ: ${x.rows} features, ${y.rows} labels, ${groups.length} groups`);
  if (options.components > y.cols || options.components > x.cols) throw new RangeError(`components ${options.components} exceed the label (${y.cols}) or feature (${x.cols}) size`);
  const d = x.cols;
  const features = toMl(unitRows(x));
  const mean = features.mean('column');
  const centred = features.clone().subRowVector(mean);

  // 1. Within-person whitening, then the discriminant directions in the whitened space.
  const people = groupIndices(groups);
  const within = centred.clone();
  const personMeans = new MlMatrix(people.length, d);
  people.forEach((rows, p) => {
    const m = new Array<number>(d).fill(0);
    for (const r of rows) for (let c = 0; c < d; c++) m[c] += centred.get(r, c) / rows.length;
    for (const r of rows) for (let c = 0; c < d; c++) within.set(r, c, within.get(r, c) - m[c]);
    personMeans.setRow(p, m);
  });
  const scatter = within.transpose().mmul(within).div(x.rows);
  const meanVariance = scatter.trace() / d;
  const shrunk = scatter.mul(1 - options.withinShrinkage).add(MlMatrix.eye(d).mul(options.withinShrinkage * meanVariance));
  const whiten = inverseSquareRoot(shrunk);
  const whitenedMeans = personMeans.mmul(whiten);
  const weights = people.map((rows) => rows.length / x.rows);
  const between = whitenedMeans.transpose().mulRowVector(weights).mmul(whitenedMeans);
  const evd = new EigenvalueDecomposition(between, { assumeSymmetric: true });
  const order = evd.realEigenvalues.map((v, i) => [v, i] as const).sort((a, b) => b[0] - a[0]).slice(0, options.components);
  const directions = new MlMatrix(d, options.components);
  order.forEach(([, i], c) => directions.setColumn(c, evd.eigenvectorMatrix.getColumn(i)));
  const project = whiten.mmul(directions);
  const coordinates = centred.mmul(project);

  // 2. Ridge map from discriminant coordinates to the labels, centred on the mean person (not the
  //    mean photo: people with hundreds of photos would pull every output away from zero).
  const labels = toMl(y);
  const labelMean = new Array<number>(y.cols).fill(0);
  for (const rows of people) for (let c = 0; c < y.cols; c++) labelMean[c] += labels.get(rows[0], c) / people.length;
  const gram = coordinates.transpose().mmul(coordinates).add(MlMatrix.eye(options.components).mul(options.ridge));
  const map = inverse(gram).mmul(coordinates.transpose()).mmul(labels.clone().subRowVector(labelMean));

  // 3. Floor its singular values.
  const svd = new SingularValueDecomposition(map);
  const singular = svd.diagonal;
  const floored = singular.map((s) => Math.max(s, options.floor * singular[0]));
  const flooredMap = svd.leftSingularVectors.mulRowVector(floored).mmul(svd.rightSingularVectors.transpose());

  const w = project.mmul(flooredMap);
  const bias = MlMatrix.rowVector(labelMean).sub(MlMatrix.rowVector(mean).mmul(w));
  const head: RegressionHead = {
    unitInput: true,
    layers: [{ weights: { rows: d, cols: y.cols, data: Float32Array.from(w.to1DArray()) }, bias: Float32Array.from(bias.to1DArray()) }],
  };
  return { head, report: { discriminantRatios: order.map(([v]) => v), singularValues: singular } };
}
