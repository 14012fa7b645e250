/**
 * Layout bookkeeping. Every converted value remembers a permutation `perm` such that the ONNX
 * tensor equals the TF tensor transposed by `perm` (ONNX axis i holds TF axis perm[i]).
 * TF is NHWC, ONNX convolutions want NCHW, so 4-D activations mostly live under NHWC_TO_NCHW.
 */

export type Perm = readonly number[];

export const NHWC_TO_NCHW: Perm = [0, 3, 1, 2];

export function identityPerm(rank: number): Perm {
  return Array.from({ length: rank }, (_, i) => i);
}

export function isIdentity(perm: Perm): boolean {
  return perm.every((axis, i) => axis === i);
}

export function invertPerm(perm: Perm): Perm {
  const inverse = new Array<number>(perm.length);
  perm.forEach((axis, i) => {
    inverse[axis] = i;
  });
  return inverse;
}

/** The Transpose `perm` attribute that turns a tensor laid out by `from` into one laid out by `to`. */
export function transposeBetween(from: Perm, to: Perm): Perm {
  const position = invertPerm(from);
  return to.map((axis) => position[axis]);
}

export function permute<T>(values: readonly T[], perm: Perm): T[] {
  return perm.map((axis) => values[axis]);
}

/** ONNX axis that holds TF axis `tfAxis`. */
export function onnxAxis(perm: Perm, tfAxis: number): number {
  const axis = perm.indexOf(tfAxis);
  if (axis < 0) throw new Error(`axis ${tfAxis} is outside a rank-${perm.length} layout`);
  return axis;
}

/** Layout of the result after TF axes `removed` disappear (squeeze, reduce without keep_dims). */
export function dropAxes(perm: Perm, removed: readonly number[]): Perm {
  return perm.filter((axis) => !removed.includes(axis)).map((axis) => axis - removed.filter((r) => r < axis).length);
}

/** Normalises possibly negative TF axes against `rank`. */
export function normaliseAxes(axes: readonly number[], rank: number): number[] {
  return axes.map((axis) => {
    const normalised = axis < 0 ? axis + rank : axis;
    if (normalised < 0 || normalised >= rank) throw new Error(`axis ${axis} is outside rank ${rank}`);
    return normalised;
  });
}

/** Row-major N-D transpose of raw data: result axis i is source axis perm[i]. */
export function transposeData<T extends Float32Array | Int32Array>(data: T, shape: readonly number[], perm: Perm): T {
  const rank = shape.length;
  const sourceStrides = new Array<number>(rank);
  for (let i = rank - 1, stride = 1; i >= 0; i--) {
    sourceStrides[i] = stride;
    stride *= shape[i];
  }
  const outShape = permute(shape, perm);
  const strides = permute(sourceStrides, perm);
  const out = new (data.constructor as new (length: number) => T)(data.length);
  const index = new Array<number>(rank).fill(0);
  for (let o = 0; o < out.length; o++) {
    let source = 0;
    for (let i = 0; i < rank; i++) source += index[i] * strides[i];
    out[o] = data[source];
    for (let i = rank - 1; i >= 0; i--) {
      if (++index[i] < outShape[i]) break;
      index[i] = 0;
    }
  }
  return out;
}
