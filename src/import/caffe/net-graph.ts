/**
 * A Caffe deploy network with its weights as a small graph of plain operations, in Caffe's layer
 * order, with every value's static size: what the ONNX emitter and the folding pass work on.
 * In-place layers (top == bottom, as ResNet's BatchNorm/Scale/ReLU are) get a fresh value each,
 * so every value has one producer.
 */
import { Face3dError } from '../../core/errors.js';
import { blobValues, type BlobProto, type ConvolutionParameter, type LayerParameter, type NetParameter, type PoolingParameter } from './caffe-proto.js';

/** One item's dims, without the batch axis: [C, H, W] for images, [K] after an InnerProduct. */
export type Dims = readonly number[];
export type Pair = readonly [number, number];

export interface Window {
  readonly kernel: Pair;
  readonly stride: Pair;
  readonly pad: Pair;
}

export type CaffeOp =
  | { readonly kind: 'conv'; readonly window: Window; readonly dilation: Pair; readonly group: number; readonly weights: Float32Array; readonly weightDims: readonly [number, number, number, number]; readonly bias: Float32Array }
  /** y = x · scale + shift per channel (axis 1): BatchNorm and Scale both become one. */
  | { readonly kind: 'affine'; readonly scale: Float32Array; readonly shift: Float32Array }
  | { readonly kind: 'relu'; readonly negativeSlope: number }
  | { readonly kind: 'eltwise'; readonly operation: 'SUM' | 'PROD' | 'MAX'; readonly coeffs: readonly number[] }
  | { readonly kind: 'pool'; readonly method: 'MAX' | 'AVE'; readonly window: Window; readonly global: boolean; readonly ceil: boolean }
  /** weights: [outputs, inputs] (Caffe's layout unless `transposed`, then [inputs, outputs]). */
  | { readonly kind: 'innerProduct'; readonly weights: Float32Array; readonly bias: Float32Array | null; readonly outputs: number; readonly transposed: boolean }
  | { readonly kind: 'flatten' }
  | { readonly kind: 'softmax' };

export interface CaffeNode {
  readonly layer: string;
  readonly op: CaffeOp;
  readonly inputs: readonly string[];
  readonly output: string;
  readonly dims: Dims;
}

export interface CaffeGraph {
  readonly name: string;
  readonly input: { readonly name: string; readonly dims: Dims };
  readonly nodes: readonly CaffeNode[];
  /** Values no layer reads, under the name of the Caffe blob that holds them (what net.blobs[...] reads). */
  readonly outputs: readonly { readonly value: string; readonly blob: string }[];
}

function fail(message: string): never {
  throw new Face3dError('BAD_USER_INPUT', message);
}

function product(dims: Dims): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** Caffe's rule for pooled sizes: ceil by default, and the last window must start inside the image or its padding. */
function poolOutputSize(size: number, kernel: number, stride: number, pad: number, ceil: boolean): number {
  const span = (size + 2 * pad - kernel) / stride;
  let pooled = (ceil ? Math.ceil(span) : Math.floor(span)) + 1;
  if (pad > 0 && (pooled - 1) * stride >= size + pad) pooled--;
  return pooled;
}

function convOutputSize(size: number, kernel: number, stride: number, pad: number, dilation: number): number {
  return Math.floor((size + 2 * pad - (dilation * (kernel - 1) + 1)) / stride) + 1;
}

/** `_h`/`_w` fields win when set; else the repeated field (one value for both axes, or h then w); else the default. */
function pairOf(h: number, w: number, repeated: readonly number[] | number, fallback: number): Pair {
  if (h || w) return [h, w];
  const values = typeof repeated === 'number' ? (repeated ? [repeated] : []) : repeated;
  if (values.length === 0) return [fallback, fallback];
  return [values[0], values[values.length > 1 ? 1 : 0]];
}

function convWindow(p: ConvolutionParameter): Window {
  return { kernel: pairOf(p.kernel_h, p.kernel_w, p.kernel_size, 0), stride: pairOf(p.stride_h, p.stride_w, p.stride, 1), pad: pairOf(p.pad_h, p.pad_w, p.pad, 0) };
}

function poolWindow(p: PoolingParameter): Window {
  return { kernel: pairOf(p.kernel_h, p.kernel_w, p.kernel_size, 0), stride: pairOf(p.stride_h, p.stride_w, p.stride, 1), pad: pairOf(p.pad_h, p.pad_w, p.pad, 0) };
}

function inputOf(net: NetParameter): { name: string; dims: Dims } {
  if (net.input.length > 0) {
    if (net.input.length > 1) fail(`the network has ${net.input.length} inputs; one image input is supported`);
    const shape = net.input_shape.length > 0 ? net.input_shape[0].dim : net.input_dim;
    if (shape.length !== 4) fail(`input "${net.input[0]}" must be 4-D (N, C, H, W), got [${shape.join(', ')}]`);
    return { name: net.input[0], dims: shape.slice(1) };
  }
  const layer = net.layer.find((l) => l.type === 'Input');
  const shape = layer?.input_param?.shape[0]?.dim;
  if (!layer || !shape || layer.top.length !== 1) return fail('the network declares no input (an "input:" field or an Input layer with one top)');
  if (shape.length !== 4) fail(`input "${layer.top[0]}" must be 4-D (N, C, H, W), got [${shape.join(', ')}]`);
  return { name: layer.top[0], dims: shape.slice(1) };
}

