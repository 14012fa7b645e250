/**
 * Dense row-major matrices over typed arrays and the few kernels the model-building maths needs.
 *
 * The kernels are written as tight loops over contiguous rows (dot products and axpy updates)
 * because V8 runs those several times faster than strided access; the big products are blocked
 * so that the working set stays in cache. Only small, dense eigen- and Cholesky problems
 * (at most a few thousand rows) are handed to ml-matrix.
 */
import { CholeskyDecomposition, EigenvalueDecomposition, Matrix as MlMatrix } from 'ml-matrix';

export type FloatArray = Float32Array | Float64Array;

/** Row-major: element (i, j) is `data[i * cols + j]`. */
export interface Matrix<T extends FloatArray = FloatArray> {
  readonly rows: number;
  readonly cols: number;
  readonly data: T;
}

export function zeros64(rows: number, cols: number): Matrix<Float64Array> {
  return { rows, cols, data: new Float64Array(rows * cols) };
}

export function zeros32(rows: number, cols: number): Matrix<Float32Array> {
  return { rows, cols, data: new Float32Array(rows * cols) };
}

/** Throws when `data.length` disagrees with the declared shape. */
export function assertMatrix(matrix: Matrix, what: string): void {
  if (matrix.data.length !== matrix.rows * matrix.cols) {
    throw new RangeError(`${what}: ${matrix.rows}x${matrix.cols} needs ${matrix.rows * matrix.cols} values, got ${matrix.data.length}`);
  }
}

export function assertLength(values: ArrayLike<number>, length: number, what: string): void {
  if (values.length !== length) throw new RangeError(`${what}: expected length ${length}, got ${values.length}`);
}

/** Σ a[aOffset + t] · b[bOffset + t] for t < length; four accumulators let V8 pipeline the loop. */
export function dot(a: FloatArray, aOffset: number, b: FloatArray, bOffset: number, length: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let t = 0;
  for (; t + 3 < length; t += 4) {
    s0 += a[aOffset + t] * b[bOffset + t];
    s1 += a[aOffset + t + 1] * b[bOffset + t + 1];
    s2 += a[aOffset + t + 2] * b[bOffset + t + 2];
    s3 += a[aOffset + t + 3] * b[bOffset + t + 3];
  }
  for (; t < length; t++) s0 += a[aOffset + t] * b[bOffset + t];
  return s0 + s1 + s2 + s3;
}

/** target[targetOffset + t] += scale · source[sourceOffset + t] for t < length. */
function axpy(scale: number, source: FloatArray, sourceOffset: number, target: FloatArray, targetOffset: number, length: number): void {
  for (let t = 0; t < length; t++) target[targetOffset + t] += scale * source[sourceOffset + t];
}

/** out += a · b, shapes (m x k) · (k x n) -> (m x n). */
export function multiplyAccumulate(a: Matrix, b: Matrix, out: Matrix): void {
  checkProduct(a.cols, b.rows, out, a.rows, b.cols);
  const k = a.cols;
  for (let i = 0; i < a.rows; i++) addRowCombination(a.data, i * k, k, b.data, out.data, i * out.cols, out.cols);
}

/**
 * target[targetOffset + j] += Σ_r coefficients[first + r] · rows[r·n + j] for r < count, j < n.
 * Eight rows are combined per pass so each target element is loaded and stored once per eight
 * multiply-adds (the loop is memory-bound otherwise); groups of zero coefficients, common after
 * a ReLU, are skipped.
 */
function addRowCombination(coefficients: FloatArray, first: number, count: number, rows: FloatArray, target: FloatArray, targetOffset: number, n: number): void {
  let r = 0;
  for (; r + 7 < count; r += 8) {
    const at = first + r;
    const c0 = coefficients[at];
    const c1 = coefficients[at + 1];
    const c2 = coefficients[at + 2];
    const c3 = coefficients[at + 3];
    const c4 = coefficients[at + 4];
    const c5 = coefficients[at + 5];
    const c6 = coefficients[at + 6];
    const c7 = coefficients[at + 7];
    if (c0 === 0 && c1 === 0 && c2 === 0 && c3 === 0 && c4 === 0 && c5 === 0 && c6 === 0 && c7 === 0) continue;
    const o = r * n;
    for (let j = 0; j < n; j++) {
      target[targetOffset + j] +=
        c0 * rows[o + j] + c1 * rows[o + n + j] + c2 * rows[o + 2 * n + j] + c3 * rows[o + 3 * n + j] +
        c4 * rows[o + 4 * n + j] + c5 * rows[o + 5 * n + j] + c6 * rows[o + 6 * n + j] + c7 * rows[o + 7 * n + j];
    }
  }
  for (; r < count; r++) {
    const c = coefficients[first + r];
    if (c !== 0) axpy(c, rows, r * n, target, targetOffset, n);
  }
}

/**
 * out = a · bᵀ, shapes (m x k) · (n x k)ᵀ -> (m x n): the fastest product here (all contiguous dot
 * products, register-blocked), so hot loops arrange their operands for it.
 */
