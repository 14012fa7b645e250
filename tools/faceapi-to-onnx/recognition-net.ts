/**
 * face-api's FaceRecognitionNet (its port of dlib's 29-conv ResNet face descriptor) rebuilt as an
 * ONNX graph from the weights alone, layer by layer as in
 * node_modules/@vladmandic/face-api/src/faceRecognitionNet/. The interface keeps TF.js's NHWC;
 * inside, activations are NCHW for ONNX's Conv.
 */
import { OPSET, type ConvertedModel } from '../tfjs-to-onnx/convert.js';
import { NHWC_TO_NCHW, transposeData } from '../tfjs-to-onnx/layout.js';
import { OnnxGraphBuilder, attr, floatTensor, int64Tensor, serializeModel } from '../../src/onnx/onnx-builder.js';
import { BATCH, spatialPadding, windowOutputSize, type Window2d } from '../tfjs-to-onnx/tensor-shape.js';
import type { ConstTensor } from '../tfjs-to-onnx/weights.js';

/** Bump when the generated graph changes for the same weights (invalidates the built model). */
export const RECOGNITION_CONVERTER_VERSION = '1.0.0';

export const INPUT_NAME = 'input';
export const OUTPUT_NAME = 'embedding';
export const INPUT_SIZE = 150;
export const EMBEDDING_SIZE = 128;
/** FaceRecognitionNet.forwardInput feeds (pixel - MEAN_RGB) / PIXEL_DIVISOR, pixels 0..255 RGB. */
export const MEAN_RGB: readonly [number, number, number] = [122.782, 117.001, 104.298];
export const PIXEL_DIVISOR = 255;

/** The residual blocks after the stem, in forward order; `down` blocks halve the resolution. */
export const RESIDUAL_BLOCKS: readonly { readonly name: string; readonly down: boolean }[] = [
  { name: 'conv32_1', down: false },
  { name: 'conv32_2', down: false },
  { name: 'conv32_3', down: false },
  { name: 'conv64_down', down: true },
  { name: 'conv64_1', down: false },
  { name: 'conv64_2', down: false },
  { name: 'conv64_3', down: false },
  { name: 'conv128_down', down: true },
  { name: 'conv128_1', down: false },
  { name: 'conv128_2', down: false },
  { name: 'conv256_down', down: true },
  { name: 'conv256_1', down: false },
  { name: 'conv256_2', down: false },
  { name: 'conv256_down_out', down: true },
];

export interface FoldedConv {
  /** ONNX OIHW. */
  readonly dims: readonly [number, number, number, number];
  readonly weights: Float32Array;
  readonly bias: Float32Array;
}

/**
 * face-api's conv layer is conv(x, W) + b followed by a scale layer (* s + t per channel); one
 * ONNX Conv computes the same as conv(x, W * s) + (b * s + t). `filters` is TF's HWIO.
 */
export function foldScaleIntoConv(filters: ConstTensor, bias: ArrayLike<number>, scale: ArrayLike<number>, shift: ArrayLike<number>): FoldedConv {
  const [kh, kw, inChannels, outChannels] = filters.shape;
  const weights = transposeData(Float32Array.from(filters.data), filters.shape, [3, 2, 0, 1]);
  const perFilter = inChannels * kh * kw;
  for (let i = 0; i < weights.length; i++) weights[i] *= scale[Math.floor(i / perFilter)];
  const folded = Float32Array.from({ length: outChannels }, (_, o) => bias[o] * scale[o] + shift[o]);
  return { dims: [outChannels, inChannels, kh, kw], weights, bias: folded };
}

/** An NCHW activation: its ONNX value name and static size (the batch stays symbolic). */
interface FeatureMap {
  readonly name: string;
  readonly channels: number;
  readonly size: readonly [number, number];
}

function sameSize(a: FeatureMap, b: FeatureMap): boolean {
  return a.size[0] === b.size[0] && a.size[1] === b.size[1];
}

/** ONNX window attributes and output size; face-api pools VALID, convolves SAME at stride 1 and VALID at stride 2. */
function slidingWindow(input: FeatureMap, kernel: readonly [number, number], stride: number, mode: 'SAME' | 'VALID') {
  const window: Window2d = { kernel, strides: [stride, stride], dilations: [1, 1] };
  const padding = spatialPadding(mode, input.size, window, []);
  const [height, width] = windowOutputSize(input.size, window, padding);
  if (!('pads' in padding) || typeof height !== 'number' || typeof width !== 'number') throw new Error('static sizes expected');
  return {
    attributes: { kernel_shape: attr.ints(kernel), strides: attr.ints(window.strides), pads: attr.ints(padding.pads) },
    size: [height, width] as const,
  };
}

