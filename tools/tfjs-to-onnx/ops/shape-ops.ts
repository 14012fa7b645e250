/** Reshape, Squeeze and Pad: ops whose constant arguments speak in TF axes. */
import { attrInts, dataInputs, type TfNode } from '../graph-model.js';
import type { ConversionContext } from '../context.js';
import { dropAxes, identityPerm, normaliseAxes, onnxAxis } from '../layout.js';
import { BATCH, formatShape, type Dim, type Shape } from '../tensor-shape.js';

const product = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);
const isKnown = (dim: Dim): dim is number => typeof dim === 'number';

/** Size of TF's -1 entry at `wildcard` in `output`, given the input shape. */
function wildcardDim(input: Shape, output: Shape, wildcard: number): Dim {
  const inputHasBatch = input[0] === BATCH;
  const inputRest = inputHasBatch ? input.slice(1) : input;
  const outputRest = output.filter((d, i) => i !== wildcard && d !== BATCH);
  if (!inputRest.every(isKnown) || !outputRest.every(isKnown)) return null;
  const quotient = product(inputRest) / product(outputRest);
  if (inputHasBatch === output.includes(BATCH)) return quotient;
  // e.g. [batch, 4, 4, 128] -> [-1, 2048]: the wildcard is the batch itself.
  return inputHasBatch && quotient === 1 ? BATCH : null;
}

/**
 * Models exported with batch 1 hard-code it in Reshape targets; when the input's first dim is the
 * batch, a leading 1 becomes ONNX's 0 ("copy the input's dim"), keeping the graph batch-agnostic.
 * Likewise they hard-code the count of spatial positions where a head flattens its grid
 * ([1, h, w, c] to [1, h·w·c/k, k]): when the input's size is open, that first dim after the batch
 * becomes -1, so the graph runs at any input size.
 */
export function reshapeTarget(input: Shape, target: readonly number[]): { onnxTarget: number[]; shape: Shape } {
  if (target.includes(0)) throw new Error(`Reshape to ${formatShape(target)}: zero-sized dims are not supported`);
  const keepsBatch = input[0] === BATCH && target[0] === 1;
  const opensGrid = keepsBatch && target.length >= 2 && !target.includes(-1) && input.slice(1).some((d) => d === null);
  const onnxTarget = keepsBatch ? [0, ...target.slice(1)] : [...target];
  if (opensGrid) onnxTarget[1] = -1;
  const shape: Dim[] = target.map((d, i) => (keepsBatch && i === 0 ? BATCH : d === -1 || (opensGrid && i === 1) ? null : d));
  const wildcard = target.indexOf(-1);
  if (wildcard >= 0) shape[wildcard] = wildcardDim(input, shape, wildcard);
  return { onnxTarget, shape };
}

export function convertReshape(node: TfNode, ctx: ConversionContext): void {
  const [inputRef, shapeRef] = dataInputs(node);
  const input = ctx.value(inputRef);
  // Element order is defined in TF's layout, so the data must be back in it first.
  const { onnxTarget, shape } = reshapeTarget(input.shape, [...ctx.constant(shapeRef).data]);
  const target = ctx.int64Initializer(`${node.name}/shape`, onnxTarget);
  ctx.define(node.name, {
    onnxName: ctx.emit('Reshape', [ctx.inLayout(input, identityPerm(input.shape.length)), target], node.name),
    shape,
    perm: identityPerm(shape.length),
  });
}

function squeezeAxes(node: TfNode, input: Shape): number[] {
  const listed = attrInts(node, 'squeeze_dims', attrInts(node, 'axis', []));
  if (listed.length > 0) return normaliseAxes(listed, input.length);
  if (!input.every((d) => d !== null)) throw new Error(`no axes given and ${formatShape(input)} is not static`);
  return input.flatMap((d, i) => (d === 1 ? [i] : []));
}

export function convertSqueeze(node: TfNode, ctx: ConversionContext): void {
  const input = ctx.value(dataInputs(node)[0]);
  const axes = squeezeAxes(node, input.shape);
  const wrong = axes.filter((axis) => input.shape[axis] !== 1 && input.shape[axis] !== null);
  if (wrong.length > 0) throw new Error(`axes ${wrong.join(',')} of ${formatShape(input.shape)} are not 1`);
  const onnxAxes = axes.map((axis) => onnxAxis(input.perm, axis)).sort((a, b) => a - b);
  ctx.define(node.name, {
    onnxName: ctx.emit('Squeeze', [input.onnxName, ctx.int64Initializer(`${node.name}/axes`, onnxAxes)], node.name),
    shape: input.shape.filter((_, i) => !axes.includes(i)),
    perm: dropAxes(input.perm, axes),
  });
}

function paddedDim(dim: Dim, before: number, after: number): Dim {
  if (isKnown(dim)) return dim + before + after;
  return dim === BATCH && before === 0 && after === 0 ? BATCH : null;
}

/** Zero padding; the paddings constant is [rank, 2] in TF axes. */
export function convertPad(node: TfNode, ctx: ConversionContext): void {
  const [inputRef, paddingsRef] = dataInputs(node);
  const input = ctx.value(inputRef);
  const paddings = [...ctx.constant(paddingsRef).data];
  if (paddings.length !== 2 * input.shape.length || paddings.some((p) => p < 0)) {
    throw new Error(`paddings ${paddings.join(',')} do not fit ${formatShape(input.shape)}`);
  }
  const before = (axis: number): number => paddings[2 * axis];
  const after = (axis: number): number => paddings[2 * axis + 1];
  const pads = [...input.perm.map(before), ...input.perm.map(after)];
  ctx.define(node.name, {
    onnxName: ctx.emit('Pad', [input.onnxName, ctx.int64Initializer(`${node.name}/pads`, pads)], node.name),
    shape: input.shape.map((d, i) => paddedDim(d, before(i), after(i))),
    perm: input.perm,
  });
}