export function multiplyTransposed(a: Matrix, b: Matrix, out: Matrix): void {
  checkProduct(a.cols, b.cols, out, a.rows, b.rows);
  out.data.fill(0);
  addRowProducts(a.data, a.rows, b.data, b.rows, a.cols, out.data, false);
}

export function transpose<T extends FloatArray>(matrix: Matrix<T>): Matrix<T> {
  const { rows, cols, data } = matrix;
  const out = new (data.constructor as new (length: number) => T)(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return { rows: cols, cols: rows, data: out };
}

function checkProduct(innerA: number, innerB: number, out: Matrix, rows: number, cols: number): void {
  if (innerA !== innerB || out.rows !== rows || out.cols !== cols) {
    throw new RangeError(`matrix product shapes disagree: inner ${innerA} vs ${innerB}, output ${out.rows}x${out.cols} vs ${rows}x${cols}`);
  }
}

/** Per-column means, optionally weighted by row. */
export function columnMeans(x: Matrix, rowWeights?: ArrayLike<number>): Float64Array {
  const mean = new Float64Array(x.cols);
  let total = 0;
  for (let i = 0; i < x.rows; i++) {
    const w = rowWeights ? rowWeights[i] : 1;
    total += w;
    if (w !== 0) axpy(w, x.data, i * x.cols, mean, 0, x.cols);
  }
  if (!(total > 0)) throw new RangeError('column means need a positive total weight');
  for (let j = 0; j < x.cols; j++) mean[j] /= total;
  return mean;
}

/** A centred operand: rows are read as `rowScale[i] · (x_i − mean)`. */
export interface CentredRows {
  readonly matrix: Matrix;
  readonly mean: Float64Array;
  readonly rowScale?: Float64Array;
}

const ROW_BLOCK = 128;
const COLUMN_BLOCK = 256;

/**
 * Σ_i (s_i (a_i − ā)) (s_i (b_i − b̄))ᵀ over the rows i, an (a.cols x b.cols) Float64Array.
 * Without `b` it is the symmetric scatter matrix of `a`, each pair computed once. Blocked over
 * rows: each block is centred and transposed into a small buffer, so every product is a
 * contiguous dot product and no centred copy of the whole input is made.
 */
export function centredScatter(a: CentredRows, b?: CentredRows): Float64Array {
  const right = b ?? a;
  if (right.matrix.rows !== a.matrix.rows) throw new RangeError('centredScatter: row counts disagree');
  const p = a.matrix.cols;
  const q = right.matrix.cols;
  const out = new Float64Array(p * q);
  const leftBlock = new Float64Array(p * ROW_BLOCK);
  const rightBlock = b ? new Float64Array(q * ROW_BLOCK) : leftBlock;
  for (let start = 0; start < a.matrix.rows; start += ROW_BLOCK) {
    const width = Math.min(ROW_BLOCK, a.matrix.rows - start);
    fillTransposedBlock(a, start, width, leftBlock);
    if (b) fillTransposedBlock(b, start, width, rightBlock);
    addRowProducts(leftBlock, p, rightBlock, q, width, out, !b);
  }
  if (!b) mirrorLowerTriangle(out, p);
  return out;
}

/**
 * The Gram matrix of centred rows, Σ_c (s_i (x_ic − m_c)) (s_j (x_jc − m_c)), an (x.rows x x.rows)
 * Float64Array: the "Gram trick" operand when there are fewer rows than columns. Blocked over
 * columns for the same reason as `centredScatter`.
 */
export function centredRowGram(x: CentredRows): Float64Array {
  const n = x.matrix.rows;
  const out = new Float64Array(n * n);
  const block = new Float64Array(n * COLUMN_BLOCK);
  for (let start = 0; start < x.matrix.cols; start += COLUMN_BLOCK) {
    const width = Math.min(COLUMN_BLOCK, x.matrix.cols - start);
    fillCentredColumnBlock(x, start, width, block);
    addRowProducts(block, n, block, n, width, out, true);
  }
  mirrorLowerTriangle(out, n);
  return out;
}

/** Rows start..start+width of the centred operand, transposed: block[c * width + r]. */
function fillTransposedBlock(x: CentredRows, start: number, width: number, block: Float64Array): void {
  const { matrix, mean, rowScale } = x;
  const cols = matrix.cols;
  for (let r = 0; r < width; r++) {
    const row = start + r;
    const scale = rowScale ? rowScale[row] : 1;
    const offset = row * cols;
    for (let c = 0; c < cols; c++) block[c * width + r] = scale * (matrix.data[offset + c] - mean[c]);
  }
}

/** Columns start..start+width of every centred row: block[r * width + c]. */
export function fillCentredColumnBlock(x: CentredRows, start: number, width: number, block: Float64Array): void {
  const { matrix, mean, rowScale } = x;
  for (let r = 0; r < matrix.rows; r++) {
    const scale = rowScale ? rowScale[r] : 1;
    const offset = r * matrix.cols + start;
    for (let c = 0; c < width; c++) block[r * width + c] = scale * (matrix.data[offset + c] - mean[start + c]);
  }
}

/**
 * out[i * rightRows + j] += left_i · right_j over rows of length `width`. With `lowerOnly`, only
 * j ≤ i is guaranteed (entries just above the diagonal may be written too, for the caller to
 * overwrite). Blocks of 2 x 4 rows share their loads: eight accumulators per pass.
 */
function addRowProducts(
  left: FloatArray,
  leftRows: number,
  right: FloatArray,
  rightRows: number,
  width: number,
  out: FloatArray,
  lowerOnly: boolean,
): void {
  for (let i = 0; i < leftRows; i += 2) {
    const paired = i + 1 < leftRows;
    const last = lowerOnly ? Math.min(i + 2, rightRows) : rightRows;
    let j = 0;
    if (paired) {
      for (; j + 3 < last; j += 4) addProductBlock(left, i * width, right, j * width, width, out, i * rightRows + j, rightRows);
    }
    for (; j < last; j++) {
      out[i * rightRows + j] += dot(left, i * width, right, j * width, width);
      if (paired) out[(i + 1) * rightRows + j] += dot(left, (i + 1) * width, right, j * width, width);
    }
  }
}

/** The 2 x 4 block of dot products between left rows at l, l + w and right rows at r, r + w, r + 2w, r + 3w. */
function addProductBlock(left: FloatArray, l: number, right: FloatArray, r: number, w: number, out: FloatArray, o: number, stride: number): void {
  let s00 = 0;
  let s01 = 0;
  let s02 = 0;
  let s03 = 0;
  let s10 = 0;
  let s11 = 0;
  let s12 = 0;
  let s13 = 0;
  for (let t = 0; t < w; t++) {
    const x0 = left[l + t];
    const x1 = left[l + w + t];
    const y0 = right[r + t];
    const y1 = right[r + w + t];
    const y2 = right[r + 2 * w + t];
    const y3 = right[r + 3 * w + t];
    s00 += x0 * y0;
    s01 += x0 * y1;
    s02 += x0 * y2;
    s03 += x0 * y3;
    s10 += x1 * y0;
    s11 += x1 * y1;
    s12 += x1 * y2;
    s13 += x1 * y3;
  }
  out[o] += s00;
  out[o + 1] += s01;
  out[o + 2] += s02;
  out[o + 3] += s03;
  out[o + stride] += s10;
  out[o + stride + 1] += s11;
  out[o + stride + 2] += s12;
  out[o + stride + 3] += s13;
}

function mirrorLowerTriangle(square: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) square[j * n + i] = square[i * n + j];
  }
}