/** Blobs by layer name from the weights file (current `layer` or pre-2015 `layers`), else from the definition. */
function weightsByLayer(weights: NetParameter): Map<string, readonly BlobProto[]> {
  const blobs = new Map<string, readonly BlobProto[]>();
  for (const layer of [...weights.layers, ...weights.layer]) if (layer.blobs.length > 0) blobs.set(layer.name, layer.blobs);
  return blobs;
}

class GraphBuilder {
  readonly nodes: CaffeNode[] = [];
  private readonly current = new Map<string, string>();
  private readonly dimsOf = new Map<string, Dims>();
  readonly blobOf = new Map<string, string>();

  constructor(input: { name: string; dims: Dims }, private readonly weights: Map<string, readonly BlobProto[]>) {
    this.define(input.name, input.name, input.dims);
  }

  add(layer: LayerParameter): void {
    const inputs = layer.bottom.map((bottom) => this.current.get(bottom) ?? fail(`layer "${layer.name}" reads blob "${bottom}", which no earlier layer writes`));
    const inDims = inputs.map((value) => this.dimsOf.get(value)!);
    if (layer.type === 'Split' || layer.type === 'Dropout') {
      for (const top of layer.top) this.current.set(top, inputs[0]);
      return;
    }
    if (layer.type === 'Input') return;
    if (layer.top.length !== 1) fail(`layer "${layer.name}" (${layer.type}) has ${layer.top.length} tops; one is supported`);
    if (inputs.length === 0) fail(`layer "${layer.name}" (${layer.type}) has no bottom`);
    const { op, dims } = this.operation(layer, inDims);
    const top = layer.top[0];
    const output = this.define(top, this.current.has(top) ? `${top}/${layer.name}` : top, dims);
    this.nodes.push({ layer: layer.name, op, inputs, output, dims });
  }

  private define(blob: string, hint: string, dims: Dims): string {
    let value = hint;
    for (let i = 1; this.dimsOf.has(value); i++) value = `${hint}_${i}`;
    this.dimsOf.set(value, dims);
    this.current.set(blob, value);
    this.blobOf.set(value, blob);
    return value;
  }

  private blobs(layer: LayerParameter, count: number): Float32Array[] {
    const blobs = this.weights.get(layer.name) ?? layer.blobs;
    if (blobs.length < count) fail(`layer "${layer.name}" (${layer.type}) needs ${count} weight blobs, the weights file has ${blobs.length}`);
    return blobs.slice(0, count).map(blobValues);
  }

  private sized(layer: LayerParameter, values: Float32Array, expected: number, what: string): Float32Array {
    if (values.length !== expected) fail(`layer "${layer.name}": ${what} holds ${values.length} values, expected ${expected}`);
    return values;
  }

