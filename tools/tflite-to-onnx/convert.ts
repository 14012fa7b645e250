/**
 * A float TensorFlow Lite model as an ONNX graph (opset 17) that ONNX Runtime runs: the operators
 * MobileFaceNet-style embedders use (CONV_2D, DEPTHWISE_CONV_2D, ADD, SUB, MUL, RELU, RELU6, ABS,
 * PRELU, RESHAPE); anything else is refused by name.
 *  - TF Lite is NHWC; the graph is NCHW throughout, its input included (the caller feeds NCHW), so
 *    no Transpose runs: filters are rearranged once (OHWI → OIHW, depthwise 1HWC → C1HW) and
 *    per-channel constants are reshaped to broadcast over NCHW.
 *  - SAME padding becomes explicit pads from the stored sizes (TF puts the odd pixel after).
 *  - TOCO writes PReLU as relu(x) + c·(x − |x|); that five-operator pattern is folded into one
 *    PReLU with slope 2c (x − |x| = 2·min(x, 0)), written in element-wise ops ONNX Runtime runs faster
 *    than its PRelu kernel (see `prelu`).
 *  - The batch the file was exported with becomes the dynamic `batch` dimension.
 */
import { OPSET, OnnxGraphBuilder, attr, floatTensor, int64Tensor, serializeModel, type AttributeProto } from '../../src/onnx/onnx-builder.js';
import type { ConvertedModel } from '../tfjs-to-onnx/convert.js';
import { NHWC_TO_NCHW, permute, transposeData } from '../tfjs-to-onnx/layout.js';
import { BATCH, spatialPadding, type Window2d } from '../tfjs-to-onnx/tensor-shape.js';
import type { FusedActivation, TfliteModel, TfliteOperator, TfliteTensor, WindowOptions } from './tflite-model.js';

/** Bump when the generated graph changes for the same source (invalidates the built model). */
export const TFLITE_CONVERTER_VERSION = '2';

export interface TfliteConvertOptions {
  readonly docString?: string;
  readonly metadata?: Readonly<Record<string, string>>;
}

const SUPPORTED = new Set(['ADD', 'SUB', 'MUL', 'RELU', 'RELU6', 'ABS', 'PRELU', 'CONV_2D', 'DEPTHWISE_CONV_2D', 'RESHAPE']);
const ELEMENTWISE: Readonly<Record<string, string>> = { ADD: 'Add', SUB: 'Sub', MUL: 'Mul' };

/** Which operators form a TOCO PReLU, keyed by the final ADD's position: its x and slope constant. */
interface FoldedPRelu {
  readonly x: number;
  readonly halfSlope: number;
}

function onlyConsumer(consumers: ReadonlyMap<number, number[]>, tensor: number, operator: number): boolean {
  const list = consumers.get(tensor) ?? [];
  return list.length === 1 && list[0] === operator;
}

/**
 * Finds relu(x) + c·(x − |x|) (either operand order of the ADD and MUL, nothing else reading the
 * intermediates, no fused activation): ADD position → x and c. The other four operators are skipped.
 */
function findPReluPatterns(model: TfliteModel): { folded: Map<number, FoldedPRelu>; skipped: Set<number> } {
  const producer = new Map<number, number>();
  const consumers = new Map<number, number[]>();
  model.operators.forEach((operator, position) => {
    for (const output of operator.outputs) producer.set(output, position);
    for (const input of operator.inputs) consumers.set(input, [...(consumers.get(input) ?? []), position]);
  });
  for (const output of model.outputs) consumers.set(output, [...(consumers.get(output) ?? []), -1]);
  const producedBy = (tensor: number, opcode: string): { position: number; operator: TfliteOperator } | undefined => {
    const position = producer.get(tensor);
    const operator = position === undefined ? undefined : model.operators[position];
    const plain = operator?.options.kind !== 'activation' || operator.options.activation === 'NONE';
    return operator?.opcode === opcode && plain ? { position: position!, operator } : undefined;
  };
  const isConstant = (tensor: number) => model.tensors[tensor]?.data !== undefined;
  const folded = new Map<number, FoldedPRelu>();
  const skipped = new Set<number>();
  model.operators.forEach((add, position) => {
    if (add.opcode !== 'ADD' || (add.options.kind === 'activation' && add.options.activation !== 'NONE')) return;
    for (const [reluOut, mulOut] of [add.inputs, [...add.inputs].reverse()]) {
      const relu = producedBy(reluOut, 'RELU');
      const mul = producedBy(mulOut, 'MUL');
      if (!relu || !mul) continue;
      const x = relu.operator.inputs[0];
      const halfSlope = mul.operator.inputs.find(isConstant);
      const subOut = mul.operator.inputs.find((input) => !isConstant(input));
      const sub = subOut === undefined ? undefined : producedBy(subOut, 'SUB');
      if (halfSlope === undefined || !sub || sub.operator.inputs[0] !== x) continue;
      const abs = producedBy(sub.operator.inputs[1], 'ABS');
      if (!abs || abs.operator.inputs[0] !== x) continue;
      const intermediates: [number, number][] = [
        [reluOut, position],
        [mulOut, position],
        [subOut!, mul.position],
        [sub.operator.inputs[1], sub.position],
      ];
      if (!intermediates.every(([tensor, reader]) => onlyConsumer(consumers, tensor, reader))) continue;
      folded.set(position, { x, halfSlope });
      for (const part of [relu, mul, sub, abs]) skipped.add(part.position);
      return;
    }
  });
  return { folded, skipped };
}

