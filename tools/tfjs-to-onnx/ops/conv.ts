/** Sliding-window ops: (depthwise) convolutions with their fused bias/activation, and MaxPool. All run in NCHW. */
import { attrInts, attrString, dataInputs, type TfNode } from '../graph-model.js';
import type { ConversionContext, TfValue } from '../context.js';
import { NHWC_TO_NCHW, transposeData } from '../layout.js';
import { attr, floatTensor, type AttributeProto } from '../../../src/onnx/onnx-builder.js';
import { formatShape, spatialPadding, windowOutputSize, type Padding, type SpatialPadding, type Window2d } from '../tensor-shape.js';
import { emitActivation, parseFusedOps } from './elementwise.js';

const PADDINGS: readonly Padding[] = ['SAME', 'VALID', 'EXPLICIT'];

function nhwcPair(node: TfNode, key: string): [number, number] {
  const values = attrInts(node, key, [1, 1, 1, 1]);
  if (values.length !== 4 || values[0] !== 1 || values[3] !== 1) {
    throw new Error(`${key} ${values.join(',')} must be [1, h, w, 1]`);
  }
  return [values[1], values[2]];
}

function requireNhwcInput(node: TfNode, input: TfValue): void {
  const format = attrString(node, 'data_format', 'NHWC');
  if (format !== 'NHWC') throw new Error(`data_format ${format} is not supported`);
  if (input.shape.length !== 4) throw new Error(`input ${formatShape(input.shape)} is not 4-D`);
}

function paddingOf(node: TfNode, input: TfValue, window: Window2d): SpatialPadding {
  const mode = attrString(node, 'padding') as Padding;
  if (!PADDINGS.includes(mode)) throw new Error(`padding ${mode} is not supported`);
  return spatialPadding(mode, [input.shape[1], input.shape[2]], window, attrInts(node, 'explicit_paddings', []));
}

function windowAttributes(window: Window2d, padding: SpatialPadding): Record<string, AttributeProto> {
  return {
    kernel_shape: attr.ints(window.kernel),
    strides: attr.ints(window.strides),
    dilations: attr.ints(window.dilations),
    ...('pads' in padding ? { pads: attr.ints(padding.pads) } : { auto_pad: attr.string(padding.autoPad) }),
  };
}

/** TF filter HWIO (depthwise: H, W, in, multiplier) -> ONNX OIHW with its group count. */
function convWeights(ctx: ConversionContext, node: TfNode, ref: string, depthwise: boolean) {
  const filter = ctx.constant(ref);
  if (filter.dtype !== 'float32' || filter.shape.length !== 4) {
    throw new Error('filter must be a 4-D float32 constant');
  }
  const [kh, kw, inChannels, outPerGroup] = filter.shape;
  // Depthwise: one input channel per group; TF's output channel c*multiplier+m is ONNX's grouped order.
  const hwio = depthwise ? [kh, kw, 1, inChannels * outPerGroup] : [kh, kw, inChannels, outPerGroup];
  const oihwPerm = [3, 2, 0, 1];
  const data = transposeData(filter.data as Float32Array, hwio, oihwPerm);
  const dims = oihwPerm.map((axis) => hwio[axis]);
  return {
    name: ctx.builder.addInitializer(`${ref}/oihw`, floatTensor(dims, data)),
    kernel: [kh, kw] as const,
    outChannels: dims[0],
    group: depthwise ? inChannels : 1,
  };
}

/** Conv2D, _FusedConv2D, DepthwiseConv2dNative, FusedDepthwiseConv2dNative. */
export function convertConv(node: TfNode, ctx: ConversionContext): void {
  const [inputRef, filterRef, ...args] = dataInputs(node);
  const input = ctx.value(inputRef);
  requireNhwcInput(node, input);
  const weights = convWeights(ctx, node, filterRef, node.op.includes('Depthwise'));
  const window: Window2d = { kernel: weights.kernel, strides: nhwcPair(node, 'strides'), dilations: nhwcPair(node, 'dilations') };
  const padding = paddingOf(node, input, window);
  const { bias, activation } = parseFusedOps(node, args, ctx);
  const inputs = [ctx.inLayout(input, NHWC_TO_NCHW), weights.name, ...(bias ? [ctx.plain(bias)] : [])];
  const attributes = { ...windowAttributes(window, padding), group: attr.int(weights.group) };
  const conv: TfValue = {
    onnxName: ctx.emit('Conv', inputs, activation ? `${node.name}/conv` : node.name, attributes),
    shape: [input.shape[0], ...windowOutputSize([input.shape[1], input.shape[2]], window, padding), weights.outChannels],
    perm: NHWC_TO_NCHW,
  };
  ctx.define(node.name, activation ? emitActivation(ctx, activation, conv, node.name) : conv);
}

export function convertMaxPool(node: TfNode, ctx: ConversionContext): void {
  const input = ctx.value(dataInputs(node)[0]);
  requireNhwcInput(node, input);
  const window: Window2d = { kernel: nhwcPair(node, 'ksize'), strides: nhwcPair(node, 'strides'), dilations: [1, 1] };
  const padding = paddingOf(node, input, window);
  ctx.define(node.name, {
    onnxName: ctx.emit('MaxPool', [ctx.inLayout(input, NHWC_TO_NCHW)], node.name, windowAttributes(window, padding)),
    shape: [input.shape[0], ...windowOutputSize([input.shape[1], input.shape[2]], window, padding), input.shape[3]],
    perm: NHWC_TO_NCHW,
  });
}
