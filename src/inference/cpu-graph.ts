/**
 * A converted network's graph adapted, in memory, to how ONNX Runtime's CPU kernels run it fastest.
 * The file on disk stays as `npm run models:build` wrote it; pinned sizes leave the outputs as they
 * are bit for bit, the NCHWc rewrites (nchwcPRelus, channelPadConvs, widenToBlocks) move them by rounding only
 * (test/unit/inference/cpu-graph.test.ts).
 */
import onnxPkg from 'onnx-proto';
import { attr } from '../onnx/onnx-builder.js';

const { onnx } = onnxPkg;

type GraphProto = onnxPkg.onnx.IGraphProto;
type NodeProto = onnxPkg.onnx.INodeProto;
type TensorProto = onnxPkg.onnx.ITensorProto;

export interface CpuGraphChanges {
  /**
   * The input's sizes after the batch dimension, written where the graph leaves them open (the
   * converted BlazeFace runs at any size): with every size known, ONNX Runtime plans the graph for
   * that shape (about 12% less CPU per detector run at 160², docs/BENCHMARKS.md §53).
   */
  readonly itemDims?: readonly number[];
  /** Rewrite the PReLUs into ops the blocked NCHWc layout runs ({@link nchwcPRelus}). */
  readonly nchwcPRelu?: boolean;
  /** Rewrite zero paddings of the channels into convolutions the NCHWc layout runs ({@link channelPadConvs}). */
  readonly nchwcChannelPad?: boolean;
  /** Widen convolutions' channel counts to whole NCHWc blocks with zero channels ({@link widenToBlocks}). */
  readonly nchwcWiden?: boolean;
}

/** The rewrites for ONNX Runtime's NCHWc layout, which only its `all` optimisation level uses. */
export const NCHWC_REWRITES = ['nchwcPRelu', 'nchwcChannelPad', 'nchwcWiden'] as const satisfies readonly (keyof CpuGraphChanges)[];

/** `model` with `changes` made; the same bytes when none applies. */
export function cpuGraph(model: Uint8Array, changes: CpuGraphChanges): Uint8Array {
  const proto = onnx.ModelProto.decode(model);
  const graph = proto.graph;
  if (!graph) return model;
  const pinned = changes.itemDims ? pinItemDims(graph, changes.itemDims) : 0;
  // The paddings first: widening reads them as the convolutions they become.
  const rewritten = (changes.nchwcPRelu ? nchwcPRelus(graph) : 0) + (changes.nchwcChannelPad ? channelPadConvs(graph) : 0) + (changes.nchwcWiden ? widenToBlocks(graph) : 0);
  return pinned + rewritten === 0 ? model : onnx.ModelProto.encode(proto).finish();
}

/** Writes `itemDims` into the first input's open dimensions after the batch one; how many it wrote. */
function pinItemDims(graph: GraphProto, itemDims: readonly number[]): number {
  const dims = graph.input?.[0]?.type?.tensorType?.shape?.dim;
  if (!dims || dims.length !== itemDims.length + 1) return 0;
  let pinned = 0;
  itemDims.forEach((size, i) => {
    const dim = dims[i + 1];
    if (dim.dimValue !== undefined && dim.dimValue !== null && Number(dim.dimValue) > 0) return;
    dims[i + 1] = { dimValue: size };
    pinned++;
  });
  return pinned;
}

/** What the rewrites look up in a graph: its constants, each value's producer and readers, its outputs. */
interface GraphIndex {
  readonly initializers: ReadonlyMap<string, TensorProto>;
  readonly producers: ReadonlyMap<string, NodeProto>;
  /** Each value's readers, a node once per input that reads it. */
  readonly consumers: ReadonlyMap<string, readonly NodeProto[]>;
  readonly graphOutputs: ReadonlySet<string>;
}

