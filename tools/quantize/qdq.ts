/**
 * Static int8 quantisation in ONNX's QDQ form, which ONNX Runtime's CPU provider fuses into
 * QLinearConv / QLinearAdd / uint8 MaxPool:
 *  - weights of every Conv int8, symmetric, one scale per output channel; biases int32 at the
 *    input's scale times the weight's;
 *  - activations uint8 with a scale and zero point from the ranges calibrated on train photos
 *    (tools/quantize/calibrate.ts); a Relu or Relu6 after a quantised node is folded into its
 *    output's QuantizeLinear (zero point 0 and the calibrated top clip exactly as Relu does);
 *  - the network's heads (nodes whose output reaches a graph output through layout ops only)
 *    stay float, so landmarks, boxes and embeddings keep their float resolution.
 * Scale-and-shift nodes after a Conv (TF.js's unfused batch norms) are folded into the Conv first.
 */
import onnxPkg from 'onnx-proto';
import { GraphIndex, dims, floatValues, initializer, setFloatValues, type ModelProto, type NodeProto } from './graph.js';

const { onnx } = onnxPkg;

export type ValueRange = readonly [number, number];
export type TensorRanges = Readonly<Record<string, ValueRange>>;

/** QuantizeLinear with a per-axis scale needs opset 13. */
const MIN_OPSET = 13;
const UINT8_MAX = 255;
const INT8_MAX = 127;
const INT32_MAX = 2 ** 31 - 1;

/** Ops that only move or squash values on the way to a graph output. */
const TO_OUTPUT = new Set(['Reshape', 'Transpose', 'Identity', 'Flatten', 'Squeeze', 'Unsqueeze', 'Sigmoid', 'Softmax']);
/** Ops ONNX Runtime runs on uint8 directly when their input and output share one scale. */
const SAME_SCALE = new Set(['MaxPool']);

function constantScalar(index: GraphIndex, name: string | undefined): number | undefined {
  const tensor = name === undefined ? undefined : index.floatInitializer(name);
  if (!tensor) return undefined;
  const values = floatValues(tensor);
  return values.length === 1 ? values[0] : undefined;
}

/** Per-output-channel values of a Mul/Add constant after a Conv with `channels` outputs, or undefined. */
function channelConstant(index: GraphIndex, name: string, channels: number): Float32Array | undefined {
  const tensor = index.floatInitializer(name);
  if (!tensor) return undefined;
  const shape = dims(tensor);
  const values = floatValues(tensor);
  if (values.length === 1) return new Float32Array(channels).fill(values[0]);
  const channelAxis = shape.length - 3;
  const fits = values.length === channels && channelAxis >= 0 && shape[channelAxis] === channels && (shape.length < 4 || shape[0] === 1);
  return fits ? values : undefined;
}

/** Conv → Mul(const) → Add(const) becomes one Conv with scaled weights and a bias (batch norm left unfused by TF.js). */
export function foldConvAffine(model: ModelProto): void {
  const graph = model.graph!;
  for (let changed = true; changed; ) {
    changed = false;
    const index = new GraphIndex(graph);
    for (const conv of graph.node ?? []) {
      if (conv.opType !== 'Conv') continue;
      const output = conv.output![0];
      const next = index.consumersOf(output);
      if (next.length !== 1 || index.outputs.has(output) || !['Mul', 'Add'].includes(next[0].opType!)) continue;
      const step = next[0];
      const constantName = step.input!.find((input) => input !== output)!;
      const weights = index.initializers.get(conv.input![1]);
      if (!weights || (index.consumersOf(weights.name!).length !== 1)) continue;
      const channels = dims(weights)[0];
      const constant = channelConstant(index, constantName, channels);
      if (!constant) continue;
      const biasName = conv.input![2];
      const bias = biasName ? floatValues(index.initializers.get(biasName)!) : new Float32Array(channels);
      if (step.opType === 'Mul') {
        const w = floatValues(weights);
        const perChannel = w.length / channels;
        for (let i = 0; i < w.length; i++) w[i] *= constant[Math.floor(i / perChannel)];
        setFloatValues(weights, w);
        for (let c = 0; c < channels; c++) bias[c] *= constant[c];
      } else {
        for (let c = 0; c < channels; c++) bias[c] += constant[c];
      }
      if (biasName) {
        setFloatValues(index.initializers.get(biasName)!, bias);
      } else {
        const name = `${weights.name}_folded_bias`;
        graph.initializer!.push(initializer(name, [channels], bias));
        conv.input = [conv.input![0], conv.input![1], name];
      }
      conv.output = [step.output![0]];
      graph.node = graph.node!.filter((node) => node !== step);
      changed = true;
      break;
    }
  }
}