class RecognitionGraph {
  readonly builder = new OnnxGraphBuilder();
  private readonly unused: Set<string>;

  constructor(private readonly weights: ReadonlyMap<string, ConstTensor>) {
    this.unused = new Set(weights.keys());
    this.builder.reserveNames([OUTPUT_NAME]);
  }

  /** The graph input, normalised as face-api does and moved to NCHW. */
  input(): FeatureMap {
    const pixels = this.builder.addInput(INPUT_NAME, 'float32', [BATCH, INPUT_SIZE, INPUT_SIZE, 3]);
    const mean = this.builder.addInitializer('mean_rgb', floatTensor([3], MEAN_RGB));
    const divisor = this.builder.addInitializer('pixel_divisor', floatTensor([], [PIXEL_DIVISOR]));
    const centred = this.builder.addNode('Sub', [pixels, mean], 'centred');
    const normalised = this.builder.addNode('Div', [centred, divisor], 'normalised');
    const nchw = this.builder.addNode('Transpose', [normalised], 'normalised_nchw', { perm: attr.ints(NHWC_TO_NCHW) });
    return { name: nchw, channels: 3, size: [INPUT_SIZE, INPUT_SIZE] };
  }

  /** convLayer: stride 1 is face-api's conv / convNoRelu, stride 2 its convDown. */
  conv(x: FeatureMap, prefix: string, stride: 1 | 2, relu: boolean): FeatureMap {
    const filters = this.weight(`${prefix}/conv/filters`, 4);
    const [kh, kw, inChannels, outChannels] = filters.shape;
    if (inChannels !== x.channels) throw new Error(`${prefix}: filters expect ${inChannels} input channels, got ${x.channels}`);
    const channelVector = (name: string): ConstTensor['data'] => {
      const tensor = this.weight(name, 1);
      if (tensor.shape[0] !== outChannels) throw new Error(`weight "${name}": ${tensor.shape[0]} values for ${outChannels} channels`);
      return tensor.data;
    };
    const folded = foldScaleIntoConv(
      filters,
      channelVector(`${prefix}/conv/bias`),
      channelVector(`${prefix}/scale/weights`),
      channelVector(`${prefix}/scale/biases`),
    );
    const weights = this.builder.addInitializer(`${prefix}/weights`, floatTensor(folded.dims, folded.weights));
    const bias = this.builder.addInitializer(`${prefix}/bias`, floatTensor([outChannels], folded.bias));
    const window = slidingWindow(x, [kh, kw], stride, stride === 1 ? 'SAME' : 'VALID');
    const conv = this.builder.addNode('Conv', [x.name, weights, bias], `${prefix}/conv`, window.attributes);
    return { name: relu ? this.builder.addNode('Relu', [conv], `${prefix}/relu`) : conv, channels: outChannels, size: window.size };
  }

  pool(opType: 'MaxPool' | 'AveragePool', x: FeatureMap, kernel: number, stride: number, hint: string): FeatureMap {
    const window = slidingWindow(x, [kernel, kernel], stride, 'VALID');
    return { name: this.builder.addNode(opType, [x.name], hint, window.attributes), channels: x.channels, size: window.size };
  }

  residual(x: FeatureMap, prefix: string): FeatureMap {
    const conv1 = this.conv(x, `${prefix}/conv1`, 1, true);
    const conv2 = this.conv(conv1, `${prefix}/conv2`, 1, false);
    return this.addRelu(conv2, x, prefix);
  }

  /** residualDown: the shortcut is a 2x2 average pool, zero-padded to the conv branch's channels. */
  residualDown(x: FeatureMap, prefix: string): FeatureMap {
    const conv1 = this.conv(x, `${prefix}/conv1`, 2, true);
    let branch = this.conv(conv1, `${prefix}/conv2`, 1, false);
    let shortcut = this.pool('AveragePool', x, 2, 2, `${prefix}/shortcut`);
    // From an odd size the pool keeps one row/column more than the VALID conv; face-api then
    // appends one zero row and one zero column to the conv branch.
    if (!sameSize(branch, shortcut)) branch = this.zeroPadAfter(branch, 0, 1, `${prefix}/pad_spatial`);
    if (shortcut.channels !== branch.channels) shortcut = this.zeroPadAfter(shortcut, branch.channels - shortcut.channels, 0, `${prefix}/pad_channels`);
    return this.addRelu(branch, shortcut, prefix);
  }

