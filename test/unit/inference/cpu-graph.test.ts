/**
 * The graphs the CPU sessions run (cpu-graph.ts) compute what the files' graphs compute: bit for bit
 * with pinned sizes, within rounding with the PReLUs rewritten: hand-written PReLU graphs of the three
 * forms the converters write, and the shipped networks on real LFW dev crops (skipped when the dataset
 * is absent).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import onnxProto from 'onnx-proto';
import ort from 'onnxruntime-node';
import { cpuGraph } from '../../../src/inference/cpu-graph.js';
import { closeAllModels, loadModel, type RuntimeOptions } from '../../../src/inference/onnx-runtime.js';
import { convertedModelPath, cpuGraphChanges, imageDims } from '../../../src/inference/networks.js';
import { DEFAULT_INFERENCE_SETTINGS } from '../../../src/inference/inference-settings.js';
import { decodeImage } from '../../../src/inference/decode.js';
import { sampleRegion, wholeImageRegion } from '../../../src/inference/crop.js';
import { featureInput, featureInputDims, FEATURE_NETWORKS } from '../../../src/inference/feature-networks.js';
import { DETECTOR_INPUT_SIZE } from '../../../src/inference/detector.js';
import { LANDMARK_INPUT_SIZE } from '../../../src/inference/landmarks.js';
import type { RgbImage } from '../../../src/core/image.js';
import { lfwPeople } from '../../helpers/lfw.js';
import { scratchDir, writeModel } from '../../helpers/onnx-model.js';

const { onnx } = onnxProto;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const CPU: RuntimeOptions = { device: 'cpu', threads: 1 };
const CHANNELS = 16;

type PReluForm = 'max' | 'relu-difference' | 'min-add';

const tensor = (name: string, dims: number[], values: readonly number[]) => ({ name, dims, dataType: FLOAT, floatData: [...values] });
const valueInfo = (name: string, dims: (number | string)[]) => ({
  name,
  type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
});

/** `node` on `x` [batch, 16, 8, 8] giving `z` [batch, 16, side, side], opset 17. */
function testModel(name: string, node: onnxProto.onnx.INodeProto[], initializer: onnxProto.onnx.ITensorProto[], side: number): Uint8Array {
  const input = [valueInfo('x', ['batch', CHANNELS, 8, 8])];
  const output = [valueInfo('z', ['batch', CHANNELS, side, side])];
  return onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: 17 }], graph: { name, node, initializer, input, output } })).finish();
}

/** Weights in [−0.5, 0.5), the same every run. */
function randomWeights(seed: number): (count: number) => number[] {
  const random = seeded(seed);
  return (count) => Array.from({ length: count }, () => random() - 0.5);
}

/**
 * Conv(3×3, 16 channels) → PReLU in `form` → Conv(1×1) on an NCHW input of 16 channels, 8×8: the
 * PReLU between two convolutions, as in the converted networks, so ONNX Runtime's `all` level runs
 * the convolutions in its NCHWc layout.
 */