/** Relu, Relu6 (Min 6 then Max 0, or Clip 0..6) after `value`: the chain's nodes and its last output, when it clamps at 0 from below. */
function activationChain(index: GraphIndex, value: string): { nodes: NodeProto[]; end: string } | undefined {
  const nodes: NodeProto[] = [];
  let end = value;
  let low = -Infinity;
  for (;;) {
    const next = index.consumersOf(end);
    if (next.length !== 1 || index.outputs.has(end)) break;
    const node = next[0];
    const other = node.input!.slice(1);
    if (node.opType === 'Relu') low = Math.max(low, 0);
    else if (node.opType === 'Max' && constantScalar(index, other[0]) !== undefined) low = Math.max(low, constantScalar(index, other[0])!);
    else if (node.opType === 'Min' && constantScalar(index, other[0]) !== undefined) { /* the top is clipped by the calibrated range */ }
    else if (node.opType === 'Clip' && constantScalar(index, other[0]) !== undefined) low = Math.max(low, constantScalar(index, other[0])!);
    else break;
    nodes.push(node);
    end = node.output![0];
  }
  return nodes.length > 0 && low === 0 ? { nodes, end } : undefined;
}

/** Whether `value` reaches a graph output through TO_OUTPUT ops only. */
function feedsOutput(index: GraphIndex, value: string, seen = new Set<string>()): boolean {
  if (index.outputs.has(value)) return true;
  if (seen.has(value)) return false;
  seen.add(value);
  return index.consumersOf(value).some((node) => TO_OUTPUT.has(node.opType!) && feedsOutput(index, node.output![0], seen));
}

export interface QuantParams {
  readonly scale: number;
  readonly zeroPoint: number;
}

/** uint8 asymmetric parameters covering `range` and 0 (so zero padding is exact). */
export function uint8Params([low, high]: ValueRange): QuantParams {
  const lo = Math.min(low, 0);
  const hi = Math.max(high, 0, lo + 1e-6);
  const scale = (hi - lo) / UINT8_MAX;
  return { scale, zeroPoint: Math.min(UINT8_MAX, Math.max(0, Math.round(-lo / scale))) };
}

export interface QuantisedValue {
  /** The value the DequantizeLinear writes: the end of a folded Relu chain, or the value itself. */
  readonly end: string;
  /** The value whose calibrated range sets the parameters. */
  readonly range: string;
}

/** Which nodes run quantised, and which values are quantised with which calibrated range. */
export interface QuantPlan {
  readonly nodes: ReadonlySet<NodeProto>;
  /** Quantised values, keyed by the value the QuantizeLinear reads (before any renaming). */
  readonly values: ReadonlyMap<string, QuantisedValue>;
  /** Folded activation nodes, removed from the graph. */
  readonly folded: ReadonlySet<NodeProto>;
}

/** Names of nodes' outputs (the first one) left float: layers whose int8 error the embeddings feel most. */
export type KeepFloat = ReadonlySet<string>;

function isQuantisable(index: GraphIndex, node: NodeProto, keepFloat: KeepFloat): boolean {
  if (keepFloat.has(node.output![0])) return false;
  if (node.opType === 'Conv') return index.isConstant(node.input![1]) && !feedsOutput(index, node.output![0]);
  if (node.opType === 'Add') return node.input!.every((input) => !index.isConstant(input)) && !feedsOutput(index, node.output![0]);
  return false;
}

