/**
 * fr_feature's training left a third of its bottlenecks' channels dead: weights and biases of
 * 1e-20 and below, many of them subnormal floats. They add nothing to the embedding, yet the CPU
 * still multiplies them, and every multiplication that meets a subnormal takes the slow microcode
 * path (the reason this graph ran 3–4x slower at ONNX Runtime's `all` level, and its 1x1
 * convolutions at 12–20 GFLOP/s instead of 60–110). Both rewrites below leave the function the same
 * to far below float32 resolution (docs/BENCHMARKS.md §34).
 */
import onnxPkg from 'onnx-proto';
import { GraphIndex, dims, floatValues, setFloatValues, type ModelProto, type NodeProto, type TensorProto } from '../quantize/graph.js';

const { onnx } = onnxPkg;

/** A weight or bias below this is dead: even 1e4-sized activations make it 1e-8, under float32's step at 1. */
const DEAD = 1e-12;
/** The smallest normal float32; anything nonzero below it is subnormal. */
const MIN_NORMAL = 2 ** -126;

function group(node: NodeProto): number {
  return Number(node.attribute?.find((a) => a.name === 'group')?.i ?? 1);
}

function setGroup(node: NodeProto, value: number): void {
  node.attribute!.find((a) => a.name === 'group')!.i = value;
}

/** A Conv's output, or its PRelu's when a PRelu is its only reader, and that PRelu. */
function activated(index: GraphIndex, conv: NodeProto): { end: string; prelu?: NodeProto } {
  const readers = index.consumersOf(conv.output![0]);
  const prelu = readers.length === 1 && readers[0].opType === 'PRelu' ? readers[0] : undefined;
  return { end: prelu?.output![0] ?? conv.output![0], prelu };
}

function onlyReader(index: GraphIndex, value: string): NodeProto | undefined {
  const readers = index.consumersOf(value);
  return readers.length === 1 && !index.outputs.has(value) ? readers[0] : undefined;
}

/** expand (1x1 or any group-1 Conv) → PRelu? → depthwise → PRelu? → project (1x1): a MobileFaceNet bottleneck's channel path. */
interface Bottleneck {
  readonly expand: NodeProto;
  readonly expandPRelu?: NodeProto;
  readonly depthwise: NodeProto;
  readonly depthwisePRelu?: NodeProto;
  readonly project: NodeProto;
  readonly channels: number;
}

function bottlenecks(index: GraphIndex): Bottleneck[] {
  const found: Bottleneck[] = [];
  for (const depthwise of index.graph.node ?? []) {
    const channels = group(depthwise);
    if (depthwise.opType !== 'Conv' || channels === 1) continue;
    const before = index.producers.get(depthwise.input![0]);
    const expand = before?.opType === 'PRelu' ? index.producers.get(before.input![0]) : before;
    if (expand?.opType !== 'Conv' || group(expand) !== 1) continue;
    const expandOut = activated(index, expand);
    if (expandOut.end !== depthwise.input![0] || onlyReader(index, expandOut.end) !== depthwise) continue;
    const depthwiseOut = activated(index, depthwise);
    const project = onlyReader(index, depthwiseOut.end);
    const projectWeights = project && index.initializers.get(project.input![1]);
    if (project?.opType !== 'Conv' || group(project) !== 1 || !projectWeights || dims(projectWeights).slice(2).some((d) => d !== 1)) continue;
    found.push({ expand, expandPRelu: expandOut.prelu, depthwise, depthwisePRelu: depthwiseOut.prelu, project, channels });
  }
  return found;
}

function largest(values: Float32Array, from: number, to: number): number {
  let max = 0;
  for (let i = from; i < to; i++) max = Math.max(max, Math.abs(values[i]));
  return max;
}

/** The rows (axis 0 slices) of `tensor` listed in `keep`, those in `zeroed` as zeros. */
function keepRows(tensor: TensorProto, keep: readonly number[], zeroed: ReadonlySet<number>): void {
  const shape = dims(tensor);
  const values = floatValues(tensor);
  const row = values.length / shape[0];
  const kept = new Float32Array(keep.length * row);
  keep.forEach((c, i) => zeroed.has(c) || kept.set(values.subarray(c * row, (c + 1) * row), i * row));
  setFloatValues(tensor, kept);
  tensor.dims = [keep.length, ...shape.slice(1)];
}