/** An ONNX value: its name and, for activations, its TF Lite (NHWC) shape. */
interface Value {
  readonly name: string;
  /** Rank-4 activations are held NCHW in the graph. */
  readonly nchw: boolean;
}

class TfliteGraph {
  readonly builder = new OnnxGraphBuilder();
  private readonly values = new Map<number, Value>();
  /** The scalar 0 the PReLUs share. */
  private zero?: string;
  private readonly batch: number;

  constructor(private readonly model: TfliteModel) {
    const [input, ...more] = model.inputs;
    if (input === undefined || more.length > 0) throw new Error(`${model.inputs.length} inputs: only single-input models are supported`);
    const tensor = this.tensor(input);
    if (tensor.shape.length !== 4 || tensor.type !== 'float32') throw new Error(`input "${tensor.name}" must be a float32 NHWC image batch`);
    this.batch = tensor.shape[0];
    this.builder.reserveNames(model.outputs.map((output) => this.tensor(output).name));
    const [, height, width, channels] = tensor.shape;
    this.values.set(input, { name: this.builder.addInput(tensor.name, 'float32', [BATCH, channels, height, width]), nchw: true });
  }

  convert(): void {
    const unsupported = [...new Set(this.model.operators.map((operator) => operator.opcode).filter((opcode) => !SUPPORTED.has(opcode)))];
    if (unsupported.length > 0) throw new Error(`unsupported TF Lite operators: ${unsupported.join(', ')}`);
    const { folded, skipped } = findPReluPatterns(this.model);
    this.model.operators.forEach((operator, position) => {
      const prelu = folded.get(position);
      if (prelu) this.prelu(prelu.x, prelu.halfSlope, operator.outputs[0], 2);
      else if (!skipped.has(position)) this.operator(operator);
    });
    for (const output of this.model.outputs) {
      const tensor = this.tensor(output);
      const value = this.value(output);
      if (value.nchw) throw new Error(`output "${tensor.name}": rank-4 outputs are not supported`);
      this.builder.addNamedNode('Identity', [value.name], tensor.name);
      this.builder.addOutput(tensor.name, 'float32', [BATCH, ...tensor.shape.slice(1)]);
    }
  }

  private operator(operator: TfliteOperator): void {
    const [output] = operator.outputs;
    const hint = this.tensor(output).name;
    switch (operator.opcode) {
      case 'CONV_2D':
      case 'DEPTHWISE_CONV_2D':
        return this.conv(operator, hint);
      case 'ADD':
      case 'SUB':
      case 'MUL': {
        const [a, b] = operator.inputs;
        const nchw = [a, b].some((input) => this.isActivation(input) && this.value(input).nchw);
        const name = this.builder.addNode(ELEMENTWISE[operator.opcode], [this.operand(a, nchw), this.operand(b, nchw)], hint);
        const activation = operator.options.kind === 'activation' ? operator.options.activation : 'NONE';
        return this.set(output, this.activate(name, activation, hint), nchw);
      }
      case 'RELU':
        return this.unary(operator, 'Relu');
      case 'ABS':
        return this.unary(operator, 'Abs');
      case 'RELU6': {
        const [input] = operator.inputs;
        return this.set(output, this.activate(this.value(input).name, 'RELU6', hint), this.value(input).nchw);
      }
      case 'PRELU':
        return this.prelu(operator.inputs[0], operator.inputs[1], output, 1);
      case 'RESHAPE':
        return this.reshape(operator, hint);
      default:
        throw new Error(`unsupported TF Lite operator ${operator.opcode}`);
    }
  }