function indexGraph(graph: GraphProto): GraphIndex {
  const producers = new Map<string, NodeProto>();
  const consumers = new Map<string, NodeProto[]>();
  for (const node of graph.node ?? []) {
    for (const output of node.output ?? []) producers.set(output, node);
    for (const input of node.input ?? []) {
      const readers = consumers.get(input);
      if (readers) readers.push(node);
      else consumers.set(input, [node]);
    }
  }
  return {
    initializers: new Map((graph.initializer ?? []).map((t) => [t.name ?? '', t])),
    producers,
    consumers,
    graphOutputs: new Set((graph.output ?? []).map((o) => o.name ?? '')),
  };
}

/** Drops the initializers named in `replaced` that no node reads any more. */
function dropUnreadInitializers(graph: GraphProto, replaced: ReadonlySet<string>): void {
  const read = new Set((graph.node ?? []).flatMap((node) => node.input ?? []));
  graph.initializer = (graph.initializer ?? []).filter((t) => !replaced.has(t.name ?? '') || read.has(t.name ?? ''));
}

function floatValues(tensor: TensorProto): Float32Array | undefined {
  if (tensor.dataType !== onnx.TensorProto.DataType.FLOAT) return undefined;
  // A copy: protobufjs hands out views into a shared, often unaligned, buffer.
  if (tensor.rawData && tensor.rawData.length > 0) return new Float32Array(new Uint8Array(tensor.rawData).buffer);
  return Float32Array.from(tensor.floatData ?? []);
}

function intValues(tensor: TensorProto): number[] | undefined {
  if (tensor.dataType !== onnx.TensorProto.DataType.INT64) return undefined;
  if (tensor.rawData && tensor.rawData.length > 0) return Array.from(new BigInt64Array(new Uint8Array(tensor.rawData).buffer), Number);
  return (tensor.int64Data ?? []).map((value) => Number(value.toString()));
}

function floatInitializer(name: string, dims: readonly number[], values: Float32Array): TensorProto {
  return { name, dims: [...dims], dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(values.buffer.slice(0)) };
}

/**
 * A PReLU the converters wrote, y → out = positive·Relu(y) − negative·Relu(−y), one factor of each
 * per channel (Relu(y) − slope·Relu(−y) is 1 and slope; Max(y, slope·y) is max(1, slope) and min(1, slope);
 * y + (slope − 1)·Min(y, 0), the TF Lite converter's form, is 1 and 1 + (slope − 1)).
 */
interface PReluPattern {
  readonly y: string;
  readonly out: string;
  readonly positive: Float32Array;
  readonly negative: Float32Array;
  /** Its nodes: the last one (producing `out`) is where the rewrite goes, the others are dropped. */
  readonly nodes: readonly NodeProto[];
}

/**
 * ONNX Runtime's `all` level runs convolutions in its blocked NCHWc layout and leaves the layout
 * around every op it cannot run there: a PReLU as the converters write it, Max(y, slope·y) or
 * Relu(y) − slope·Relu(−y), costs a reorder out of the layout and one back into it on top of its own
 * passes, which was 43% of fr-feature's time (§53). Written as two passes over y, each a 1×1
 * depthwise convolution that ONNX Runtime fuses the Relu or the Add into, every op stays in the layout:
 *   y + DepthwiseConv1x1(Relu(DepthwiseConv1x1(y, −1)), 1 − negative)        where positive is 1,
 *   DepthwiseConv1x1(y, positive) + Relu(DepthwiseConv1x1(y, negative − positive))   otherwise
 * (the Max form with a slope above 1, where positive ≥ negative). Above zero the first is y and the
 * second positive·y exactly; below zero each sums two rounded products where the file's graph
 * computes one, so the outputs move by rounding (docs/BENCHMARKS.md §61: embeddings to a cosine of
 * 1 − 1e-12, landmarks by 5e-5 px). An earlier form with one more pass (a Relu of its own) computed
 * the Max and Relu-difference forms bit for bit; it cost 11–14% more CPU per network run.
 * Returns how many it rewrote.
 */
