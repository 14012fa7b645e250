import { describe, expect, it } from '@jest/globals';
import onnxPkg from 'onnx-proto';
import ort from 'onnxruntime-node';
import { convertTfliteModel } from '../../../../tools/tflite-to-onnx/convert.js';
import { readTfliteModel } from '../../../../tools/tflite-to-onnx/tflite-model.js';
import { mulberry32 } from '../../../../src/training/random.js';
import { writeTfliteModel, type ModelSpec } from '../../../helpers/tflite-writer.js';

const { onnx } = onnxPkg;
const random = mulberry32(11);
const values = (count: number): Float32Array => Float32Array.from({ length: count }, () => random() * 2 - 1);

/** An NHWC tensor of the reference computation. */
interface Nhwc {
  readonly shape: readonly [number, number, number, number];
  readonly data: Float32Array;
}

const at = (t: Nhwc, n: number, y: number, x: number, c: number): number => {
  const [, h, w, channels] = t.shape;
  return y < 0 || x < 0 || y >= h || x >= w ? 0 : t.data[((n * h + y) * w + x) * channels + c];
};

/**
 * TF's convolution as TF Lite defines it, written out plainly: SAME pads (total, odd pixel after),
 * filters OHWI, or 1HWC depthwise (multiplier 1).
 */
function convolve(x: Nhwc, filter: Float32Array, bias: Float32Array, kernel: number, stride: number, outChannels: number, depthwise: boolean): Nhwc {
  const [batch, height, width, inChannels] = x.shape;
  const size = (n: number) => Math.ceil(n / stride);
  const padBefore = (n: number) => Math.floor(Math.max((size(n) - 1) * stride + kernel - n, 0) / 2);
  const out: Nhwc = { shape: [batch, size(height), size(width), outChannels], data: new Float32Array(batch * size(height) * size(width) * outChannels) };
  let i = 0;
  for (let n = 0; n < batch; n++) {
    for (let oy = 0; oy < size(height); oy++) {
      for (let ox = 0; ox < size(width); ox++) {
        for (let o = 0; o < outChannels; o++) {
          let sum = bias[o];
          for (let ky = 0; ky < kernel; ky++) {
            for (let kx = 0; kx < kernel; kx++) {
              const y = oy * stride + ky - padBefore(height);
              const xx = ox * stride + kx - padBefore(width);
              if (depthwise) sum += at(x, n, y, xx, o) * filter[(ky * kernel + kx) * outChannels + o];
              else for (let c = 0; c < inChannels; c++) sum += at(x, n, y, xx, c) * filter[((o * kernel + ky) * kernel + kx) * inChannels + c];
            }
          }
          out.data[i++] = sum;
        }
      }
    }
  }
  return out;
}

const map = (t: Nhwc, f: (v: number, channel: number) => number): Nhwc => ({ shape: t.shape, data: t.data.map((v, i) => f(v, i % t.shape[3])) });

/**
 * input [2,6,6,2] → CONV_2D 3x3 stride 2 SAME (pads 0 before, 1 after) → TOCO's PReLU
 * (relu(x) + c·(x − |x|)) → DEPTHWISE_CONV_2D 3x3 SAME + RELU6, added to the PReLU's output →
 * MUL by a per-channel constant → RESHAPE [2,27] (NHWC order).
 */
/** TOCO's half slopes c: every PReLU slope 2c ≤ 1 (written as Max) or some above 1 (as Min and Add). */
const SLOPES_UP_TO_ONE = [0.05, 0.1, 0.2];
const SLOPES_ABOVE_ONE = [0.05, 0.8, 2];

