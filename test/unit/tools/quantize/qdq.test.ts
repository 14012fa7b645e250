import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import onnxPkg from 'onnx-proto';
import ort from 'onnxruntime-node';
import { attr, floatTensor, OnnxGraphBuilder, serializeModel, OPSET } from '../../../../src/onnx/onnx-builder.js';
import { mulberry32 } from '../../../../src/training/random.js';
import { combineRanges, measureRanges } from '../../../../tools/quantize/calibration.js';
import { foldConvAffine, quantiseQdq, rangesNeeded, uint8Params } from '../../../../tools/quantize/qdq.js';

const { onnx } = onnxPkg;
const ITEM = [4, 8, 8] as const;
const random = mulberry32(11);
const values = (count: number, scale: number): Float32Array => Float32Array.from({ length: count }, () => (random() * 2 - 1) * scale);

/**
 * A small network with the shapes the converted ones have: a convolution and its batch norm left
 * as Mul and Add, Relu, a pointwise convolution, a residual Add, a max pool and a float head.
 */
function smallNetwork(): Uint8Array {
  const g = new OnnxGraphBuilder();
  const x = g.addInput('input', 'float32', ['batch', ...ITEM]);
  const conv1 = g.addNode('Conv', [x, g.addInitializer('w1', floatTensor([8, 4, 3, 3], values(288, 0.5)))], 'conv1', { pads: attr.ints([1, 1, 1, 1]) });
  const scaled = g.addNode('Mul', [conv1, g.addInitializer('bn_scale', floatTensor([1, 8, 1, 1], values(8, 1).map((v) => 1 + 0.5 * v)))], 'bn_mul');
  const shifted = g.addNode('Add', [scaled, g.addInitializer('bn_shift', floatTensor([1, 8, 1, 1], values(8, 0.3)))], 'bn_add');
  const relu = g.addNode('Relu', [shifted], 'relu1');
  const conv2 = g.addNode('Conv', [relu, g.addInitializer('w2', floatTensor([8, 8, 1, 1], values(64, 0.5))), g.addInitializer('b2', floatTensor([8], values(8, 0.1)))], 'conv2');
  const residual = g.addNode('Add', [relu, conv2], 'residual');
  const pooled = g.addNode('MaxPool', [residual], 'pool', { kernel_shape: attr.ints([2, 2]), strides: attr.ints([2, 2]) });
  g.reserveNames(['output']);
  g.addNamedNode('Conv', [pooled, g.addInitializer('w_head', floatTensor([2, 8, 1, 1], values(16, 0.5)))], 'output');
  g.addOutput('output', 'float32', ['batch', 2, 4, 4]);
  return serializeModel(g.toGraph('small'), { opset: OPSET, producerName: 'test', producerVersion: '1' });
}

const FLOAT = smallNetwork();
const inputs = Array.from({ length: 40 }, () => values(ITEM.reduce((a, b) => a * b, 1), 1));
const directory = mkdtempSync(join(tmpdir(), 'face3d-qdq-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

async function run(model: Uint8Array, input: Float32Array, optimizedFile?: string): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1, graphOptimizationLevel: 'extended', ...(optimizedFile ? { optimizedModelFilePath: optimizedFile } : {}) });
  const output = (await session.run({ input: new ort.Tensor('float32', input, [1, ...ITEM]) })).output.data as Float32Array;
  await session.release();
  return output;
}

async function quantised(keepFloat?: ReadonlySet<string>): Promise<Uint8Array> {
  const ranges = combineRanges(await measureRanges(FLOAT, ITEM, inputs, keepFloat), 1);
  return onnx.ModelProto.encode(quantiseQdq(onnx.ModelProto.decode(FLOAT), ranges, keepFloat)).finish();
}

function opTypes(model: Uint8Array): string[] {
  return onnx.ModelProto.decode(model).graph!.node!.map((node) => (node.domain ? `${node.domain}.${node.opType}` : node.opType!));
}

describe('int8 QDQ quantisation (tools/quantize/qdq.ts)', () => {
  it('folds a Conv\'s Mul and Add into its weights and bias without changing what it computes', async () => {
    const model = onnx.ModelProto.decode(FLOAT);
    foldConvAffine(model);
    const folded = onnx.ModelProto.encode(model).finish();

    expect(opTypes(folded).filter((op) => op === 'Mul')).toEqual([]);
    const [a, b] = await Promise.all([run(FLOAT, inputs[0]), run(folded, inputs[0])]);
    for (let i = 0; i < a.length; i++) expect(b[i]).toBeCloseTo(a[i], 4);
  });

  it('runs the convolutions, the residual Add and the max pool in int8 in ONNX Runtime, the head float, Relu folded into the quantisation', async () => {
    const model = await quantised();
    const optimized = join(directory, 'optimized.onnx');
    await run(model, inputs[0], optimized);
    const fused = opTypes(readFileSync(optimized));

    expect(opTypes(model)).not.toContain('Relu');
    expect(fused.filter((op) => op.endsWith('QLinearConv'))).toHaveLength(2);
    expect(fused).toContain('com.microsoft.QLinearAdd');
    // The head reads dequantised values with float weights: a plain Conv remains.
    expect(fused).toContain('Conv');
    const head = onnx.ModelProto.decode(model).graph!.initializer!.find((t) => t.name === 'w_head');
    expect(head?.dataType).toBe(onnx.TensorProto.DataType.FLOAT);
  });

  it('gives the float network\'s outputs within a few int8 steps on inputs like the calibration ones', async () => {
    const model = await quantised();
    for (const input of inputs.slice(0, 5)) {
      const [a, b] = await Promise.all([run(FLOAT, input), run(model, input)]);
      const scale = Math.max(...a.map(Math.abs));
      const worst = Math.max(...a.map((v, i) => Math.abs(v - b[i])));
      expect(worst / scale).toBeLessThan(0.05);
      expect(worst / scale).toBeGreaterThan(0);
    }
  });

  it('keeps the layers it is told to keep float, and measures no range they alone need', async () => {
    const float = onnx.ModelProto.decode(FLOAT);
    // conv2 and the Add it feeds: the max pool then reads a float value and stays float too.
    const keep = new Set(['conv2', 'residual']);
    const model = await quantised(keep);
    const kept = onnx.ModelProto.decode(model).graph!.node!.find((node) => node.output?.[0] === 'conv2');

    expect(onnx.ModelProto.decode(model).graph!.initializer!.find((t) => t.name === kept?.input?.[1])?.dataType).toBe(onnx.TensorProto.DataType.FLOAT);
    expect(rangesNeeded(float, keep).length).toBeLessThan(rangesNeeded(float).length);
  });

  it('refuses a graph whose calibration lacks a value, naming the calibration tool', () => {
    const model = onnx.ModelProto.decode(FLOAT);
    expect(() => quantiseQdq(model, {})).toThrow(/no calibrated range .*calibrate\.ts/);
  });
});

describe('uint8Params', () => {
  it('represents 0 exactly and covers the range', () => {
    const { scale, zeroPoint } = uint8Params([-1, 3]);
    expect(scale).toBeCloseTo(4 / 255, 6);
    expect(zeroPoint).toBe(64);
    expect(uint8Params([0, 6])).toEqual({ scale: 6 / 255, zeroPoint: 0 });
    // A range that does not reach 0 is widened to it (zero padding stays exact).
    expect(uint8Params([2, 4]).zeroPoint).toBe(0);
  });
});