  private operation(layer: LayerParameter, inDims: readonly Dims[]): { op: CaffeOp; dims: Dims } {
    const [dims] = inDims;
    const channels = dims[0];
    switch (layer.type) {
      case 'Convolution': {
        const p = layer.convolution_param ?? fail(`layer "${layer.name}" has no convolution_param`);
        if (p.axis !== 1) fail(`layer "${layer.name}": convolution over axis ${p.axis} is not supported`);
        if (dims.length !== 3) fail(`layer "${layer.name}": convolution needs a C x H x W input, got [${dims.join(', ')}]`);
        const window = convWindow(p);
        const dilation = pairOf(0, 0, p.dilation, 1);
        if (window.kernel[0] <= 0 || window.kernel[1] <= 0) fail(`layer "${layer.name}": no kernel size`);
        if (channels % p.group !== 0 || p.num_output % p.group !== 0) fail(`layer "${layer.name}": group ${p.group} does not divide the channels`);
        const weightDims = [p.num_output, channels / p.group, window.kernel[0], window.kernel[1]] as const;
        const blobs = this.blobs(layer, p.bias_term ? 2 : 1);
        const weights = this.sized(layer, blobs[0], product(weightDims), 'the filter blob');
        const bias = p.bias_term ? this.sized(layer, blobs[1], p.num_output, 'the bias blob') : new Float32Array(p.num_output);
        const size = [0, 1].map((a) => convOutputSize(dims[a + 1], window.kernel[a], window.stride[a], window.pad[a], dilation[a]));
        return { op: { kind: 'conv', window, dilation, group: p.group, weights, weightDims, bias }, dims: [p.num_output, ...size] };
      }
      case 'BatchNorm': {
        const eps = layer.batch_norm_param?.eps ?? 1e-5;
        const [mean, variance, factor] = this.blobs(layer, 3);
        this.sized(layer, mean, channels, 'the mean blob');
        this.sized(layer, variance, channels, 'the variance blob');
        // Caffe stores running sums; blob 2 holds the moving-average scale factor they are divided by.
        const unscale = factor[0] === 0 ? 0 : 1 / factor[0];
        const scale = Float32Array.from(variance, (v) => 1 / Math.sqrt(v * unscale + eps));
        const shift = Float32Array.from(mean, (m, c) => -m * unscale * scale[c]);
        return { op: { kind: 'affine', scale, shift }, dims };
      }
      case 'Scale': {
        const p = layer.scale_param ?? { axis: 1, num_axes: 1, bias_term: false };
        if (inDims.length !== 1 || p.axis !== 1 || p.num_axes !== 1) fail(`layer "${layer.name}": only a per-channel Scale with learned weights is supported`);
        const blobs = this.blobs(layer, p.bias_term ? 2 : 1);
        const scale = this.sized(layer, blobs[0], channels, 'the scale blob');
        const shift = p.bias_term ? this.sized(layer, blobs[1], channels, 'the bias blob') : new Float32Array(channels);
        return { op: { kind: 'affine', scale, shift }, dims };
      }
      case 'ReLU':
        return { op: { kind: 'relu', negativeSlope: layer.relu_param?.negative_slope ?? 0 }, dims };
      case 'Eltwise': {
        const p = layer.eltwise_param ?? { operation: 'SUM' as const, coeff: [] };
        if (inDims.length < 2) fail(`layer "${layer.name}": Eltwise needs at least two bottoms`);
        if (inDims.some((d) => d.join() !== dims.join())) fail(`layer "${layer.name}": Eltwise inputs differ in size (${inDims.map((d) => d.join('x')).join(', ')})`);
        if (p.coeff.length > 0 && (p.operation !== 'SUM' || p.coeff.length !== inDims.length)) fail(`layer "${layer.name}": coefficients need SUM and one per bottom`);
        return { op: { kind: 'eltwise', operation: p.operation, coeffs: p.coeff.length > 0 ? p.coeff : inDims.map(() => 1) }, dims };
      }
      case 'Pooling': {
        const p = layer.pooling_param ?? fail(`layer "${layer.name}" has no pooling_param`);
        if (p.pool === 'STOCHASTIC') fail(`layer "${layer.name}": stochastic pooling is not supported`);
        if (dims.length !== 3) fail(`layer "${layer.name}": pooling needs a C x H x W input`);
        const window = poolWindow(p);
        const ceil = p.round_mode === 'CEIL';
        if (p.global_pooling) return { op: { kind: 'pool', method: p.pool, window, global: true, ceil }, dims: [channels, 1, 1] };
        if (window.kernel[0] <= 0 || window.kernel[1] <= 0) fail(`layer "${layer.name}": no kernel size`);
        const size = [0, 1].map((a) => poolOutputSize(dims[a + 1], window.kernel[a], window.stride[a], window.pad[a], ceil));
        return { op: { kind: 'pool', method: p.pool, window, global: false, ceil }, dims: [channels, ...size] };
      }
      case 'InnerProduct': {
        const p = layer.inner_product_param ?? fail(`layer "${layer.name}" has no inner_product_param`);
        if (p.axis !== 1) fail(`layer "${layer.name}": InnerProduct over axis ${p.axis} is not supported`);
        const inputs = product(dims);
        const blobs = this.blobs(layer, p.bias_term ? 2 : 1);
        const weights = this.sized(layer, blobs[0], p.num_output * inputs, 'the weight blob');
        const bias = p.bias_term ? this.sized(layer, blobs[1], p.num_output, 'the bias blob') : null;
        return { op: { kind: 'innerProduct', weights, bias, outputs: p.num_output, transposed: p.transpose }, dims: [p.num_output] };
      }
      case 'Flatten': {
        const p = layer.flatten_param ?? { axis: 1, end_axis: -1 };
        if (p.axis !== 1 || p.end_axis !== -1) fail(`layer "${layer.name}": only Flatten from axis 1 to the end is supported`);
        return { op: { kind: 'flatten' }, dims: [product(dims)] };
      }
      case 'Softmax':
        if ((layer.softmax_param?.axis ?? 1) !== 1) fail(`layer "${layer.name}": only Softmax over channels is supported`);
        return { op: { kind: 'softmax' }, dims };
      default:
        return fail(`layer "${layer.name}" has type ${layer.type}, which the Caffe importer does not support (Convolution, BatchNorm, Scale, ReLU, Eltwise, Pooling, InnerProduct, Flatten, Softmax, Input, Split, Dropout)`);
    }
  }
}

/** `definition` from the .prototxt, `weights` from the .caffemodel (blobs matched by layer name). */
export function buildCaffeGraph(definition: NetParameter, weights: NetParameter): CaffeGraph {
  const input = inputOf(definition);
  const builder = new GraphBuilder(input, weightsByLayer(weights));
  for (const layer of definition.layer) builder.add(layer);
  const read = new Set(builder.nodes.flatMap((node) => node.inputs));
  const outputs = builder.nodes.filter((node) => !read.has(node.output)).map((node) => ({ value: node.output, blob: builder.blobOf.get(node.output)! }));
  if (outputs.length === 0) fail('the network has no layers to convert');
  return { name: definition.name, input, nodes: builder.nodes, outputs };
}