export function planQuantisation(index: GraphIndex, keepFloat: KeepFloat = new Set()): QuantPlan {
  const nodes = new Set<NodeProto>();
  const values = new Map<string, QuantisedValue>();
  const folded = new Set<NodeProto>();
  /** Names a DequantizeLinear writes, i.e. values already quantised for their readers. */
  const ends = new Set<string>();
  const quantise = (value: string, entry: QuantisedValue): void => {
    values.set(value, entry);
    ends.add(entry.end);
  };
  // Graph order is topological: a value's producer is planned before its readers.
  for (const node of index.graph.node ?? []) {
    const input = node.input?.[0];
    if (isQuantisable(index, node, keepFloat)) {
      nodes.add(node);
      for (const x of node.input!.slice(0, node.opType === 'Conv' ? 1 : undefined)) if (!ends.has(x)) quantise(x, { end: x, range: x });
      const output = node.output![0];
      const chain = activationChain(index, output);
      for (const n of chain?.nodes ?? []) folded.add(n);
      const end = chain?.end ?? output;
      quantise(output, { end, range: end });
    } else if (SAME_SCALE.has(node.opType!) && input !== undefined && ends.has(input) && !feedsOutput(index, node.output![0])) {
      // A MaxPool reading a quantised value keeps its scale, so ONNX Runtime runs it on uint8.
      nodes.add(node);
      const range = [...values.values()].find((v) => v.end === input)!.range;
      quantise(node.output![0], { end: node.output![0], range });
    }
  }
  return { nodes, values, folded };
}

/** The outputs of the depthwise (grouped) convolutions, after folding: the layers int8 costs most accuracy for least time. */
export function depthwiseConvs(model: ModelProto): string[] {
  const copy = onnx.ModelProto.decode(onnx.ModelProto.encode(model).finish());
  foldConvAffine(copy);
  const grouped = (node: NodeProto): boolean => Number(node.attribute?.find((a) => a.name === 'group')?.i ?? 1) > 1;
  return copy.graph!.node!.filter((node) => node.opType === 'Conv' && grouped(node)).map((node) => node.output![0]);
}

/** The values whose calibrated ranges the plan needs (what tools/quantize/calibrate.ts measures). */
export function rangesNeeded(model: ModelProto, keepFloat?: KeepFloat): string[] {
  const copy = onnx.ModelProto.decode(onnx.ModelProto.encode(model).finish());
  foldConvAffine(copy);
  return [...new Set([...planQuantisation(new GraphIndex(copy.graph!), keepFloat).values.values()].map((v) => v.range))].sort();
}

/** Symmetric int8 weights with one scale per output channel (axis 0). */
export function quantiseWeights(weights: Float32Array, channels: number): { values: Int8Array; scales: Float32Array } {
  const perChannel = weights.length / channels;
  const values = new Int8Array(weights.length);
  const scales = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    let max = 0;
    for (let i = c * perChannel; i < (c + 1) * perChannel; i++) max = Math.max(max, Math.abs(weights[i]));
    const scale = max > 0 ? max / INT8_MAX : 1;
    scales[c] = scale;
    for (let i = c * perChannel; i < (c + 1) * perChannel; i++) values[i] = Math.round(weights[i] / scale);
  }
  return { values, scales };
}

/**
 * `model` (float32) rewritten in QDQ form with `ranges` (value → [min, max] over calibration
 * inputs, for every name rangesNeeded lists). The model is modified in place and returned.
 */
