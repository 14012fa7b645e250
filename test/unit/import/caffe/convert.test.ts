import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import onnxProto from 'onnx-proto';
import { decodeNet, parseNetText } from '../../../../src/import/caffe/caffe-proto.js';
import { convertCaffeModel } from '../../../../src/import/caffe/convert.js';
import { closeAllModels, loadModel } from '../../../../src/inference/onnx-runtime.js';
import { mulberry32 } from '../../../../src/training/random.js';
import { resnetNet, uniformBlob, writeCaffemodel, writeMeanBinaryproto, writePrototxt, type SyntheticBlob, type SyntheticLayer, type SyntheticNet } from '../../../../tools/import/caffe-synthetic.js';
import { caffeForward } from '../../../helpers/caffe-reference.js';

let dir: string;
let fileCount = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'face3d-caffe-'));
});

afterAll(closeAllModels);

interface RunResult {
  readonly outputs: Record<string, { data: Float32Array; dims: readonly number[] }>;
  readonly reference: Map<string, { data: Float64Array }>;
  readonly opTypes: string[];
}

/** Converts the synthetic net, runs it in ONNX Runtime on random raw pixels, and runs the reference on the same input. */
async function convertAndRun(net: SyntheticNet, options: { mean?: SyntheticBlob; legacy?: boolean; seed?: number } = {}): Promise<RunResult> {
  const prototxt = writePrototxt(net);
  const caffemodel = writeCaffemodel(net, options.legacy);
  const converted = convertCaffeModel({ prototxt, caffemodel, mean: options.mean ? writeMeanBinaryproto(options.mean) : undefined });
  const path = join(dir, `net-${fileCount++}.onnx`);
  await writeFile(path, converted.onnx);
  const model = await loadModel(path, { device: 'cpu', threads: 1 });
  const input = uniformBlob(mulberry32(options.seed ?? 7), [1, ...net.input.dims], 0, 255);
  const outputs = await model.run({ [net.input.name]: { data: input.data, dims: input.dims } });
  const centred = Float64Array.from(input.data, (v, i) => v - (options.mean ? options.mean.data[options.mean.data.length === input.data.length ? i : Math.floor(i / (input.data.length / 3))] : 0));
  const reference = caffeForward(parseNetText(prototxt), decodeNet(caffemodel), net.input.name, { dims: net.input.dims, data: centred });
  const graph = onnxProto.onnx.ModelProto.decode(converted.onnx).graph!;
  return { outputs, reference, opTypes: graph.node!.map((n) => n.opType!) };
}

function maxAbsDifference(actual: Float32Array, expected: Float64Array): number {
  expect(actual.length).toBe(expected.length);
  return actual.reduce((worst, v, i) => Math.max(worst, Math.abs(v - expected[i])), 0);
}

function expectOutputsMatch(result: RunResult, blobs: readonly string[], tolerance = 1e-5): void {
  expect(Object.keys(result.outputs).sort()).toEqual([...blobs].sort());
  for (const blob of blobs) expect(maxAbsDifference(result.outputs[blob].data, result.reference.get(blob)!.data)).toBeLessThanOrEqual(tolerance);
}

const random = mulberry32(42);
const blob = (...dims: number[]): SyntheticBlob => uniformBlob(random, dims, -0.5, 0.5);
const positive = (...dims: number[]): SyntheticBlob => uniformBlob(random, dims, 0.5, 2);

function net(layers: SyntheticLayer[], dims: readonly [number, number, number] = [3, 9, 11], inputStyle: SyntheticNet['inputStyle'] = 'input_dim'): SyntheticNet {
  return { name: 'unit', input: { name: 'data', dims }, inputStyle, layers };
}

/** Keeps pixel-scale inputs (0..255) in a range where float32 and float64 agree to 1e-5. */
const SCALE_DOWN: SyntheticLayer = { name: 'shrink', type: 'Scale', bottom: ['data'], top: ['x'], params: 'scale_param { bias_term: false }', blobs: [{ dims: [3], data: Float32Array.of(1 / 255, 1 / 255, 1 / 255) }] };

