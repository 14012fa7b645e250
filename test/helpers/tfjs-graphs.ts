/**
 * Builds tiny TF.js graph models in memory, runs them with @tensorflow/tfjs (CPU) and, converted,
 * with onnxruntime-node, and compares the two.
 */
import { expect } from '@jest/globals';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { convertGraphModel, type ConvertOptions } from '../../tools/tfjs-to-onnx/convert.js';
import type { GraphModelSource, QuantizationDtype, TfAttrValue, TfNode, WeightSpec } from '../../tools/tfjs-to-onnx/graph-model.js';
import { mulberry32 } from '../../src/training/random.js';

// Silences the "install tfjs-node" banner; the CPU backend is the reference on purpose.
tf.enableProdMode();

const base64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

/** Attribute builders in the JSON form tfjs-converter writes. */
export const a = {
  s: (text: string): TfAttrValue => ({ s: base64(text) }),
  i: (value: number): TfAttrValue => ({ i: String(value) }),
  f: (value: number): TfAttrValue => ({ f: value }),
  b: (value: boolean): TfAttrValue => ({ b: value }),
  ints: (values: readonly number[]): TfAttrValue => ({ list: { i: values.map(String) } }),
  strings: (values: readonly string[]): TfAttrValue => ({ list: { s: values.map(base64) } }),
  type: (dtype: 'DT_FLOAT' | 'DT_INT32'): TfAttrValue => ({ type: dtype }),
};

export function op(name: string, opName: string, input: readonly string[], attr: Record<string, TfAttrValue> = {}): TfNode {
  return { name, op: opName, input, attr: { T: a.type('DT_FLOAT'), ...attr } };
}

/** A float32 input; -1 for dynamic dims. */
export function placeholder(name: string, shape: readonly number[]): TfNode {
  return { name, op: 'Placeholder', attr: { dtype: a.type('DT_FLOAT'), shape: { shape: { dim: shape.map((size) => ({ size: String(size) })) } } } };
}

export interface Weight {
  readonly name: string;
  readonly shape: readonly number[];
  readonly values: ArrayLike<number>;
  readonly dtype?: 'float32' | 'int32';
  readonly quantization?: QuantizationDtype;
}

/** float32 -> IEEE half bits, rounded to nearest (normal and subnormal range). */
export function float16Bits(value: number): number {
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
  const magnitude = Math.abs(value);
  if (magnitude >= 65520) return sign | 0x7c00;
  if (magnitude < 2 ** -14) return sign | Math.round(magnitude / 2 ** -24);
  const exponent = Math.floor(Math.log2(magnitude));
  const fraction = Math.round((magnitude / 2 ** exponent - 1) * 1024);
  return fraction === 1024 ? sign | ((exponent + 16) << 10) : sign | ((exponent + 15) << 10) | fraction;
}

function encodeWeight(weight: Weight): { spec: WeightSpec; bytes: Uint8Array } {
  const dtype = weight.dtype ?? 'float32';
  const values = Array.from(weight.values);
  const spec = { name: weight.name, shape: [...weight.shape], dtype };
  if (weight.quantization === 'float16') {
    return { spec: { ...spec, quantization: { dtype: 'float16' } }, bytes: new Uint8Array(Uint16Array.from(values, float16Bits).buffer) };
  }
  if (weight.quantization) {
    const levels = weight.quantization === 'uint8' ? 255 : 65535;
    const min = Math.min(...values);
    const scale = (Math.max(...values) - min) / levels || 1;
    const quantised = values.map((v) => Math.round((v - min) / scale));
    const stored = weight.quantization === 'uint8' ? Uint8Array.from(quantised) : Uint16Array.from(quantised);
    return { spec: { ...spec, quantization: { dtype: weight.quantization, scale, min } }, bytes: new Uint8Array(stored.buffer) };
  }
  const stored = dtype === 'float32' ? Float32Array.from(values) : Int32Array.from(values);
  return { spec, bytes: new Uint8Array(stored.buffer) };
}

function constNode(weight: Weight): TfNode {
  const dtype = weight.dtype === 'int32' ? 'DT_INT32' : 'DT_FLOAT';
  return {
    name: weight.name,
    op: 'Const',
    attr: { value: { tensor: { dtype, tensorShape: { dim: weight.shape.map((size) => ({ size: String(size) })) } } } as TfAttrValue, dtype: a.type(dtype) },
  };
}

/** A graph model with one Const node per weight; weight bytes concatenated in order. */
export function graphModel(nodes: readonly TfNode[], weights: readonly Weight[] = []): GraphModelSource {
  const encoded = weights.map(encodeWeight);
  return {
    json: {
      format: 'graph-model',
      modelTopology: { node: [...weights.map(constNode), ...nodes], versions: {} },
      weightsManifest: [{ paths: ['weights.bin'], weights: encoded.map((e) => e.spec) }],
    },
    weightData: new Uint8Array(Buffer.concat(encoded.map((e) => e.bytes))),
  };
}

export function randomValues(count: number, seed: number, low = -1, high = 1): Float32Array {
  const random = mulberry32(seed);
  return Float32Array.from({ length: count }, () => low + (high - low) * random());
}