function preluModel(form: PReluForm, slopes: readonly number[]): Uint8Array {
  const weights = randomWeights(7);
  const prelu = form === 'max'
    ? [
        { opType: 'Mul', input: ['y', 'slope'], output: ['scaled'] },
        { opType: 'Max', input: ['y', 'scaled'], output: ['p'] },
      ]
    : form === 'min-add'
    ? [
        { opType: 'Min', input: ['y', 'zero'], output: ['below'] },
        { opType: 'Mul', input: ['below', 'slope'], output: ['excess'] },
        { opType: 'Add', input: ['y', 'excess'], output: ['p'] },
      ]
    : [
        { opType: 'Relu', input: ['y'], output: ['positive'] },
        { opType: 'Neg', input: ['y'], output: ['negated'] },
        { opType: 'Relu', input: ['negated'], output: ['negative'] },
        { opType: 'Mul', input: ['negative', 'slope'], output: ['scaled'] },
        { opType: 'Sub', input: ['positive', 'scaled'], output: ['p'] },
      ];
  return testModel('prelu', [
    { opType: 'Conv', input: ['x', 'w1', 'b1'], output: ['y'], attribute: [{ name: 'pads', ints: [1, 1, 1, 1], type: onnx.AttributeProto.AttributeType.INTS }] },
    ...prelu,
    { opType: 'Conv', input: ['p', 'w2'], output: ['z'] },
  ], [
    tensor('w1', [CHANNELS, CHANNELS, 3, 3], weights(CHANNELS * CHANNELS * 9)),
    tensor('b1', [CHANNELS], weights(CHANNELS)),
    // The TF Lite form stores slope − 1.
    tensor('slope', [CHANNELS, 1, 1], form === 'min-add' ? slopes.map((s) => s - 1) : slopes),
    ...(form === 'min-add' ? [tensor('zero', [], [0])] : []),
    tensor('w2', [CHANNELS, CHANNELS, 1, 1], weights(CHANNELS * CHANNELS)),
  ], 8);
}

/** A small deterministic generator in [0, 1), so the graphs and inputs are the same every run. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return dot / Math.sqrt(aa * bb);
}

function opTypes(model: Uint8Array): string[] {
  return (onnx.ModelProto.decode(model).graph?.node ?? []).map((node) => node.opType ?? '');
}

async function session(model: Uint8Array | string): Promise<ort.InferenceSession> {
  const options: ort.InferenceSession.SessionOptions = { executionProviders: ['cpu'], intraOpNumThreads: 1, graphOptimizationLevel: 'all' };
  return typeof model === 'string' ? ort.InferenceSession.create(model, options) : ort.InferenceSession.create(model, options);
}

async function outputs(model: ort.InferenceSession, input: Float32Array, dims: readonly number[]): Promise<Record<string, Float32Array>> {
  const results = await model.run({ [model.inputNames[0]]: new ort.Tensor('float32', input, [...dims]) });
  return Object.fromEntries(Object.entries(results).map(([name, tensor]) => [name, tensor.data as Float32Array]));
}

const SLOPES = Array.from({ length: CHANNELS }, (_, c) => c / (CHANNELS - 1));
/** Every third slope negative, every third above 1. */
const MIXED_SLOPES = SLOPES.map((s, c) => (c % 3 === 0 ? -s : c % 3 === 1 ? 1 + s : s));
/** The rewritten PReLU: a depthwise convolution with the Relu, one with the Add, between the model's two convolutions. */
const REWRITTEN_OPS = ['Conv', 'Conv', 'Relu', 'Conv', 'Add', 'Conv'];

/** The largest difference of `ours` from `theirs`, relative to values above 1. */
function largestRelativeDifference(ours: Float32Array, theirs: Float32Array): number {
  expect(ours.length).toBe(theirs.length);
  let largest = 0;
  ours.forEach((value, i) => { largest = Math.max(largest, Math.abs(value - theirs[i]) / Math.max(1, Math.abs(theirs[i]))); });
  return largest;
}

/** The rewritten graph's outputs against the original's, on random inputs of both signs: they differ by rounding only (relative 1e-5). */
async function expectSameWithinRounding(original: Uint8Array, rewritten: Uint8Array, batch = 1): Promise<void> {
  const [before, after] = await Promise.all([session(original), session(rewritten)]);
  const random = seeded(11);
  for (let trial = 0; trial < 5; trial++) {
    const input = Float32Array.from({ length: batch * CHANNELS * 64 }, () => (random() - 0.5) * 8);
    const dims = [batch, CHANNELS, 8, 8];
    expect(largestRelativeDifference((await outputs(after, input, dims)).z, (await outputs(before, input, dims)).z)).toBeLessThan(1e-5);
  }
}