describe('Caffe to ONNX conversion', () => {
  it('folds Convolution + BatchNorm + Scale into one Conv (pads, strides, kernel _h/_w, dilation, groups)', async () => {
    const result = await convertAndRun(net([
      SCALE_DOWN,
      { name: 'conv', type: 'Convolution', bottom: ['x'], top: ['conv'], params: 'convolution_param { num_output: 4 kernel_h: 3 kernel_w: 2 pad_h: 1 pad_w: 2 stride_h: 2 stride_w: 1 bias_term: true }', blobs: [blob(4, 3, 3, 2), blob(4)] },
      { name: 'bn', type: 'BatchNorm', bottom: ['conv'], top: ['conv'], blobs: [blob(4), positive(4), { dims: [1], data: Float32Array.of(0.5) }] },
      { name: 'sc', type: 'Scale', bottom: ['conv'], top: ['conv'], params: 'scale_param { bias_term: true }', blobs: [positive(4), blob(4)] },
      { name: 'relu', type: 'ReLU', bottom: ['conv'], top: ['conv'], params: 'relu_param { negative_slope: 0.1 }' },
      { name: 'grouped', type: 'Convolution', bottom: ['conv'], top: ['grouped'], params: 'convolution_param { num_output: 6 kernel_size: 3 pad: 2 dilation: 2 group: 2 bias_term: false }', blobs: [blob(6, 2, 3, 3)] },
    ]));
    expectOutputsMatch(result, ['grouped']);
    // The input Scale has no producer to fold into and stays Mul + Add; BatchNorm and Scale vanish into the Conv.
    expect(result.opTypes).toEqual(['Mul', 'Add', 'Conv', 'LeakyRelu', 'Conv']);
  });

  it('pools like Caffe: ceil-mode sizes, padded AVE windows clipped to the padded image, global and FLOOR pooling', async () => {
    const result = await convertAndRun(net([
      SCALE_DOWN,
      { name: 'max', type: 'Pooling', bottom: ['x'], top: ['max'], params: 'pooling_param { pool: MAX kernel_size: 3 stride: 2 }' },
      { name: 'ave', type: 'Pooling', bottom: ['x'], top: ['ave'], params: 'pooling_param { pool: AVE kernel_size: 3 stride: 2 pad: 1 }' },
      { name: 'ave0', type: 'Pooling', bottom: ['x'], top: ['ave0'], params: 'pooling_param { pool: AVE kernel_h: 2 kernel_w: 3 stride_h: 2 stride_w: 3 }' },
      { name: 'maxpad', type: 'Pooling', bottom: ['x'], top: ['maxpad'], params: 'pooling_param { pool: MAX kernel_size: 2 stride: 2 pad: 1 }' },
      { name: 'floor', type: 'Pooling', bottom: ['x'], top: ['floor'], params: 'pooling_param { pool: MAX kernel_size: 3 stride: 2 round_mode: FLOOR }' },
      { name: 'global', type: 'Pooling', bottom: ['x'], top: ['global'], params: 'pooling_param { pool: AVE global_pooling: true }' },
    ], [3, 10, 7]));
    expectOutputsMatch(result, ['max', 'ave', 'ave0', 'maxpad', 'floor', 'global']);
    // 10x7 with a 3x3/2 window: Caffe's ceil mode gives 5x3 where floor gives 4x3.
    expect(result.outputs.max.dims).toEqual([1, 3, 5, 3]);
    expect(result.outputs.floor.dims).toEqual([1, 3, 4, 3]);
  });

  it('converts Eltwise (SUM with coefficients, PROD, MAX), Split, Dropout, Flatten, InnerProduct, Softmax, unfoldable BatchNorm', async () => {
    const result = await convertAndRun(net([
      SCALE_DOWN,
      { name: 'split', type: 'Split', bottom: ['x'], top: ['a', 'b'] },
      { name: 'drop', type: 'Dropout', bottom: ['b'], top: ['b'], params: 'dropout_param { dropout_ratio: 0.5 }' },
      { name: 'sum', type: 'Eltwise', bottom: ['a', 'b', 'x'], top: ['sum'], params: 'eltwise_param { operation: SUM coeff: 1 coeff: -0.5 coeff: 2 }' },
      { name: 'prod', type: 'Eltwise', bottom: ['sum', 'a', 'b'], top: ['prod'], params: 'eltwise_param { operation: PROD }' },
      { name: 'max', type: 'Eltwise', bottom: ['prod', 'sum'], top: ['max'], params: 'eltwise_param { operation: MAX }' },
      { name: 'bn', type: 'BatchNorm', bottom: ['max'], top: ['max'], params: 'batch_norm_param { eps: 0.001 }', blobs: [blob(3), positive(3), { dims: [1], data: Float32Array.of(1) }] },
      { name: 'fc', type: 'InnerProduct', bottom: ['max'], top: ['fc'], params: 'inner_product_param { num_output: 5 }', blobs: [blob(5, 3 * 4 * 5), blob(5)] },
      { name: 'flat', type: 'Flatten', bottom: ['max'], top: ['flat'] },
      { name: 'fct', type: 'InnerProduct', bottom: ['flat'], top: ['fct'], params: 'inner_product_param { num_output: 4 bias_term: false transpose: true }', blobs: [blob(3 * 4 * 5, 4)] },
      { name: 'prob', type: 'Softmax', bottom: ['fc'], top: ['prob'] },
    ], [3, 4, 5], 'input_layer'));
    expectOutputsMatch(result, ['prob', 'fct']);
    expect(result.opTypes).toEqual(expect.arrayContaining(['Sum', 'Max', 'Gemm', 'Softmax', 'Flatten']));
  });

  it('subtracts the mean image inside the graph, so callers feed raw pixels', async () => {
    const layers: SyntheticLayer[] = [SCALE_DOWN, { name: 'conv', type: 'Convolution', bottom: ['x'], top: ['y'], params: 'convolution_param { num_output: 2 kernel_size: 1 }', blobs: [blob(2, 3, 1, 1), blob(2)] }];
    const image = await convertAndRun(net(layers, [3, 4, 4], 'input_shape'), { mean: uniformBlob(random, [1, 3, 4, 4], 0, 255) });
    expectOutputsMatch(image, ['y']);
    const perChannel = await convertAndRun(net(layers, [3, 4, 4]), { mean: { dims: [1, 3, 1, 1], data: Float32Array.of(104, 117, 123) } });
    expectOutputsMatch(perChannel, ['y']);
    expect(perChannel.opTypes[0]).toBe('Sub');
    expect(() => convertCaffeModel({ prototxt: writePrototxt(net(layers, [3, 4, 4])), caffemodel: writeCaffemodel(net(layers)), mean: writeMeanBinaryproto(uniformBlob(random, [1, 3, 5, 5], 0, 1)) })).toThrow(/mean image is 3x5x5/);
  });

  it('reads pre-2015 weight files (V1 "layers")', async () => {
    const layers: SyntheticLayer[] = [SCALE_DOWN, { name: 'fc', type: 'InnerProduct', bottom: ['x'], top: ['fc'], params: 'inner_product_param { num_output: 3 }', blobs: [blob(3, 3 * 2 * 2), blob(3)] }];
    expectOutputsMatch(await convertAndRun(net(layers, [3, 2, 2]), { legacy: true }), ['fc']);
  });

  it('names what it cannot convert', () => {
    const convert = (layers: SyntheticLayer[], weights = layers) => convertCaffeModel({ prototxt: writePrototxt(net(layers)), caffemodel: writeCaffemodel(net(weights)) });
    expect(() => convert([{ name: 'lrn', type: 'LRN', bottom: ['data'], top: ['lrn'] }])).toThrow(/layer "lrn" has type LRN/);
    const conv: SyntheticLayer = { name: 'conv', type: 'Convolution', bottom: ['data'], top: ['c'], params: 'convolution_param { num_output: 2 kernel_size: 3 }', blobs: [blob(2, 3, 3, 3), blob(2)] };
    expect(() => convert([conv], [])).toThrow(/needs 2 weight blobs, the weights file has 0/);
    expect(() => convert([{ ...conv, blobs: [blob(2, 3, 2, 2), blob(2)] }])).toThrow(/filter blob holds 24 values, expected 54/);
    expect(() => convert([{ ...conv, bottom: ['nothing'] }])).toThrow(/reads blob "nothing"/);
  });

  it('converts a ResNet-101-shaped network (3-4-23-3 bottlenecks, reduced width) and matches Caffe', async () => {
    const resnet = resnetNet({ blocks: [3, 4, 23, 3], width: 4, inputSize: 64, outputs: 198, seed: 3 });
    const result = await convertAndRun({ ...resnet, layers: [{ ...SCALE_DOWN, top: ['x'] }, ...resnet.layers.map((l) => (l.name === 'conv1' ? { ...l, bottom: ['x'] } : l))] });
    expect(result.outputs.fc_ftnew.dims).toEqual([1, 198]);
    const reference = result.reference.get('fc_ftnew')!.data;
    const scale = reference.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(scale).toBeGreaterThan(0.1); // the random weights keep a signal through 101 layers
    expect(maxAbsDifference(result.outputs.fc_ftnew.data, reference) / scale).toBeLessThanOrEqual(1e-5);
    // Every BatchNorm and Scale folded into its convolution: 104 Conv, nothing per-channel left but the input scale.
    expect(result.opTypes.filter((t) => t === 'Conv')).toHaveLength(104);
    expect(result.opTypes.filter((t) => t === 'Mul')).toHaveLength(1);
  });
});