export interface SymmetricEigen {
  /** Eigenvalues, largest first. */
  readonly values: Float64Array;
  /** Row j is the unit eigenvector of values[j]. */
  readonly vectors: Matrix<Float64Array>;
}

/** Full eigendecomposition of a dense symmetric (n x n) matrix; O(n³), meant for n up to a few thousand. */
export function symmetricEigen(square: Float64Array, n: number): SymmetricEigen {
  assertLength(square, n * n, 'symmetricEigen');
  const evd = new EigenvalueDecomposition(MlMatrix.from1DArray(n, n, square), { assumeSymmetric: true });
  const raw = evd.realEigenvalues;
  const columns = evd.eigenvectorMatrix;
  const order = Array.from(raw.keys()).sort((i, j) => raw[j] - raw[i]);
  const values = new Float64Array(n);
  const vectors = zeros64(n, n);
  order.forEach((source, target) => {
    values[target] = raw[source];
    for (let r = 0; r < n; r++) vectors.data[target * n + r] = columns.get(r, source);
  });
  return { values, vectors };
}

/** Solves A X = B for a symmetric positive-definite A (n x n) by Cholesky; B is (n x m). */
export function solveSymmetricPositiveDefinite(square: Float64Array, rhs: Matrix): Matrix<Float64Array> {
  return symmetricPositiveDefiniteSolver(square, rhs.rows)(rhs);
}

/**
 * solveSymmetricPositiveDefinite for many right-hand sides of one A: the Cholesky factor is computed
 * once, here, and each B then costs two triangular solves (a per-photo fit against a fixed model).
 */
export function symmetricPositiveDefiniteSolver(square: Float64Array, n: number): (rhs: Matrix) => Matrix<Float64Array> {
  assertLength(square, n * n, 'solveSymmetricPositiveDefinite');
  const cholesky = new CholeskyDecomposition(MlMatrix.from1DArray(n, n, square));
  if (!cholesky.isPositiveDefinite()) throw new RangeError('solveSymmetricPositiveDefinite: matrix is not positive definite');
  return (rhs) => {
    assertLength(rhs.data, n * rhs.cols, 'solveSymmetricPositiveDefinite rhs');
    const solution = cholesky.solve(MlMatrix.from1DArray(n, rhs.cols, rhs.data));
    return { rows: n, cols: rhs.cols, data: Float64Array.from(solution.to1DArray()) };
  };
}