describe('the NCHWc PReLU rewrite', () => {
  it.each<PReluForm>(['max', 'relu-difference', 'min-add'])('rewrites the %s form into two depthwise convolutions with a Relu and an Add, the outputs moved by rounding only', async (form) => {
    const original = preluModel(form, SLOPES);
    const rewritten = cpuGraph(original, { nchwcPRelu: true });

    expect(opTypes(rewritten)).toEqual(REWRITTEN_OPS);
    await expectSameWithinRounding(original, rewritten, 2);
  });

  it.each<PReluForm>(['max', 'relu-difference', 'min-add'])('rewrites the %s form for slopes below 0 and above 1 too, within rounding', async (form) => {
    // Max(y, slope·y) is slope·y above 0 where a slope is above 1: the other of the two forms.
    const original = preluModel(form, MIXED_SLOPES);
    const rewritten = cpuGraph(original, { nchwcPRelu: true });

    expect(opTypes(rewritten)).toEqual(REWRITTEN_OPS);
    await expectSameWithinRounding(original, rewritten);
  });

  it('fails a graph whose PReLU went wrong: a plain Relu in place of the slopes is caught', async () => {
    const original = preluModel('max', SLOPES);
    const relu = onnx.ModelProto.decode(original);
    relu.graph!.node = relu.graph!.node!.flatMap((node) => (node.opType === 'Mul' ? [] : node.opType === 'Max' ? [{ opType: 'Relu', input: ['y'], output: ['p'] }] : [node]));

    await expect(expectSameWithinRounding(original, onnx.ModelProto.encode(relu).finish())).rejects.toThrow();
  });

  it.each([['fr-feature', 12, 33], ['facemesh', 20, 23], ['expo-mobilefacenet', 12, 33]] as const)("rewrites every one of %s's PReLUs (%i Adds of its own, %i PReLUs)", (network, adds, prelus) => {
    const ops = opTypes(cpuGraph(readFileSync(convertedModelPath(network)), { nchwcPRelu: true }));

    expect(ops.filter((op) => ['Max', 'Min', 'Mul', 'Sub', 'Neg'].includes(op))).toEqual([]);
    expect(ops.filter((op) => op === 'Add').length).toBe(adds + prelus);
  });

  it('drops the slopes the old nodes read, and names the new values after the PReLU', () => {
    const graph = onnx.ModelProto.decode(cpuGraph(preluModel('max', SLOPES), { nchwcPRelu: true })).graph!;

    expect(graph.initializer!.map((t) => t.name).sort()).toEqual(['b1', 'p/nchwc_prelu/minus_one', 'p/nchwc_prelu/one_minus_slope', 'w1', 'w2']);
  });

  it('drops the TF Lite form\'s zero', () => {
    const rewritten = cpuGraph(preluModel('min-add', MIXED_SLOPES), { nchwcPRelu: true });

    expect(onnx.ModelProto.decode(rewritten).graph!.initializer!.map((t) => t.name)).not.toContain('zero');
  });
});

describe('pinned input sizes', () => {
  it('writes the sizes after the batch where the graph leaves them open, and keeps the batch open', () => {
    const graph = onnx.ModelProto.decode(cpuGraph(readFileSync(convertedModelPath('blazeface')), { itemDims: imageDims(DETECTOR_INPUT_SIZE) })).graph!;
    const dims = graph.input![0].type!.tensorType!.shape!.dim!;

    expect(dims.map((d) => d.dimParam || Number(d.dimValue))).toEqual(['batch', DETECTOR_INPUT_SIZE, DETECTOR_INPUT_SIZE, 3]);
  });

  it('returns the model as it is when every size is known already and nothing else is asked', async () => {
    const model = await readFile(convertedModelPath('facemesh'));

    expect(cpuGraph(model, { itemDims: imageDims(192) })).toBe(model);
  });
});

/**
 * Conv(3×3, 16 channels) → MaxPool(2×2) → Pad of `pads` (NCHW begins, then ends) added to Conv(16 → 16 + padding) of the same input, as TF's
 * channel padding widens BlazeFace's and FaceMesh's residual streams, then a 1×1 convolution.
 */