export function quantiseQdq(model: ModelProto, ranges: TensorRanges, keepFloat?: KeepFloat): ModelProto {
  for (const opset of model.opsetImport ?? []) if ((opset.domain ?? '') === '' && Number(opset.version) < MIN_OPSET) opset.version = MIN_OPSET;
  foldConvAffine(model);
  const graph = model.graph!;
  const index = new GraphIndex(graph);
  const plan = planQuantisation(index, keepFloat);
  const missing = [...new Set([...plan.values.values()].map((v) => v.range))].filter((name) => !ranges[name]);
  if (missing.length > 0) throw new Error(`no calibrated range for ${missing.length} values (${missing.slice(0, 3).join(', ')}…): run the calibration again (tools/quantize/calibrate.ts)`);

  const params = new Map<string, QuantParams>();
  const inserted = new Map<string, NodeProto[]>();
  const renamedInputs = new Map<string, string>();
  const added: onnxPkg.onnx.ITensorProto[] = [];
  const graphInputs = new Set((graph.input ?? []).map((i) => i.name!));
  const atStart: NodeProto[] = [];

  for (const [value, { end, range }] of plan.values) {
    // A MaxPool's output shares its input's parameters (same range), so both are the same numbers.
    const p = uint8Params(ranges[range]);
    params.set(end, p);
    const producer = index.producers.get(value);
    const scale = `${value}_scale`;
    const zeroPoint = `${value}_zero_point`;
    added.push(initializer(scale, [], Float32Array.of(p.scale)), initializer(zeroPoint, [], Uint8Array.of(p.zeroPoint)));
    const quantised = `${value}_quantized`;
    let source = value;
    let dequantised = end;
    if (graphInputs.has(value)) {
      dequantised = `${value}_dequantized`;
      renamedInputs.set(value, dequantised);
    } else if (end === value) {
      source = `${value}_float`;
      producer!.output = producer!.output!.map((o) => (o === value ? source : o));
    }
    const pair: NodeProto[] = [
      { opType: 'QuantizeLinear', name: `${value}_quantize`, input: [source, scale, zeroPoint], output: [quantised] },
      { opType: 'DequantizeLinear', name: `${value}_dequantize`, input: [quantised, scale, zeroPoint], output: [dequantised] },
    ];
    if (producer) inserted.set(producer.output![0], pair);
    else atStart.push(...pair);
  }

  const weightNodes: NodeProto[] = [];
  for (const node of plan.nodes) {
    if (node.opType !== 'Conv') continue;
    const [x, w, b] = node.input!;
    const input = params.get(x)!;
    const weights = index.initializers.get(w)!;
    const shape = dims(weights);
    const { values, scales } = quantiseWeights(floatValues(weights), shape[0]);
    const wName = `${node.output![0]}_weight`;
    added.push(initializer(`${wName}_quantized`, shape, values), initializer(`${wName}_scale`, [shape[0]], scales), initializer(`${wName}_zero_point`, [shape[0]], new Int8Array(shape[0])));
    weightNodes.push({ opType: 'DequantizeLinear', name: `${wName}_dequantize`, input: [`${wName}_quantized`, `${wName}_scale`, `${wName}_zero_point`], output: [wName], attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 0 }] });
    const inputs = [x, wName];
    if (b) {
      const bias = floatValues(index.initializers.get(b)!);
      const biasScales = scales.map((s) => s * input.scale);
      const quantisedBias = Int32Array.from(bias, (v, c) => Math.max(-INT32_MAX, Math.min(INT32_MAX, Math.round(v / biasScales[c]))));
      const bName = `${node.output![0]}_bias`;
      added.push(initializer(`${bName}_quantized`, [shape[0]], quantisedBias), initializer(`${bName}_scale`, [shape[0]], biasScales), initializer(`${bName}_zero_point`, [shape[0]], new Int32Array(shape[0])));
      weightNodes.push({ opType: 'DequantizeLinear', name: `${bName}_dequantize`, input: [`${bName}_quantized`, `${bName}_scale`, `${bName}_zero_point`], output: [bName], attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 0 }] });
      inputs.push(bName);
    }
    node.input = inputs;
  }

  const nodes: NodeProto[] = [...atStart, ...weightNodes];
  for (const node of graph.node ?? []) {
    if (plan.folded.has(node)) continue;
    node.input = node.input!.map((input) => renamedInputs.get(input) ?? input);
    nodes.push(node);
    for (const output of node.output ?? []) nodes.push(...(inserted.get(output) ?? []));
  }
  graph.node = nodes;
  const used = new Set(nodes.flatMap((node) => node.input ?? []));
  graph.initializer = [...(graph.initializer ?? []).filter((t) => used.has(t.name!)), ...added];
  graph.valueInfo = [];
  return model;
}
