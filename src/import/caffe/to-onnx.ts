/**
 * The Caffe graph as an ONNX model (opset 17). The interface is Caffe's: NCHW input under the
 * Caffe input blob's name with a symbolic batch, outputs under the Caffe blob names. When a mean
 * image is given it becomes a constant subtracted inside the graph, so callers feed raw pixels in
 * the network's channel order (BGR 0..255 for the CNN3DMM release).
 */
import { BATCH, OPSET, OnnxGraphBuilder, attr, floatTensor, int64Tensor, serializeModel } from '../../onnx/onnx-builder.js';
import { Face3dError } from '../../core/errors.js';
import type { CaffeGraph, CaffeNode, CaffeOp, Dims } from './net-graph.js';

/** Bump when the generated graph changes for the same Caffe files. */
export const CAFFE_CONVERTER_VERSION = '1.0.0';

/** The mean image Caffe's transformer subtracts: [C, H, W] matching the input, or [C, 1, 1] per channel. */
export interface MeanImage {
  readonly dims: Dims;
  readonly data: Float32Array;
}

export interface TensorInfo {
  readonly name: string;
  /** Without the batch axis. */
  readonly dims: Dims;
}

export interface ConvertedCaffeModel {
  readonly onnx: Uint8Array;
  readonly input: TensorInfo;
  readonly outputs: readonly TensorInfo[];
  readonly nodes: number;
}

export interface OnnxOptions {
  readonly mean?: MeanImage;
  readonly docString?: string;
  readonly metadata?: Readonly<Record<string, string>>;
}

class Emitter {
  readonly builder = new OnnxGraphBuilder();
  private readonly names = new Map<string, string>();
  private readonly outputBlob = new Map<string, string>();
  private readonly dims = new Map<string, Dims>();

  constructor(private readonly graph: CaffeGraph) {
    this.dims.set(graph.input.name, graph.input.dims);
    for (const node of graph.nodes) this.dims.set(node.output, node.dims);
    for (const output of graph.outputs) this.outputBlob.set(output.value, output.blob);
    this.builder.reserveNames(graph.outputs.map((o) => o.blob));
  }

  input(mean: MeanImage | undefined): void {
    const { name, dims } = this.graph.input;
    const input = this.builder.addInput(name, 'float32', [BATCH, ...dims]);
    if (!mean) {
      this.names.set(name, input);
      return;
    }
    const [channels, height, width] = mean.dims;
    const fits = channels === dims[0] && ((height === dims[1] && width === dims[2]) || (height === 1 && width === 1));
    if (!fits) throw new Face3dError('BAD_USER_INPUT', `the mean image is ${mean.dims.join('x')}; the network input is ${dims.join('x')}`);
    const constant = this.builder.addInitializer('mean_image', floatTensor([1, ...mean.dims], mean.data));
    this.names.set(name, this.builder.addNode('Sub', [input, constant], `${name}_minus_mean`));
  }

  node(node: CaffeNode): void {
    const inputs = node.inputs.map((value) => this.names.get(value)!);
    const output = this.emit(node, inputs, this.dims.get(node.inputs[0])!);
    this.names.set(node.output, output);
  }

  /** The op producing the node's value: named after its Caffe blob when it is a graph output. */
  private final(node: CaffeNode, opType: string, inputs: readonly string[], attributes: Parameters<OnnxGraphBuilder['addNode']>[3] = {}): string {
    const blob = this.outputBlob.get(node.output);
    if (blob !== undefined) return this.builder.addNamedNode(opType, inputs, blob, attributes);
    return this.builder.addNode(opType, inputs, node.output, attributes);
  }

  private constant(node: CaffeNode, suffix: string, dims: readonly number[], data: Float32Array): string {
    return this.builder.addInitializer(`${node.layer}/${suffix}`, floatTensor(dims, data));
  }