export function nchwcPRelus(graph: GraphProto): number {
  const nodes = graph.node ?? [];
  const { initializers, producers, consumers, graphOutputs } = indexGraph(graph);
  const internal = (value: string): boolean => consumers.get(value)?.length === 1 && !graphOutputs.has(value);
  const slopesOf = (name: string | undefined): Float32Array | undefined => {
    const tensor = name === undefined ? undefined : initializers.get(name);
    const values = tensor && floatValues(tensor);
    // One slope per channel: [C], [C,1,1] or [1,C,1,1].
    const dims = (tensor?.dims ?? []).map(Number);
    return values && dims.filter((d) => d !== 1).length <= 1 && values.length === Math.max(...dims, 1) ? values : undefined;
  };
  const producedBy = (value: string | undefined, op: string): NodeProto | undefined => {
    const node = value === undefined ? undefined : producers.get(value);
    return node?.opType === op ? node : undefined;
  };

  const patterns: PReluPattern[] = [];
  for (const node of nodes) {
    const [a, b] = node.input ?? [];
    const out = node.output?.[0];
    if (out === undefined || node.input?.length !== 2) continue;
    if (node.opType === 'Max') {
      // For y > 0 the larger of y and slope·y is max(1, slope)·y, for y < 0 min(1, slope)·y.
      const mul = producedBy(b, 'Mul');
      const slopes = slopesOf(mul?.input?.[1]);
      if (mul && mul.input?.[0] === a && internal(b) && slopes) {
        patterns.push({ y: a, out, positive: slopes.map((s) => Math.max(1, s)), negative: slopes.map((s) => Math.min(1, s)), nodes: [mul, node] });
      }
    } else if (node.opType === 'Sub') {
      const positive = producedBy(a, 'Relu');
      const mul = producedBy(b, 'Mul');
      const negative = producedBy(mul?.input?.[0], 'Relu');
      const negated = producedBy(negative?.input?.[0], 'Neg');
      const slopes = slopesOf(mul?.input?.[1]);
      const y = positive?.input?.[0];
      const chain = [positive, negated, negative, mul];
      if (y !== undefined && negated?.input?.[0] === y && slopes && chain.every((n) => n && internal(n.output![0]))) {
        patterns.push({ y, out, positive: new Float32Array(slopes.length).fill(1), negative: slopes, nodes: [...(chain as NodeProto[]), node] });
      }
    } else if (node.opType === 'Add') {
      // y + excess·Min(y, 0): y above 0, (1 + excess)·y below.
      for (const [y, product] of [[a, b], [b, a]]) {
        const mul = producedBy(product, 'Mul');
        const min = producedBy(mul?.input?.[0], 'Min');
        const excess = slopesOf(mul?.input?.[1]);
        const zero = min?.input?.[1] === undefined ? undefined : initializers.get(min.input[1]);
        const isZero = zero !== undefined && floatValues(zero)?.every((v) => v === 0) === true;
        if (y !== undefined && product !== undefined && mul && min && excess && isZero && min.input?.[0] === y && internal(product) && internal(min.output![0])) {
          patterns.push({ y, out, positive: new Float32Array(excess.length).fill(1), negative: excess.map((e) => 1 + e), nodes: [min, mul, node] });
          break;
        }
      }
    }
  }

  const replaced = new Map<NodeProto, NodeProto[]>();
  const dropped = new Set<NodeProto>();
  for (const { y, out, positive, negative, nodes: matched } of patterns) {
    const channels = negative.length;
    const name = (suffix: string): string => `${out}/nchwc_prelu/${suffix}`;
    const weights = (suffix: string, values: Float32Array): string => {
      graph.initializer!.push(floatInitializer(name(suffix), [channels, 1, 1, 1], values));
      return name(suffix);
    };
    const depthwise = (input: string, factors: string, output: string): NodeProto => ({
      opType: 'Conv', name: output, input: [input, factors], output: [output],
      attribute: [{ ...attr.int(channels), name: 'group' }, { ...attr.ints([1, 1]), name: 'kernel_shape' }],
    });
    const relu = (input: string, output: string): NodeProto => ({ opType: 'Relu', name: output, input: [input], output: [output] });
    // Two passes over y, each a convolution ONNX Runtime fuses the Relu or the Add into.
    replaced.set(matched[matched.length - 1], positive.every((f) => f === 1)
      ? [
          // y + (1 − negative)·Relu(−y): the Add joins the second convolution.
          depthwise(y, weights('minus_one', new Float32Array(channels).fill(-1)), name('negated')),
          relu(name('negated'), name('negative')),
          depthwise(name('negative'), weights('one_minus_slope', negative.map((f) => 1 - f)), name('scaled')),
          { opType: 'Add', name: out, input: [name('scaled'), y], output: [out] },
        ]
      : [
          // positive·y + Relu((negative − positive)·y), for positive ≥ negative (the Max form's only).
          depthwise(y, weights('slope_gap', negative.map((f, c) => f - positive[c])), name('gap')),
          relu(name('gap'), name('below')),
          depthwise(y, weights('positive_slope', positive), name('scaled')),
          { opType: 'Add', name: out, input: [name('scaled'), name('below')], output: [out] },
        ]);
    for (const node of matched.slice(0, -1)) dropped.add(node);
  }
  graph.node = nodes.flatMap((node) => replaced.get(node) ?? (dropped.has(node) ? [] : [node]));
  // The constants the old nodes read (slopes, a zero), unless another node still does.
  dropUnreadInitializers(graph, new Set(patterns.flatMap((p) => p.nodes.flatMap((n) => n.input ?? [])).filter((name) => initializers.has(name))));
  return patterns.length;
}

