/** MatMul and _FusedMatMul (bias + activation) as Gemm. */
import { attrBool, dataInputs, type TfNode } from '../graph-model.js';
import { operandShape, type ConversionContext, type TfValue } from '../context.js';
import { attr } from '../../../src/onnx/onnx-builder.js';
import { formatShape } from '../tensor-shape.js';
import { emitActivation, parseFusedOps } from './elementwise.js';

export function convertMatMul(node: TfNode, ctx: ConversionContext): void {
  const [aRef, bRef, ...args] = dataInputs(node);
  const a = ctx.operand(aRef);
  const b = ctx.operand(bRef);
  const [aShape, bShape] = [operandShape(a), operandShape(b)];
  if (aShape.length !== 2 || bShape.length !== 2) {
    throw new Error(`only 2-D operands are supported, got ${formatShape(aShape)} x ${formatShape(bShape)}`);
  }
  const transA = attrBool(node, 'transpose_a', false);
  const transB = attrBool(node, 'transpose_b', false);
  const { bias, activation } = parseFusedOps(node, args, ctx);
  const inputs = [ctx.plain(a), ctx.plain(b), ...(bias ? [ctx.plain(bias)] : [])];
  const gemm: TfValue = {
    onnxName: ctx.emit('Gemm', inputs, activation ? `${node.name}/gemm` : node.name, {
      transA: attr.int(transA ? 1 : 0),
      transB: attr.int(transB ? 1 : 0),
    }),
    shape: [transA ? aShape[1] : aShape[0], transB ? bShape[0] : bShape[1]],
    perm: [0, 1],
  };
  ctx.define(node.name, activation ? emitActivation(ctx, activation, gemm, node.name) : gemm);
}