/**
 * Removes each bottleneck channel whose depthwise output is a constant: its expand channel is dead
 * (so the depthwise sees zeros, padding included, and writes its bias) or its depthwise filter is.
 * The constant, through the PRelu, goes into the projection's bias; the channel leaves the expand,
 * both PRelus, the depthwise and the projection's input. Enough dead channels stay, as zeros, for
 * each bottleneck to keep a `multiple` of channels. Returns the channels removed and examined.
 */
export function removeDeadChannels(model: ModelProto, multiple = 1): { removed: number; channels: number } {
  const index = new GraphIndex(model.graph!);
  const tensor = (name: string): TensorProto => index.initializers.get(name)!;
  let removed = 0;
  let channels = 0;
  for (const b of bottlenecks(index)) {
    const [expandW, expandB, depthwiseW, depthwiseB] = [b.expand.input![1], b.expand.input![2], b.depthwise.input![1], b.depthwise.input![2]].map((name) => floatValues(tensor(name)));
    const slope = b.depthwisePRelu ? floatValues(tensor(b.depthwisePRelu.input![1])) : undefined;
    const projectW = floatValues(tensor(b.project.input![1]));
    const projectB = floatValues(tensor(b.project.input![2]));
    const [perExpand, perDepthwise, outputs] = [expandW.length / b.channels, depthwiseW.length / b.channels, projectB.length];
    const live: number[] = [];
    for (let c = 0; c < b.channels; c++) {
      const expandDead = largest(expandW, c * perExpand, (c + 1) * perExpand) < DEAD && Math.abs(expandB[c]) < DEAD;
      const depthwiseDead = largest(depthwiseW, c * perDepthwise, (c + 1) * perDepthwise) < DEAD;
      if (!expandDead && !depthwiseDead) {
        live.push(c);
        continue;
      }
      const bias = depthwiseB[c];
      const constant = slope && bias < 0 ? slope[c] * bias : bias;
      for (let o = 0; o < outputs; o++) projectB[o] += projectW[o * b.channels + c] * constant;
    }
    channels += b.channels;
    const dead = [...Array(b.channels).keys()].filter((c) => !live.includes(c));
    const zeroed = new Set(dead.slice(0, (multiple - (live.length % multiple)) % multiple));
    const keep = [...live, ...zeroed].sort((x, y) => x - y);
    if (keep.length === b.channels) continue;
    removed += b.channels - keep.length;
    for (const name of [b.expand.input![1], b.expand.input![2], b.depthwise.input![1], b.depthwise.input![2]]) keepRows(tensor(name), keep, zeroed);
    for (const prelu of [b.expandPRelu, b.depthwisePRelu]) if (prelu) keepRows(tensor(prelu.input![1]), keep, zeroed);
    setGroup(b.depthwise, keep.length);
    const kept = new Float32Array(outputs * keep.length);
    for (let o = 0; o < outputs; o++) keep.forEach((c, i) => (kept[o * keep.length + i] = zeroed.has(c) ? 0 : projectW[o * b.channels + c]));
    setFloatValues(tensor(b.project.input![1]), kept);
    tensor(b.project.input![1]).dims = [outputs, keep.length, 1, 1];
    setFloatValues(tensor(b.project.input![2]), projectB);
  }
  // Shapes recorded for the old channel counts would contradict the new weights.
  model.graph!.valueInfo = [];
  return { removed, channels };
}

/** Subnormal float initializers become 0 (their products with any activation are below float32's resolution). */
export function flushSubnormals(model: ModelProto): number {
  let flushed = 0;
  for (const tensor of model.graph!.initializer ?? []) {
    if (tensor.dataType !== onnx.TensorProto.DataType.FLOAT) continue;
    const values = floatValues(tensor);
    let changed = 0;
    for (let i = 0; i < values.length; i++) {
      if (values[i] !== 0 && Math.abs(values[i]) < MIN_NORMAL) {
        values[i] = 0;
        changed++;
      }
    }
    if (changed > 0) setFloatValues(tensor, values);
    flushed += changed;
  }
  return flushed;
}
