/** Which converter handles each TF op (Placeholder and Const are handled by the graph walk itself). */
import { dataInputs, type TfNode } from '../graph-model.js';
import type { ConversionContext } from '../context.js';
import { convertConv, convertMaxPool } from './conv.js';
import { BINARY_OP_NAMES, UNARY_OP_NAMES, convertBinary, convertUnary } from './elementwise.js';
import { convertMatMul } from './matmul.js';
import { convertReduce, convertSoftmax } from './reduce.js';
import { convertPad, convertReshape, convertSqueeze } from './shape-ops.js';

export type OpConverter = (node: TfNode, ctx: ConversionContext) => void;

export const OP_CONVERTERS: Readonly<Record<string, OpConverter>> = {
  Identity: (node, ctx) => ctx.alias(node.name, dataInputs(node)[0]),
  Conv2D: convertConv,
  _FusedConv2D: convertConv,
  DepthwiseConv2dNative: convertConv,
  FusedDepthwiseConv2dNative: convertConv,
  MaxPool: convertMaxPool,
  MatMul: convertMatMul,
  _FusedMatMul: convertMatMul,
  Reshape: convertReshape,
  Squeeze: convertSqueeze,
  Pad: convertPad,
  Mean: convertReduce,
  Sum: convertReduce,
  Softmax: convertSoftmax,
  ...Object.fromEntries(BINARY_OP_NAMES.map((op) => [op, convertBinary])),
  ...Object.fromEntries(UNARY_OP_NAMES.map((op) => [op, convertUnary])),
};