function channelPadModel(pads: readonly number[], padded = pads[5]): Uint8Array {
  const weights = randomWeights(5);
  const wide = CHANNELS + padded;
  const ints = onnx.AttributeProto.AttributeType.INTS;
  return testModel('channel-pad', [
    { opType: 'Conv', input: ['x', 'w1', 'b1'], output: ['y'], attribute: [{ name: 'pads', ints: [1, 1, 1, 1], type: ints }] },
    { opType: 'Relu', input: ['y'], output: ['r'] },
    { opType: 'MaxPool', input: ['r'], output: ['pooled'], attribute: [{ name: 'kernel_shape', ints: [2, 2], type: ints }, { name: 'strides', ints: [2, 2], type: ints }] },
    { opType: 'Pad', input: ['pooled', 'pads'], output: ['skip'] },
    { opType: 'Conv', input: ['r', 'w2', 'b2'], output: ['branch'], attribute: [{ name: 'strides', ints: [2, 2], type: ints }] },
    { opType: 'Add', input: ['branch', 'skip'], output: ['sum'] },
    { opType: 'Relu', input: ['sum'], output: ['activated'] },
    { opType: 'Conv', input: ['activated', 'w3'], output: ['z'] },
  ], [
    tensor('w1', [CHANNELS, CHANNELS, 3, 3], weights(CHANNELS * CHANNELS * 9)),
    tensor('b1', [CHANNELS], weights(CHANNELS)),
    { name: 'pads', dims: [8], dataType: onnx.TensorProto.DataType.INT64, int64Data: [...pads] },
    tensor('w2', [wide, CHANNELS, 1, 1], weights(wide * CHANNELS)),
    tensor('b2', [wide], weights(wide)),
    tensor('w3', [CHANNELS, wide, 1, 1], weights(CHANNELS * wide)),
  ], 4);
}

describe('channel paddings as convolutions', () => {
  it('rewrites a zero padding of the channels\' end into a 1×1 convolution that copies each channel, the outputs moved by rounding only', async () => {
    const original = channelPadModel([0, 0, 0, 0, 0, 16, 0, 0]);
    const rewritten = cpuGraph(original, { nchwcChannelPad: true });

    expect(opTypes(rewritten)).toEqual(['Conv', 'Relu', 'MaxPool', 'Conv', 'Conv', 'Add', 'Relu', 'Conv']);
    const graph = onnx.ModelProto.decode(rewritten).graph!;
    const weights = graph.initializer!.find((t) => t.name === 'skip/nchwc_channel_pad/weights')!;
    expect(weights.dims!.map(Number)).toEqual([32, 16, 1, 1]);
    expect(graph.initializer!.map((t) => t.name)).not.toContain('pads');
    await expectSameWithinRounding(original, rewritten, 2);
  });

  it('leaves paddings of other axes, of the channels\' start, and those whose channels it cannot trace, as they are', () => {
    expect(opTypes(cpuGraph(channelPadModel([0, 0, 0, 0, 0, 16, 1, 1], 16), { nchwcChannelPad: true }))).toContain('Pad');
    expect(opTypes(cpuGraph(channelPadModel([0, 16, 0, 0, 0, 0, 0, 0], 16), { nchwcChannelPad: true }))).toContain('Pad');
    const untraceable = onnx.ModelProto.decode(channelPadModel([0, 0, 0, 0, 0, 16, 0, 0]));
    untraceable.graph!.node!.find((node) => node.opType === 'Pad')!.input![0] = 'x';
    expect(opTypes(cpuGraph(onnx.ModelProto.encode(untraceable).finish(), { nchwcChannelPad: true }))).toContain('Pad');
  });

  it.each([['blazeface', 2], ['facemesh', 3]] as const)("rewrites every one of %s's %i channel paddings", (network, paddings) => {
    const before = opTypes(readFileSync(convertedModelPath(network)));
    const after = opTypes(cpuGraph(readFileSync(convertedModelPath(network)), { nchwcChannelPad: true }));

    expect(before.filter((op) => op === 'Pad').length).toBeGreaterThanOrEqual(paddings);
    expect(before.filter((op) => op === 'Pad').length - after.filter((op) => op === 'Pad').length).toBe(paddings);
    expect(after.filter((op) => op === 'Conv').length - before.filter((op) => op === 'Conv').length).toBe(paddings);
  });
});