  private unary(operator: TfliteOperator, opType: string): void {
    const [input] = operator.inputs;
    const [output] = operator.outputs;
    this.set(output, this.builder.addNode(opType, [this.value(input).name], this.tensor(output).name), this.value(input).nchw);
  }

  /**
   * PRelu(x, factor · slope), factor 2 where the slope is TOCO's half slope, in plain element-wise
   * ops: ONNX Runtime's CPU PRelu kernel broadcasts element by element (half of expo-mobilefacenet's
   * time, docs/BENCHMARKS.md §45). With every slope ≤ 1 it is Max(x, slope · x) exactly; otherwise
   * x + (slope − 1) · Min(x, 0) (the same function up to rounding).
   */
  private prelu(x: number, slope: number, output: number, factor: number): void {
    const constant = this.tensor(slope);
    const slopes = Float32Array.from(this.floatData(constant), (v) => v * factor);
    const { name: input, nchw } = this.value(x);
    const outputName = this.tensor(output).name;
    if (slopes.every((v) => v <= 1)) {
      const slopeName = this.constant({ ...constant, data: slopes }, nchw, `${constant.name}_slope`);
      const scaled = this.builder.addNode('Mul', [input, slopeName], `${outputName}_scaled`);
      return this.set(output, this.builder.addNode('Max', [input, scaled], outputName), nchw);
    }
    const excessName = this.constant({ ...constant, data: slopes.map((v) => v - 1) }, nchw, `${constant.name}_slope_minus_one`);
    this.zero ??= this.builder.addInitializer('zero', floatTensor([], new Float32Array(1)));
    const negative = this.builder.addNode('Min', [input, this.zero], `${outputName}_negative`);
    const excess = this.builder.addNode('Mul', [negative, excessName], `${outputName}_excess`);
    this.set(output, this.builder.addNode('Add', [input, excess], outputName), nchw);
  }

  private conv(operator: TfliteOperator, hint: string): void {
    if (operator.options.kind !== 'window') throw new Error(`${operator.opcode} "${hint}" has no window options`);
    const { window } = operator.options;
    const [input, filterIndex, biasIndex = -1] = operator.inputs;
    const x = this.tensor(input);
    const filter = this.tensor(filterIndex);
    const depthwise = operator.opcode === 'DEPTHWISE_CONV_2D';
    if (x.shape.length !== 4 || filter.shape.length !== 4) throw new Error(`${operator.opcode} "${hint}": rank-4 input and filter expected`);
    const [, height, width, inChannels] = x.shape;
    // OHWI → OIHW; depthwise 1HW(C·m) → (C·m)1HW, one group per input channel.
    const perm = depthwise ? [3, 0, 1, 2] : [0, 3, 1, 2];
    const weights = transposeData(this.floatData(filter), filter.shape, perm);
    const dims = permute(filter.shape, perm);
    const outChannels = dims[0];
    const group = depthwise ? inChannels : 1;
    if (depthwise ? outChannels !== inChannels * (window.depthMultiplier ?? 1) : dims[1] !== inChannels) {
      throw new Error(`${operator.opcode} "${hint}": filter [${filter.shape.join(',')}] does not fit ${inChannels} input channels`);
    }
    const windowAttributes = this.window(window, [height, width], [dims[2], dims[3]], hint);
    const inputs = [this.value(input).name, this.builder.addInitializer(`${filter.name}_oihw`, floatTensor(dims, weights))];
    if (biasIndex >= 0) inputs.push(this.builder.addInitializer(this.tensor(biasIndex).name, floatTensor([outChannels], this.floatData(this.tensor(biasIndex)))));
    const conv = this.builder.addNode('Conv', inputs, hint, { ...windowAttributes, group: attr.int(group) });
    this.set(operator.outputs[0], this.activate(conv, window.activation, hint), true);
  }

  private window(window: WindowOptions, spatial: readonly [number, number], kernel: readonly [number, number], hint: string): Record<string, AttributeProto> {
    const shape: Window2d = { kernel, strides: window.strides, dilations: window.dilations };
    const padding = spatialPadding(window.padding, spatial, shape, []);
    if (!('pads' in padding)) throw new Error(`"${hint}": static spatial sizes expected`);
    return { kernel_shape: attr.ints(kernel), strides: attr.ints(window.strides), dilations: attr.ints(window.dilations), pads: attr.ints(padding.pads) };
  }

