/** Broadcasting binary ops (Add, Sub, Mul, Minimum, Maximum, Prelu) and unary ones, in any layout. */
import { attrFloat, attrStrings, dataInputs, type TfNode } from '../graph-model.js';
import { type ConversionContext, type Operand, type TfValue, operandShape } from '../context.js';
import { identityPerm, isIdentity } from '../layout.js';
import { attr } from '../../../src/onnx/onnx-builder.js';
import { broadcastShapes } from '../tensor-shape.js';

const BINARY_OPS: Readonly<Record<string, string>> = {
  Add: 'Add',
  AddV2: 'Add',
  Sub: 'Sub',
  Mul: 'Mul',
  Minimum: 'Min',
  Maximum: 'Max',
  Prelu: 'PRelu',
};

/**
 * Emits `onnxOp` over operands that broadcast like TF's. The result adopts the layout of the
 * first full-rank transposed input, so chains of NCHW activations need no Transpose.
 */
export function emitBroadcastOp(ctx: ConversionContext, onnxOp: string, operands: readonly Operand[], nameHint: string): TfValue {
  const shape = broadcastShapes(operands.map(operandShape));
  const rank = shape.length;
  const values = operands.flatMap((o) => (o.kind === 'value' ? [o.value] : []));
  const transposed = values.find((v) => v.shape.length === rank && !isIdentity(v.perm));
  // A lower-rank runtime input can only broadcast in TF's own layout.
  const perm = transposed && values.every((v) => v.shape.length === rank) ? transposed.perm : identityPerm(rank);
  const inputs = operands.map((o) => ctx.operandIn(o, rank, perm));
  return { onnxName: ctx.emit(onnxOp, inputs, nameHint), shape, perm };
}

/**
 * PRelu(x) as plain element-wise ops: ONNX Runtime's CPU PRelu kernel broadcasts element by element
 * and took 38% of FaceMesh's time (docs/BENCHMARKS.md §34). With every slope a constant ≤ 1, PRelu(x)
 * = Max(x, slope · x) exactly (slope · x ≤ x for x ≥ 0, ≥ x below), two ops; otherwise
 * Relu(x) − slope · Relu(−x), five. The result keeps the name (and layout) PRelu would have had.
 */
function emitPRelu(ctx: ConversionContext, input: TfValue, slope: Operand, nameHint: string): TfValue {
  const x: Operand = { kind: 'value', value: input };
  if (slope.kind === 'const' && slope.tensor.data.every((s) => s <= 1)) {
    const scaled = emitBroadcastOp(ctx, 'Mul', [x, slope], `${nameHint}/scaled`);
    return emitBroadcastOp(ctx, 'Max', [x, { kind: 'value', value: scaled }], nameHint);
  }
  const positive = { ...input, onnxName: ctx.emit('Relu', [input.onnxName], `${nameHint}/positive`) };
  const negative = { ...input, onnxName: ctx.emit('Relu', [ctx.emit('Neg', [input.onnxName], `${nameHint}/negated`)], `${nameHint}/negative`) };
  const scaled = emitBroadcastOp(ctx, 'Mul', [{ kind: 'value', value: negative }, slope], `${nameHint}/scaled`);
  return emitBroadcastOp(ctx, 'Sub', [{ kind: 'value', value: positive }, { kind: 'value', value: scaled }], nameHint);
}

export function convertBinary(node: TfNode, ctx: ConversionContext): void {
  const operands = dataInputs(node).map((ref) => ctx.operand(ref));
  const [x, slope] = operands;
  if (node.op === 'Prelu' && x.kind === 'value') ctx.define(node.name, emitPRelu(ctx, x.value, slope, node.name));
  else ctx.define(node.name, emitBroadcastOp(ctx, BINARY_OPS[node.op], operands, node.name));
}

type UnaryEmitter = (ctx: ConversionContext, input: string, name: string, alpha: number) => string;

/** Element-wise ops are layout-free: the result keeps the input's layout. */
const UNARY_OPS: Readonly<Record<string, UnaryEmitter>> = {
  Relu: (ctx, x, name) => ctx.emit('Relu', [x], name),
  Relu6: (ctx, x, name) => ctx.emit('Clip', [x, ctx.floatScalar(0), ctx.floatScalar(6)], name),
  Elu: (ctx, x, name) => ctx.emit('Elu', [x], name),
  LeakyRelu: (ctx, x, name, alpha) => ctx.emit('LeakyRelu', [x], name, { alpha: attr.float(alpha) }),
  Sigmoid: (ctx, x, name) => ctx.emit('Sigmoid', [x], name),
  Abs: (ctx, x, name) => ctx.emit('Abs', [x], name),
  Square: (ctx, x, name) => ctx.emit('Mul', [x, x], name),
  Rsqrt: (ctx, x, name) => ctx.emit('Reciprocal', [ctx.emit('Sqrt', [x], `${name}/sqrt`)], name),
};

/** TF's default slope for LeakyRelu (both the op's `alpha` and the fused `leakyrelu_alpha`). */
const DEFAULT_LEAKY_ALPHA = 0.2;

const FUSED_ACTIVATIONS: ReadonlySet<string> = new Set(['Relu', 'Relu6', 'Elu', 'LeakyRelu', 'Sigmoid', 'Prelu']);

export interface Activation {
  readonly op: string;
  /** Prelu's slope. */
  readonly slope?: Operand;
  /** LeakyRelu's slope. */
  readonly alpha: number;
}

/** Applies an activation (one of FUSED_ACTIVATIONS) to `input`. */
export function emitActivation(ctx: ConversionContext, activation: Activation, input: TfValue, nameHint: string): TfValue {
  if (activation.op === 'Prelu') {
    if (!activation.slope) throw new Error('Prelu without a slope argument');
    return emitPRelu(ctx, input, activation.slope, nameHint);
  }
  return { ...input, onnxName: UNARY_OPS[activation.op](ctx, input.onnxName, nameHint, activation.alpha) };
}

export function convertUnary(node: TfNode, ctx: ConversionContext): void {
  const input = ctx.value(dataInputs(node)[0]);
  const alpha = attrFloat(node, 'alpha', DEFAULT_LEAKY_ALPHA);
  ctx.define(node.name, { ...input, onnxName: UNARY_OPS[node.op](ctx, input.onnxName, node.name, alpha) });
}

export const BINARY_OP_NAMES = Object.keys(BINARY_OPS);
export const UNARY_OP_NAMES = Object.keys(UNARY_OPS);

/** Reads `fused_ops` of _FusedConv2D / FusedDepthwiseConv2dNative / _FusedMatMul: BiasAdd then an optional activation. */
export function parseFusedOps(node: TfNode, args: readonly string[], ctx: ConversionContext): { bias?: Operand; activation?: Activation } {
  const [first, activation, ...rest] = attrStrings(node, 'fused_ops');
  if (first === undefined) return {};
  if (first !== 'BiasAdd' || rest.length > 0 || (activation !== undefined && !FUSED_ACTIVATIONS.has(activation))) {
    throw new Error(`unsupported fused_ops ${[first, activation, ...rest].join('+')}`);
  }
  const bias = ctx.operand(args[0]);
  if (activation === undefined) return { bias };
  const slope = activation === 'Prelu' ? ctx.operand(args[1]) : undefined;
  return { bias, activation: { op: activation, slope, alpha: attrFloat(node, 'leakyrelu_alpha', DEFAULT_LEAKY_ALPHA) } };
}