/**
 * Conv(16 → 24, 3×3) → Relu → depthwise Conv(24) → Conv(24 → 24) + the Relu's output → Relu → MaxPool → Conv(24 → 16): a stage of
 * 24 channels, as BlazeFace's first; `readByOutput` also makes the last Relu's value a graph output.
 */
function narrowStageModel(readByOutput = false): Uint8Array {
  const weights = randomWeights(3);
  const ints = onnx.AttributeProto.AttributeType.INTS;
  const narrow = 24;
  const bytes = testModel('narrow', [
    { opType: 'Conv', input: ['x', 'w1', 'b1'], output: ['y'], attribute: [{ name: 'pads', ints: [1, 1, 1, 1], type: ints }] },
    { opType: 'Relu', input: ['y'], output: ['r'] },
    { opType: 'Conv', input: ['r', 'dw', 'dwb'], output: ['d'], attribute: [{ name: 'pads', ints: [1, 1, 1, 1], type: ints }, { name: 'group', i: narrow, type: onnx.AttributeProto.AttributeType.INT }] },
    { opType: 'Conv', input: ['d', 'w2', 'b2'], output: ['p'] },
    { opType: 'Add', input: ['p', 'r'], output: ['sum'] },
    { opType: 'Relu', input: ['sum'], output: ['activated'] },
    { opType: 'MaxPool', input: ['activated'], output: ['pooled'], attribute: [{ name: 'kernel_shape', ints: [2, 2], type: ints }, { name: 'strides', ints: [2, 2], type: ints }] },
    { opType: 'Conv', input: ['pooled', 'w3'], output: ['z'] },
  ], [
    tensor('w1', [narrow, CHANNELS, 3, 3], weights(narrow * CHANNELS * 9)),
    tensor('b1', [narrow], weights(narrow)),
    tensor('dw', [narrow, 1, 3, 3], weights(narrow * 9)),
    tensor('dwb', [narrow], weights(narrow)),
    tensor('w2', [narrow, narrow, 1, 1], weights(narrow * narrow)),
    tensor('b2', [narrow], weights(narrow)),
    tensor('w3', [CHANNELS, narrow, 1, 1], weights(CHANNELS * narrow)),
  ], 4);
  if (!readByOutput) return bytes;
  const model = onnx.ModelProto.decode(bytes);
  model.graph!.output!.push(valueInfo('activated', ['batch', narrow, 8, 8]));
  return onnx.ModelProto.encode(model).finish();
}

describe('channel counts widened to whole NCHWc blocks', () => {
  it('widens a stage of 24 channels to 32 with zero filters, biases and weights, the outputs moved by rounding only', async () => {
    const original = narrowStageModel();
    const rewritten = cpuGraph(original, { nchwcWiden: true });

    const graph = onnx.ModelProto.decode(rewritten).graph!;
    const dims = Object.fromEntries(graph.initializer!.map((t) => [t.name, t.dims!.map(Number)]));
    expect(dims).toEqual({ w1: [32, 16, 3, 3], b1: [32], dw: [32, 1, 3, 3], dwb: [32], w2: [32, 32, 1, 1], b2: [32], w3: [16, 32, 1, 1] });
    expect(Number(graph.node![2].attribute!.find((a) => a.name === 'group')!.i)).toBe(32);
    await expectSameWithinRounding(original, rewritten, 2);
  });

  it('leaves a stage as it is when a value of it is read by anything but a convolution, Relu, MaxPool or Add (here a graph output)', () => {
    const original = narrowStageModel(true);

    expect(cpuGraph(original, { nchwcWiden: true })).toBe(original);
  });

  it('leaves BlazeFace no convolution outside whole blocks but its heads', () => {
    const graph = onnx.ModelProto.decode(cpuGraph(readFileSync(convertedModelPath('blazeface')), { nchwcChannelPad: true, nchwcWiden: true })).graph!;
    const initializers = new Map(graph.initializer!.map((t) => [t.name, t.dims!.map(Number)]));
    // The heads: convolutions whose outputs are reshaped into the anchors' scores and boxes, not read by a stage.
    const stageOps = new Set(['Conv', 'Relu', 'Add', 'MaxPool']);
    const inStage = (value: string): boolean => graph.node!.some((node) => stageOps.has(node.opType!) && node.input!.includes(value));
    const narrow = graph.node!.filter((node) => node.opType === 'Conv' && inStage(node.output![0]) && initializers.get(node.input![1])![0] % 16 !== 0);

    expect(narrow.map((node) => node.name)).toEqual([]);
  });
});