  private emit(node: CaffeNode, inputs: readonly string[], inDims: Dims): string {
    const op: CaffeOp = node.op;
    switch (op.kind) {
      case 'conv': {
        const { kernel, stride, pad } = op.window;
        const weights = this.constant(node, 'weights', op.weightDims, op.weights);
        const bias = this.constant(node, 'bias', [op.bias.length], op.bias);
        return this.final(node, 'Conv', [inputs[0], weights, bias], {
          kernel_shape: attr.ints(kernel),
          strides: attr.ints(stride),
          pads: attr.ints([pad[0], pad[1], pad[0], pad[1]]),
          dilations: attr.ints(op.dilation),
          group: attr.int(op.group),
        });
      }
      case 'affine': {
        const channelDims = inDims.length === 3 ? [op.scale.length, 1, 1] : [op.scale.length];
        const scaled = this.builder.addNode('Mul', [inputs[0], this.constant(node, 'scale', channelDims, op.scale)], `${node.output}/scaled`);
        return this.final(node, 'Add', [scaled, this.constant(node, 'shift', channelDims, op.shift)]);
      }
      case 'relu':
        return op.negativeSlope === 0 ? this.final(node, 'Relu', inputs) : this.final(node, 'LeakyRelu', inputs, { alpha: attr.float(op.negativeSlope) });
      case 'eltwise':
        return this.eltwise(node, op, inputs);
      case 'pool':
        return this.pool(node, op, inputs[0], inDims);
      case 'innerProduct': {
        const flat = inDims.length > 1 ? this.builder.addNode('Flatten', [inputs[0]], `${node.output}/flat`, { axis: attr.int(1) }) : inputs[0];
        const fanIn = op.weights.length / op.outputs;
        const weights = this.constant(node, 'weights', op.transposed ? [fanIn, op.outputs] : [op.outputs, fanIn], op.weights);
        const gemmInputs = op.bias ? [flat, weights, this.constant(node, 'bias', [op.outputs], op.bias)] : [flat, weights];
        return this.final(node, 'Gemm', gemmInputs, { transB: attr.int(op.transposed ? 0 : 1) });
      }
      case 'flatten':
        return this.final(node, 'Flatten', inputs, { axis: attr.int(1) });
      case 'softmax':
        return this.final(node, 'Softmax', inputs, { axis: attr.int(1) });
    }
  }

  private eltwise(node: CaffeNode, op: Extract<CaffeOp, { kind: 'eltwise' }>, inputs: readonly string[]): string {
    if (op.operation === 'MAX') return this.final(node, 'Max', inputs);
    if (op.operation === 'PROD') {
      let product = inputs[0];
      for (const x of inputs.slice(1, -1)) product = this.builder.addNode('Mul', [product, x], `${node.output}/product`);
      return this.final(node, 'Mul', [product, inputs[inputs.length - 1]]);
    }
    const terms = inputs.map((x, i) => {
      if (op.coeffs[i] === 1) return x;
      return this.builder.addNode('Mul', [x, this.constant(node, `coeff${i}`, [], Float32Array.of(op.coeffs[i]))], `${node.output}/term`);
    });
    return this.final(node, 'Sum', terms);
  }

  /**
   * Caffe pools in ceil mode and clips the last window to the padded image. Extra end padding gives
   * ONNX's floor mode the same output size; MAX ignores padding, and for AVE the zero padding is made
   * explicit so that count_include_pad=0 divides by the window clipped to the padded image, as Caffe does.
   */
  private pool(node: CaffeNode, op: Extract<CaffeOp, { kind: 'pool' }>, input: string, inDims: Dims): string {
    if (op.global) return this.final(node, op.method === 'MAX' ? 'GlobalMaxPool' : 'GlobalAveragePool', [input]);
    const { kernel, stride, pad } = op.window;
    const extra = [0, 1].map((a) => Math.max(0, (node.dims[a + 1] - 1) * stride[a] + kernel[a] - (inDims[a + 1] + 2 * pad[a])));
    if (extra.some((e, a) => pad[a] + e >= kernel[a])) {
      throw new Face3dError('BAD_USER_INPUT', `layer "${node.layer}": a pooling window would lie wholly in the padding (kernel ${kernel.join('x')}, stride ${stride.join('x')}, pad ${pad.join('x')})`);
    }
    const window = { kernel_shape: attr.ints(kernel), strides: attr.ints(stride) };
    if (op.method === 'MAX') return this.final(node, 'MaxPool', [input], { ...window, pads: attr.ints([pad[0], pad[1], pad[0] + extra[0], pad[1] + extra[1]]) });
    let padded = input;
    if (pad[0] > 0 || pad[1] > 0) {
      const pads = this.builder.addInitializer(`${node.layer}/zero_pads`, int64Tensor([8], [0, 0, pad[0], pad[1], 0, 0, pad[0], pad[1]]));
      padded = this.builder.addNode('Pad', [input, pads], `${node.output}/padded`);
    }
    return this.final(node, 'AveragePool', [padded], { ...window, pads: attr.ints([0, 0, extra[0], extra[1]]), count_include_pad: attr.int(0) });
  }
}

export function caffeGraphToOnnx(graph: CaffeGraph, options: OnnxOptions = {}): ConvertedCaffeModel {
  const emitter = new Emitter(graph);
  emitter.input(options.mean);
  for (const node of graph.nodes) emitter.node(node);
  const outputs = graph.outputs.map((o) => ({ name: o.blob, dims: graph.nodes.find((n) => n.output === o.value)!.dims }));
  for (const output of outputs) emitter.builder.addOutput(output.name, 'float32', [BATCH, ...output.dims]);
  const onnx = serializeModel(emitter.builder.toGraph(graph.name || 'caffe'), {
    opset: OPSET,
    producerName: 'face3d import caffe',
    producerVersion: CAFFE_CONVERTER_VERSION,
    docString: options.docString,
    properties: options.metadata,
  });
  return { onnx, input: graph.input, outputs, nodes: graph.nodes.length };
}
