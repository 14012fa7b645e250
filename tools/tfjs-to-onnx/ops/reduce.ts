/** Ops over explicit axes (Mean, Sum, Softmax): TF axes are mapped through the value's layout. */
import { attrBool, dataInputs, type TfNode } from '../graph-model.js';
import type { ConversionContext } from '../context.js';
import { dropAxes, normaliseAxes, onnxAxis } from '../layout.js';
import { attr } from '../../../src/onnx/onnx-builder.js';

/** Mean and Sum with constant reduction_indices. */
export function convertReduce(node: TfNode, ctx: ConversionContext): void {
  const [inputRef, axesRef] = dataInputs(node);
  const input = ctx.value(inputRef);
  const axes = [...new Set(normaliseAxes([...ctx.constant(axesRef).data], input.shape.length))];
  if (axes.length === 0) {
    // TF reduces nothing over an empty axis list (ONNX would reduce everything).
    ctx.define(node.name, input);
    return;
  }
  const keepDims = attrBool(node, 'keep_dims', false);
  const onnxAxes = axes.map((axis) => onnxAxis(input.perm, axis)).sort((x, y) => x - y);
  const keepdims = attr.int(keepDims ? 1 : 0);
  // Opset 17: ReduceMean takes axes as an attribute, ReduceSum (since 13) as an input.
  const onnxName =
    node.op === 'Mean'
      ? ctx.emit('ReduceMean', [input.onnxName], node.name, { axes: attr.ints(onnxAxes), keepdims })
      : ctx.emit('ReduceSum', [input.onnxName, ctx.int64Initializer(`${node.name}/axes`, onnxAxes)], node.name, { keepdims });
  ctx.define(node.name, {
    onnxName,
    shape: keepDims ? input.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : input.shape.filter((_, i) => !axes.includes(i)),
    perm: keepDims ? input.perm : dropAxes(input.perm, axes),
  });
}

/** TF Softmax normalises the last axis, wherever the layout has put it. */
export function convertSoftmax(node: TfNode, ctx: ConversionContext): void {
  const input = ctx.value(dataInputs(node)[0]);
  const axis = onnxAxis(input.perm, input.shape.length - 1);
  ctx.define(node.name, { ...input, onnxName: ctx.emit('Softmax', [input.onnxName], node.name, { axis: attr.int(axis) }) });
}