describe('which networks are changed', () => {
  it('rewrites fr-feature, expo-mobilefacenet, the fused fr-feature-expo and FaceMesh (float under both precisions: int8 runs them float) and not BlazeFace', () => {
    expect(cpuGraphChanges('expo-mobilefacenet', [3, 112, 112], 'fp32').nchwcPRelu).toBe(true);
    expect(cpuGraphChanges('fr-feature', [3, 112, 112], 'fp32').nchwcPRelu).toBe(true);
    expect(cpuGraphChanges('fr-feature', [3, 112, 112], 'int8').nchwcPRelu).toBe(true);
    expect(cpuGraphChanges('fr-feature-expo', [3, 112, 112], 'fp32').nchwcPRelu).toBe(true);
    expect(cpuGraphChanges('facemesh', [192, 192, 3], 'fp32').nchwcPRelu).toBe(true);
    expect(cpuGraphChanges('facemesh', [192, 192, 3], 'int8').nchwcPRelu).toBe(true);
    expect(cpuGraphChanges('blazeface', [160, 160, 3], 'fp32')).toEqual({ itemDims: [160, 160, 3], nchwcPRelu: false, nchwcChannelPad: true, nchwcWiden: true });
  });

  it('rewrites the channel paddings of BlazeFace and FaceMesh only, and widens BlazeFace only', () => {
    expect(cpuGraphChanges('facemesh', [192, 192, 3], 'fp32').nchwcWiden).toBe(false);
    expect(cpuGraphChanges('facemesh', [192, 192, 3], 'fp32').nchwcChannelPad).toBe(true);
    expect(cpuGraphChanges('blazeface', [160, 160, 3], 'int8').nchwcChannelPad).toBe(true);
    expect(cpuGraphChanges('fr-feature-expo', [3, 112, 112], 'fp32').nchwcChannelPad).toBe(false);
  });
});

const people = lfwPeople(1);
const describeWithLfw = people ? describe : describe.skip;
if (!people) console.warn('cpu-graph.test.ts: the shipped networks on real crops skipped: no LFW dev photos at ../shared/datasets/lfw/dev');