  /** Global average pool, then the 256 -> 128 fully connected layer (no bias) as the graph output. */
  embedding(x: FeatureMap): void {
    const fc = this.weight('fc', 2);
    if (fc.shape[0] !== x.channels || fc.shape[1] !== EMBEDDING_SIZE) throw new Error(`weight "fc": shape [${fc.shape.join(',')}] does not fit ${x.channels} -> ${EMBEDDING_SIZE}`);
    const pooled = this.builder.addNode('ReduceMean', [x.name], 'global_average', { axes: attr.ints([2, 3]), keepdims: attr.int(0) });
    const weights = this.builder.addInitializer('fc', floatTensor(fc.shape, fc.data as Float32Array));
    this.builder.addNamedNode('MatMul', [pooled, weights], OUTPUT_NAME);
    this.builder.addOutput(OUTPUT_NAME, 'float32', [BATCH, EMBEDDING_SIZE]);
  }

  /** Weights the graph never read mean the source is not the architecture rebuilt here. */
  requireAllWeightsUsed(): void {
    if (this.unused.size > 0) throw new Error(`weights not used by FaceRecognitionNet: ${[...this.unused].join(', ')}`);
  }

  private weight(name: string, rank: number): ConstTensor {
    const tensor = this.weights.get(name);
    if (!tensor) throw new Error(`weight "${name}" is missing`);
    if (tensor.dtype !== 'float32' || tensor.shape.length !== rank) throw new Error(`weight "${name}" must be a rank-${rank} float32 tensor`);
    this.unused.delete(name);
    return tensor;
  }

  private zeroPadAfter(x: FeatureMap, channels: number, rowsAndColumns: number, hint: string): FeatureMap {
    const pads = this.builder.addInitializer(`${hint}/pads`, int64Tensor([8], [0, 0, 0, 0, 0, channels, rowsAndColumns, rowsAndColumns]));
    return {
      name: this.builder.addNode('Pad', [x.name, pads], hint),
      channels: x.channels + channels,
      size: [x.size[0] + rowsAndColumns, x.size[1] + rowsAndColumns],
    };
  }

  private addRelu(a: FeatureMap, b: FeatureMap, prefix: string): FeatureMap {
    if (a.channels !== b.channels || !sameSize(a, b)) throw new Error(`${prefix}: cannot add ${a.channels}x${a.size.join('x')} and ${b.channels}x${b.size.join('x')}`);
    const sum = this.builder.addNode('Add', [a.name, b.name], `${prefix}/add`);
    return { ...a, name: this.builder.addNode('Relu', [sum], `${prefix}/relu`) };
  }
}

export interface RecognitionModelOptions {
  readonly docString?: string;
  readonly metadata?: Readonly<Record<string, string>>;
}

/** `weights`: face_recognition_model's tensors by manifest name (see source.ts). */
export function buildRecognitionModel(weights: ReadonlyMap<string, ConstTensor>, options: RecognitionModelOptions = {}): ConvertedModel {
  const graph = new RecognitionGraph(weights);
  const stem = graph.conv(graph.input(), 'conv32_down', 2, true);
  let features = graph.pool('MaxPool', stem, 3, 2, 'conv32_down/max_pool');
  for (const block of RESIDUAL_BLOCKS) features = block.down ? graph.residualDown(features, block.name) : graph.residual(features, block.name);
  graph.embedding(features);
  graph.requireAllWeightsUsed();
  const onnx = serializeModel(graph.builder.toGraph('faceapi_recognition'), {
    opset: OPSET,
    producerName: 'face3d faceapi-to-onnx',
    producerVersion: RECOGNITION_CONVERTER_VERSION,
    docString: options.docString,
    properties: options.metadata,
  });
  return {
    onnx,
    inputs: [{ name: INPUT_NAME, shape: [BATCH, INPUT_SIZE, INPUT_SIZE, 3] }],
    outputs: [{ name: OUTPUT_NAME, shape: [BATCH, EMBEDDING_SIZE] }],
  };
}