function tinyModel(halfSlopes = SLOPES_UP_TO_ONE): { spec: ModelSpec; reference: (input: Nhwc) => Float32Array } {
  const conv = { filter: values(3 * 3 * 3 * 2), bias: values(3) };
  const halfSlope = Float32Array.from(halfSlopes);
  const depthwise = { filter: values(3 * 3 * 3), bias: values(3) };
  const scale = Float32Array.from([2, -1, 0.5]);
  const spec: ModelSpec = {
    tensors: [
      { name: 'input', shape: [2, 6, 6, 2] },
      { name: 'conv/filter', shape: [3, 3, 3, 2], data: conv.filter },
      { name: 'conv/bias', shape: [3], data: conv.bias },
      { name: 'conv', shape: [2, 3, 3, 3] },
      { name: 'prelu/relu', shape: [2, 3, 3, 3] },
      { name: 'prelu/abs', shape: [2, 3, 3, 3] },
      { name: 'prelu/sub', shape: [2, 3, 3, 3] },
      { name: 'prelu/mul', shape: [3], data: halfSlope },
      { name: 'prelu/mul_1', shape: [2, 3, 3, 3] },
      { name: 'prelu/add', shape: [2, 3, 3, 3] },
      { name: 'dw/filter', shape: [1, 3, 3, 3], data: depthwise.filter },
      { name: 'dw/bias', shape: [3], data: depthwise.bias },
      { name: 'dw', shape: [2, 3, 3, 3] },
      { name: 'residual', shape: [2, 3, 3, 3] },
      { name: 'scale', shape: [3], data: scale },
      { name: 'scaled', shape: [2, 3, 3, 3] },
      { name: 'flat/shape', shape: [2], type: 'int32', data: Int32Array.from([2, 27]) },
      { name: 'output', shape: [2, 27] },
    ],
    inputs: [0],
    outputs: [17],
    operators: [
      { code: 3, inputs: [0, 1, 2], outputs: [3], options: { kind: 'conv', padding: 'SAME', strides: [2, 2] } },
      { code: 19, inputs: [3], outputs: [4] },
      { code: 101, inputs: [3], outputs: [5] },
      { code: 41, inputs: [3, 5], outputs: [6], options: { kind: 'activation', union: 28 } },
      { code: 18, inputs: [7, 6], outputs: [8], options: { kind: 'activation', union: 21 } },
      { code: 0, inputs: [4, 8], outputs: [9], options: { kind: 'activation', union: 11 } },
      { code: 4, inputs: [9, 10, 11], outputs: [12], options: { kind: 'depthwise', padding: 'SAME', strides: [1, 1], activation: 3 } },
      { code: 0, inputs: [9, 12], outputs: [13], options: { kind: 'activation', union: 11 } },
      { code: 18, inputs: [13, 14], outputs: [15], options: { kind: 'activation', union: 21 } },
      { code: 22, inputs: [15, 16], outputs: [17] },
    ],
  };
  const reference = (input: Nhwc): Float32Array => {
    const convolved = convolve(input, conv.filter, conv.bias, 3, 2, 3, false);
    const prelu = map(convolved, (v, c) => Math.max(v, 0) + halfSlope[c] * (v - Math.abs(v)));
    const dw = map(convolve(prelu, depthwise.filter, depthwise.bias, 3, 1, 3, true), (v) => Math.min(Math.max(v, 0), 6));
    return prelu.data.map((v, i) => (v + dw.data[i]) * scale[i % 3]);
  };
  return { spec, reference };
}

/** NHWC → NCHW, as the converted graph takes its input. */
function toNchw(t: Nhwc): Float32Array {
  const [batch, height, width, channels] = t.shape;
  const out = new Float32Array(t.data.length);
  let i = 0;
  for (let n = 0; n < batch; n++) for (let c = 0; c < channels; c++) for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) out[i++] = at(t, n, y, x, c);
  return out;
}

async function run(onnxModel: Uint8Array, input: Float32Array, dims: number[]): Promise<ort.Tensor> {
  const session = await ort.InferenceSession.create(onnxModel, { intraOpNumThreads: 1 });
  try {
    return (await session.run({ input: new ort.Tensor('float32', input, dims) })).output;
  } finally {
    await session.release();
  }
}