describeWithLfw('the shipped networks on LFW dev photos', () => {
  let images: RgbImage[];
  let dir: Awaited<ReturnType<typeof scratchDir>>;

  beforeAll(async () => {
    images = await Promise.all(people!.slice(0, 12).map(async (person) => decodeImage(await readFile(person.photos[0]))));
    dir = await scratchDir();
  });
  afterAll(async () => {
    await closeAllModels();
    await dir.remove();
  });

  it.each(['fr-feature', 'fr-feature-expo', 'expo-mobilefacenet'] as const)('%s as the service opens it gives the file\'s embeddings within rounding', async (name) => {
    const spec = FEATURE_NETWORKS[name];
    const path = convertedModelPath(name, DEFAULT_INFERENCE_SETTINGS);
    const served = await loadModel(path, CPU, cpuGraphChanges(name, featureInputDims(spec), 'fp32'));
    const asWritten = await session(path);
    for (const [i, image] of images.entries()) {
      const side = Math.min(image.width, image.height) * 0.45;
      const input = featureInput(spec, image, { centerX: image.width / 2, centerY: image.height / 2 - 8, side, angle: 0.02 * i }, i % 2 === 1);
      const dims = [1, ...featureInputDims(spec)];
      const ours = (await served.run({ [served.inputNames[0]]: { data: input, dims } }))[spec.output].data;
      const theirs = (await outputs(asWritten, input, dims))[spec.output];
      expect(cosine(ours, theirs)).toBeGreaterThan(1 - 1e-9);
    }
  });

  it('FaceMesh as the service opens it (PReLUs rewritten) moves the file\'s points by rounding only', async () => {
    const path = convertedModelPath('facemesh', DEFAULT_INFERENCE_SETTINGS);
    const itemDims = imageDims(LANDMARK_INPUT_SIZE);
    const served = await loadModel(path, CPU, cpuGraphChanges('facemesh', itemDims, 'fp32'));
    const asWritten = await session(path);
    let largest = 0;
    for (const [i, image] of images.entries()) {
      const side = Math.min(image.width, image.height) * 0.6;
      const input = sampleRegion(image, { centerX: image.width / 2, centerY: image.height / 2, side, angle: 0.03 * i }, LANDMARK_INPUT_SIZE, { scale: 1 / 255, offset: 0 });
      const dims = [1, ...itemDims];
      const ours = (await served.run({ [served.inputNames[0]]: { data: input, dims } })).output_mesh.data;
      const theirs = (await outputs(asWritten, input, dims)).output_mesh;
      expect(ours.length).toBe(theirs.length);
      ours.forEach((value, k) => { largest = Math.max(largest, Math.abs(value - theirs[k])); });
    }
    // Crop pixels (192 across): a thousandth of one is far below anything a fit or a crop notices.
    expect(largest).toBeLessThan(1e-3);
  });

  it('BlazeFace as the service opens it (channel paddings rewritten, first stage widened) moves the file\'s outputs by rounding only', async () => {
    const path = convertedModelPath('blazeface', DEFAULT_INFERENCE_SETTINGS);
    const itemDims = imageDims(DETECTOR_INPUT_SIZE);
    const served = await loadModel(path, CPU, cpuGraphChanges('blazeface', itemDims, 'fp32'));
    const asWritten = await session(path);
    for (const image of images) {
      const input = sampleRegion(image, wholeImageRegion(image.width, image.height), DETECTOR_INPUT_SIZE, { scale: 1 / 127.5, offset: -1 });
      const dims = [1, ...itemDims];
      const theirs = await outputs(asWritten, input, dims);
      const ours = await served.run({ [served.inputNames[0]]: { data: input, dims } });
      // Box offsets reach ~100 crop pixels and logits ~100 through 70 convolutions: 1e-4 of that is far below any box or score that matters.
      for (const [name, values] of Object.entries(theirs)) expect(largestRelativeDifference(ours[name].data, values)).toBeLessThan(1e-4);
    }
  });

  it('BlazeFace with its input size pinned gives the file\'s outputs bit for bit', async () => {
    const path = convertedModelPath('blazeface', DEFAULT_INFERENCE_SETTINGS);
    const itemDims = imageDims(DETECTOR_INPUT_SIZE);
    const pinned = await session(await writeModel(dir.path, 'blazeface-pinned.onnx', cpuGraph(await readFile(path), { itemDims })));
    const asWritten = await session(path);
    for (const image of images) {
      const input = sampleRegion(image, wholeImageRegion(image.width, image.height), DETECTOR_INPUT_SIZE, { scale: 1 / 127.5, offset: -1 });
      const dims = [1, ...itemDims];
      expect(await outputs(pinned, input, dims)).toEqual(await outputs(asWritten, input, dims));
    }
  });
});