  /**
   * RESHAPE to the stored shape with the batch copied from the input (ONNX 0). An NCHW input goes
   * back to NHWC order first unless its spatial size is 1x1 (then both orders hold the same values).
   */
  private reshape(operator: TfliteOperator, hint: string): void {
    const [input] = operator.inputs;
    const [output] = operator.outputs;
    const source = this.tensor(input);
    const target = this.tensor(output).shape;
    if (target[0] !== this.batch || source.shape[0] !== this.batch) throw new Error(`RESHAPE "${hint}" must keep the batch axis`);
    let name = this.value(input).name;
    if (this.value(input).nchw && source.shape.slice(1, 3).some((size) => size !== 1)) {
      name = this.builder.addNode('Transpose', [name], `${hint}_nhwc`, { perm: attr.ints([0, 2, 3, 1]) });
    }
    const shape = this.builder.addInitializer(`${hint}_shape`, int64Tensor([target.length], [0, ...target.slice(1)]));
    this.set(output, this.builder.addNode('Reshape', [name, shape], hint), false);
  }

  private activate(name: string, activation: FusedActivation, hint: string): string {
    switch (activation) {
      case 'NONE':
        return name;
      case 'RELU':
        return this.builder.addNode('Relu', [name], `${hint}_relu`);
      case 'RELU6':
        return this.clip(name, 0, 6, hint);
      case 'RELU_N1_TO_1':
        return this.clip(name, -1, 1, hint);
      case 'TANH':
        return this.builder.addNode('Tanh', [name], `${hint}_tanh`);
      default:
        throw new Error(`"${hint}": fused activation ${activation} is not supported`);
    }
  }

  private clip(name: string, low: number, high: number, hint: string): string {
    const min = this.builder.addInitializer(`${hint}_min`, floatTensor([], [low]));
    const max = this.builder.addInitializer(`${hint}_max`, floatTensor([], [high]));
    return this.builder.addNode('Clip', [name, min, max], `${hint}_clip`);
  }

  /** An operand of an elementwise operator: a computed value, or a constant laid out to broadcast against NCHW. */
  private operand(index: number, nchw: boolean): string {
    if (this.isActivation(index)) {
      const value = this.value(index);
      if (value.nchw !== nchw) throw new Error(`"${this.tensor(index).name}": mixing NCHW and other layouts is not supported`);
      return value.name;
    }
    return this.constant(this.tensor(index), nchw, this.tensor(index).name);
  }

  /** A constant as an initializer; against NCHW it is padded to rank 4 (NHWC, leading 1s) and transposed. */
  private constant(tensor: TfliteTensor, nchw: boolean, hint: string): string {
    const data = this.floatData(tensor);
    if (!nchw) return this.builder.addInitializer(hint, floatTensor(tensor.shape, data));
    if (tensor.shape.length > 4) throw new Error(`constant "${tensor.name}" has rank ${tensor.shape.length}`);
    const nhwc = [...new Array<number>(4 - tensor.shape.length).fill(1), ...tensor.shape];
    return this.builder.addInitializer(hint, floatTensor(permute(nhwc, NHWC_TO_NCHW), transposeData(data, nhwc, NHWC_TO_NCHW)));
  }

  private floatData(tensor: TfliteTensor): Float32Array {
    if (!(tensor.data instanceof Float32Array)) throw new Error(`tensor "${tensor.name}" must be a float32 constant`);
    return tensor.data;
  }

  private isActivation(index: number): boolean {
    return this.tensor(index).data === undefined;
  }

  private tensor(index: number): TfliteTensor {
    const tensor = this.model.tensors[index];
    if (!tensor) throw new Error(`tensor ${index} does not exist`);
    return tensor;
  }

  private value(index: number): Value {
    const value = this.values.get(index);
    if (!value) throw new Error(`tensor "${this.tensor(index).name}" is read before it is computed`);
    return value;
  }

  private set(index: number, name: string, nchw: boolean): void {
    this.values.set(index, { name, nchw });
  }
}

/** The model as ONNX; `inputs`/`outputs` give the graph's NCHW input and its outputs with the symbolic batch. */
export function convertTfliteModel(model: TfliteModel, options: TfliteConvertOptions = {}): ConvertedModel {
  const graph = new TfliteGraph(model);
  graph.convert();
  const onnx = serializeModel(graph.builder.toGraph('tflite'), {
    opset: OPSET,
    producerName: 'face3d tools/tflite-to-onnx',
    producerVersion: TFLITE_CONVERTER_VERSION,
    docString: options.docString,
    properties: options.metadata,
  });
  const [input] = model.inputs.map((index) => model.tensors[index]);
  const [, height, width, channels] = input.shape;
  return {
    onnx,
    inputs: [{ name: input.name, shape: [BATCH, channels, height, width] }],
    outputs: model.outputs.map((index) => ({ name: model.tensors[index].name, shape: [BATCH, ...model.tensors[index].shape.slice(1)] })),
  };
}