/** Ops whose output has as many channels as their first input that is not a constant. */
const SAME_CHANNELS: ReadonlySet<string> = new Set(['Relu', 'MaxPool', 'AveragePool', 'Add', 'Sub', 'Mul', 'Max', 'Min', 'Neg', 'Clip', 'Sigmoid', 'Identity', 'BatchNormalization']);

/**
 * The converted BlazeFace and FaceMesh widen a residual stream by padding its channels with zeros
 * (TF's channel padding: a Pad of the channel axis's end only). ONNX Runtime has no NCHWc Pad, so
 * the stream leaves the layout there and, the residual Adds reading it, stays out of it to the next
 * padding: a reorder into the layout before and one out after every convolution of that stage, and
 * Adds and Relus of their own (a quarter of FaceMesh's time). Written as a 1×1 convolution whose
 * weights copy each channel and add zero channels, it runs in the layout, and so does the rest of the
 * stage, its Adds and Relus joining the convolutions. The padding itself is exact (x·1 plus zeros);
 * the joined Adds sum in another order, so the networks' outputs move by rounding.
 * Returns how many it rewrote; a padding whose input's channel count it cannot trace is left as it is.
 */
export function channelPadConvs(graph: GraphProto): number {
  const nodes = graph.node ?? [];
  const { initializers, producers } = indexGraph(graph);
  const paddedChannels = (node: NodeProto): number | undefined => {
    const mode = node.attribute?.find((a) => a.name === 'mode')?.s;
    const pads = node.input?.[1] === undefined ? undefined : initializers.get(node.input[1]);
    const values = pads && intValues(pads);
    const fill = node.input?.[2] ? initializers.get(node.input[2]) : undefined;
    const zeroFill = !node.input?.[2] || (fill !== undefined && floatValues(fill)?.every((v) => v === 0) === true);
    const constant = !mode || mode.length === 0 || new TextDecoder().decode(mode) === 'constant';
    // NCHW: begins then ends; only the channels' end padded.
    const onlyChannelEnd = values?.length === 8 && values.every((v, i) => (i === 5 ? v > 0 : v === 0));
    return node.opType === 'Pad' && constant && zeroFill && (node.input?.length ?? 0) <= 3 && onlyChannelEnd ? values![5] : undefined;
  };
  const channelsOf = (value: string, depth = 0): number | undefined => {
    const node = producers.get(value);
    if (!node || depth > 64) return undefined;
    if (node.opType === 'Conv') {
      const weights = initializers.get(node.input?.[1] ?? '');
      return weights?.dims?.length === 4 ? Number(weights.dims[0]) : undefined;
    }
    const input = (node.input ?? []).find((name) => name !== '' && !initializers.has(name));
    if (input === undefined) return undefined;
    const padded = paddedChannels(node);
    if (padded !== undefined) {
      const channels = channelsOf(input, depth + 1);
      return channels === undefined ? undefined : channels + padded;
    }
    return SAME_CHANNELS.has(node.opType ?? '') ? channelsOf(input, depth + 1) : undefined;
  };

  const oldPads = new Set<string>();
  graph.node = nodes.map((node) => {
    const padded = paddedChannels(node);
    const input = node.input?.[0];
    const channels = padded === undefined || input === undefined ? undefined : channelsOf(input);
    if (padded === undefined || input === undefined || channels === undefined) return node;
    const out = node.output![0];
    const weights = new Float32Array((channels + padded) * channels);
    for (let c = 0; c < channels; c++) weights[c * channels + c] = 1;
    const name = `${out}/nchwc_channel_pad/weights`;
    graph.initializer!.push(floatInitializer(name, [channels + padded, channels, 1, 1], weights));
    oldPads.add(node.input![1]);
    return { opType: 'Conv', name: out, input: [input, name], output: [out], attribute: [{ ...attr.ints([1, 1]), name: 'kernel_shape' }] };
  });
  dropUnreadInitializers(graph, oldPads);
  return oldPads.size;
}