export interface Feed {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export function randomFeed(shape: readonly number[], seed: number, low = -1, high = 1): Feed {
  return { shape, data: randomValues(shape.reduce((x, y) => x * y, 1), seed, low, high) };
}

export interface Result {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export async function runTfjs(source: GraphModelSource, feeds: Record<string, Feed>, outputs: readonly string[]): Promise<Result[]> {
  const { json, weightData } = source;
  const model = await tf.loadGraphModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest.flatMap((group) => group.weights) as tf.io.WeightsManifestEntry[],
      weightData: weightData.slice().buffer,
    }),
  );
  const inputs = Object.fromEntries(Object.entries(feeds).map(([name, feed]) => [name, tf.tensor(feed.data, [...feed.shape], 'float32')]));
  const result = model.execute(inputs, [...outputs]);
  const tensors = Array.isArray(result) ? result : [result];
  const values = tensors.map((t) => ({ shape: t.shape, data: Float32Array.from(t.dataSync()) }));
  tf.dispose([...tensors, ...Object.values(inputs)]);
  model.dispose();
  return values;
}

export async function runOnnx(onnx: Uint8Array, feeds: Record<string, Feed>, outputs: readonly string[]): Promise<Result[]> {
  const session = await ort.InferenceSession.create(onnx);
  const inputs = Object.fromEntries(Object.entries(feeds).map(([name, feed]) => [name, new ort.Tensor('float32', feed.data, [...feed.shape])]));
  const result = await session.run(inputs);
  await session.release();
  return outputs.map((name) => ({ shape: result[name].dims.map(Number), data: result[name].data as Float32Array }));
}

export function maxAbs(values: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < values.length; i++) max = Math.max(max, Math.abs(values[i]));
  return max;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

/** Same shape and max |diff| <= 1e-4 * max(1, max |expected|). */
export function expectClose(actual: Result, expected: Result): void {
  expect(actual.shape).toEqual(expected.shape);
  expect(actual.data.length).toBe(expected.data.length);
  expect(maxAbsDiff(actual.data, expected.data)).toBeLessThanOrEqual(1e-4 * Math.max(1, maxAbs(expected.data)));
}

/**
 * Converts `source` exposing `outputs` (TF node names, used as ONNX output names too), runs both
 * with `feeds` and expects the same results. Returns the ONNX bytes for further checks.
 */
export async function expectSameAsTfjs(source: GraphModelSource, feeds: Record<string, Feed>, outputs: readonly string[], options: ConvertOptions = {}): Promise<Uint8Array> {
  const { onnx } = convertGraphModel(source, { outputs: outputs.map((node) => ({ node, name: node })), ...options });
  const [expected, actual] = await Promise.all([runTfjs(source, feeds, outputs), runOnnx(onnx, feeds, outputs)]);
  outputs.forEach((_, i) => expectClose(actual[i], expected[i]));
  return onnx;
}

/** Sample `index` of a batched result, as a batch of one. */
export function sample(result: Result, index: number): Result {
  const size = result.data.length / result.shape[0];
  return { shape: [1, ...result.shape.slice(1)], data: result.data.slice(index * size, (index + 1) * size) };
}

/**
 * For graphs fixed at batch 1: the converted model run on `count` samples at once equals tfjs
 * run on each sample alone.
 */
export async function expectBatchMatchesSingles(source: GraphModelSource, input: string, sampleShape: readonly number[], outputs: readonly string[], count = 3): Promise<void> {
  const { onnx } = convertGraphModel(source, { outputs: outputs.map((node) => ({ node, name: node })) });
  const singles = Array.from({ length: count }, (_, i) => randomFeed([1, ...sampleShape], 100 + i));
  const batch: Feed = { shape: [count, ...sampleShape], data: Float32Array.from(singles.flatMap((s) => Array.from(s.data))) };
  const batched = await runOnnx(onnx, { [input]: batch }, outputs);
  for (const [i, single] of singles.entries()) {
    const expected = await runTfjs(source, { [input]: single }, outputs);
    outputs.forEach((_, o) => expectClose(sample(batched[o], i), expected[o]));
  }
}

export function int32Weight(name: string, shape: readonly number[], values: readonly number[]): Weight {
  return { name, shape, values, dtype: 'int32' };
}

/**
 * Input "x" [batch, height, width, 3] through a 1x1 convolution to "c" [batch, height, width,
 * channels]: a tensor the converter holds transposed (NCHW), to test layout handling on.
 */
export function transposedFixture({ batch = -1, height = 5, width = 5, channels = 4 } = {}): { nodes: TfNode[]; filter: Weight } {
  const attrs = { strides: a.ints([1, 1, 1, 1]), padding: a.s('VALID'), data_format: a.s('NHWC'), dilations: a.ints([1, 1, 1, 1]) };
  return {
    nodes: [placeholder('x', [batch, height, width, 3]), op('c', 'Conv2D', ['x', 'filter'], attrs)],
    filter: { name: 'filter', shape: [1, 1, 3, channels], values: randomValues(3 * channels, 1) },
  };
}