describe('convertTfliteModel', () => {
  it.each([
    ['slopes up to one', SLOPES_UP_TO_ONE],
    ['slopes above one', SLOPES_ABOVE_ONE],
  ])('computes what TF Lite defines: OHWI and depthwise filters, SAME pads with the odd pixel after, PReLU (%s), fused RELU6, NHWC flattening', async (_, halfSlopes) => {
    const { spec, reference } = tinyModel(halfSlopes);
    const input: Nhwc = { shape: [2, 6, 6, 2], data: values(2 * 6 * 6 * 2) };
    const converted = convertTfliteModel(readTfliteModel(writeTfliteModel(spec)));
    expect(converted.inputs).toEqual([{ name: 'input', shape: ['batch', 2, 6, 6] }]);
    expect(converted.outputs).toEqual([{ name: 'output', shape: ['batch', 27] }]);
    const output = await run(converted.onnx, toNchw(input), [2, 2, 6, 6]);
    expect(output.dims).toEqual([2, 27]);
    const expected = reference(input);
    const got = output.data as Float32Array;
    for (let i = 0; i < expected.length; i++) expect(got[i]).toBeCloseTo(expected[i], 5);
  });

  it('runs any batch size, each item as alone', async () => {
    const { spec, reference } = tinyModel();
    const input: Nhwc = { shape: [2, 6, 6, 2], data: values(2 * 6 * 6 * 2) };
    const converted = convertTfliteModel(readTfliteModel(writeTfliteModel(spec)));
    const second: Nhwc = { shape: [1, 6, 6, 2], data: input.data.slice(72) };
    const alone = await run(converted.onnx, toNchw(second), [1, 2, 6, 6]);
    expect(alone.dims).toEqual([1, 27]);
    const expected = reference(input).slice(27);
    (alone.data as Float32Array).forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
  });

  it('folds TOCO\'s five-operator PReLU into Max(x, slope · x), or x + (slope − 1) · Min(x, 0) with slopes above one, and writes no Transpose before the flattening', () => {
    const opsOf = (halfSlopes: number[]) => onnx.ModelProto.decode(convertTfliteModel(readTfliteModel(writeTfliteModel(tinyModel(halfSlopes).spec))).onnx).graph!.node!.map((node) => node.opType);
    const [upToOne, aboveOne] = [opsOf(SLOPES_UP_TO_ONE), opsOf(SLOPES_ABOVE_ONE)];
    expect(upToOne.filter((op) => op === 'Max')).toHaveLength(1);
    expect(upToOne).not.toContain('Min');
    expect(aboveOne.filter((op) => op === 'Min')).toHaveLength(1);
    expect(aboveOne).not.toContain('Max');
    for (const ops of [upToOne, aboveOne]) for (const op of ['PRelu', 'Abs', 'Sub']) expect(ops).not.toContain(op);
    const ops = upToOne;
    // The one Transpose puts the 3x3 map back in NHWC order for RESHAPE; none at the input.
    expect(ops.filter((op) => op === 'Transpose')).toHaveLength(1);
    expect(ops.indexOf('Transpose')).toBeGreaterThan(ops.indexOf('Conv'));
  });

  it('keeps the operators when an intermediate of the pattern is read elsewhere', () => {
    const { spec } = tinyModel();
    // The residual ADD reads relu(x) instead of the PReLU's output: the pattern may not be folded.
    const operators = spec.operators.map((op, i) => (i === 7 ? { ...op, inputs: [4, 12] } : op));
    const converted = convertTfliteModel(readTfliteModel(writeTfliteModel({ ...spec, operators })));
    const ops = onnx.ModelProto.decode(converted.onnx).graph!.node!.map((node) => node.opType);
    for (const op of ['PRelu', 'Max', 'Min']) expect(ops).not.toContain(op);
    expect(ops).toContain('Abs');
  });

  it('refuses, by name, operators it does not convert, and files that are not TF Lite', () => {
    const { spec } = tinyModel();
    const softmax = { ...spec, operators: [...spec.operators.slice(0, -1), { code: 25, inputs: [15], outputs: [17] }] };
    expect(() => convertTfliteModel(readTfliteModel(writeTfliteModel(softmax)))).toThrow('unsupported TF Lite operators: builtin 25');
    expect(() => readTfliteModel(new Uint8Array(64))).toThrow('not a TensorFlow Lite model');
  });
});