/** ONNX Runtime's NCHWc block on AVX-512: a convolution whose channel count is no multiple of it runs outside the layout. */
const NCHWC_BLOCK = 16;

/** Ops through which a value keeps its channels, one for one, and whose zero channels stay zero. */
const ZERO_KEEPING: ReadonlySet<string> = new Set(['Relu', 'MaxPool', 'Add']);

/**
 * BlazeFace's first stage runs 24 channels: no whole NCHWc block, so its 30 convolutions, Adds, Relus
 * and its MaxPool run outside the layout (with a reorder at its end), a third of the detector's time.
 * Each group of values joined by Relu, MaxPool, Add and depthwise convolutions whose channel count
 * is no multiple of the block, and which only convolutions and those ops read, is widened with zero
 * channels to the next multiple: the convolutions writing it get zero filters (and biases), the
 * depthwise ones zero filters and as many groups, the ones reading it zero weights for the new
 * channels. The zero channels stay zero (Relu, MaxPool and sums of zeros) and add nothing where they
 * are read, so the real channels are what they were up to the order of the sums (rounding).
 * Returns how many groups of values it widened.
 */
export function widenToBlocks(graph: GraphProto): number {
  const nodes = graph.node ?? [];
  const { initializers, producers, consumers, graphOutputs } = indexGraph(graph);
  const weightsOf = (conv: NodeProto): TensorProto | undefined => {
    const weights = initializers.get(conv.input?.[1] ?? '');
    return weights?.dims?.length === 4 && floatValues(weights) ? weights : undefined;
  };
  const groupOf = (conv: NodeProto): number => Number(conv.attribute?.find((a) => a.name === 'group')?.i ?? 1);
  const isDepthwise = (conv: NodeProto): boolean => {
    const weights = weightsOf(conv);
    return weights !== undefined && Number(weights.dims![1]) === 1 && groupOf(conv) === Number(weights.dims![0]) && groupOf(conv) > 1;
  };
  const dataInputs = (node: NodeProto): string[] => (node.input ?? []).filter((name) => name !== '' && !initializers.has(name));

  // Values joined by ops that keep channels one for one (union-find by value name).
  const parent = new Map<string, string>();
  const find = (value: string): string => {
    let root = value;
    while (parent.has(root) && parent.get(root) !== root) root = parent.get(root)!;
    parent.set(value, root);
    return root;
  };
  const join = (a: string, b: string): void => { parent.set(find(a), find(b)); };
  for (const node of nodes) {
    const joins = ZERO_KEEPING.has(node.opType ?? '') || (node.opType === 'Conv' && isDepthwise(node));
    if (joins) for (const input of dataInputs(node)) join(input, node.output![0]);
  }
  const groups = new Map<string, string[]>();
  for (const node of nodes) for (const value of node.output ?? []) groups.set(find(value), [...(groups.get(find(value)) ?? []), value]);

  let widened = 0;
  const replacement = new Map<string, Float32Array>();
  const newDims = new Map<string, number[]>();
  const newGroups = new Map<NodeProto, number>();
  for (const values of groups.values()) {
    // Its channel count, from the convolutions that write it; every value must be written by a convolution or an op of the group.
    const writers = values.map((value) => producers.get(value)!);
    const counts = new Set(writers.filter((node) => node.opType === 'Conv').map((conv) => Number(weightsOf(conv)?.dims?.[0] ?? -1)));
    if (counts.size !== 1) continue;
    const [channels] = [...counts];
    if (channels <= 0 || channels % NCHWC_BLOCK === 0) continue;
    const members = new Set(values);
    const writable = writers.every((node) => (node.opType === 'Conv' && weightsOf(node) !== undefined) || (ZERO_KEEPING.has(node.opType ?? '') && dataInputs(node).every((input) => members.has(input))));
    const readable = values.every((value) => !graphOutputs.has(value) && (consumers.get(value) ?? []).every((node) =>
      ZERO_KEEPING.has(node.opType ?? '') || (node.opType === 'Conv' && weightsOf(node) !== undefined && (isDepthwise(node) || groupOf(node) === 1) && node.input?.[0] === value)));
    if (!writable || !readable) continue;
    const wide = Math.ceil(channels / NCHWC_BLOCK) * NCHWC_BLOCK;
    for (const conv of writers.filter((node) => node.opType === 'Conv')) {
      const weights = weightsOf(conv)!;
      newDims.set(weights.name!, [wide, ...(newDims.get(weights.name!) ?? weights.dims!.map(Number)).slice(1)]);
      const bias = conv.input?.[2] ? initializers.get(conv.input[2]) : undefined;
      if (bias) newDims.set(bias.name!, [wide]);
      if (isDepthwise(conv)) newGroups.set(conv, wide);
    }
    for (const value of values) {
      for (const conv of (consumers.get(value) ?? []).filter((node) => node.opType === 'Conv' && !isDepthwise(node))) {
        const weights = weightsOf(conv)!;
        const dims = newDims.get(weights.name!) ?? weights.dims!.map(Number);
        newDims.set(weights.name!, [dims[0], wide, dims[2], dims[3]]);
      }
    }
    widened++;
  }
  // Each widened tensor: its old values at their places, zeros in the new rows and columns.
  for (const [name, dims] of newDims) {
    const tensor = initializers.get(name)!;
    const old = tensor.dims!.map(Number);
    const values = floatValues(tensor)!;
    const inner = old.slice(2).reduce((a, b) => a * b, 1);
    const wide = new Float32Array(dims.reduce((a, b) => a * b, 1));
    if (old.length === 1) wide.set(values);
    else for (let o = 0; o < old[0]; o++) for (let i = 0; i < old[1]; i++) wide.set(values.subarray((o * old[1] + i) * inner, (o * old[1] + i + 1) * inner), (o * dims[1] + i) * inner);
    replacement.set(name, wide);
  }
  graph.initializer = graph.initializer!.map((t) => (replacement.has(t.name ?? '') ? floatInitializer(t.name!, newDims.get(t.name!)!, replacement.get(t.name!)!) : t));
  for (const [conv, groupCount] of newGroups) {
    conv.attribute = (conv.attribute ?? []).map((a) => (a.name === 'group' ? { ...attr.int(groupCount), name: 'group' } : a));
  }
  return widened;
}
