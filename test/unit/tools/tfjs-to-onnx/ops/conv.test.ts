import { describe, expect, it } from '@jest/globals';
import onnxPkg from 'onnx-proto';
import type { TfAttrValue } from '../../../../../tools/tfjs-to-onnx/graph-model.js';
import { a, expectSameAsTfjs, graphModel, op, placeholder, randomFeed, randomValues, type Weight } from '../../../../helpers/tfjs-graphs.js';

interface WindowCase {
  readonly strides?: readonly [number, number];
  readonly padding?: 'SAME' | 'VALID' | 'EXPLICIT';
  readonly dilations?: readonly [number, number];
  readonly explicit?: readonly number[];
}

function windowAttrs({ strides = [1, 1], padding = 'SAME', dilations = [1, 1], explicit = [] }: WindowCase) {
  return {
    strides: a.ints([1, ...strides, 1]),
    padding: a.s(padding),
    dilations: a.ints([1, ...dilations, 1]),
    explicit_paddings: a.ints(explicit),
    data_format: a.s('NHWC'),
  };
}

const filter = (shape: readonly number[], seed: number): Weight => ({ name: 'filter', shape, values: randomValues(shape.reduce((x, y) => x * y, 1), seed) });

function opsIn(onnx: Uint8Array): string[] {
  return (onnxPkg.onnx.ModelProto.decode(onnx).graph?.node ?? []).map((n) => n.opType ?? '');
}

describe('Conv2D', () => {
  it.each([
    ['3x3 SAME stride 1', [7, 7], [3, 3, 3, 4], {}],
    ['3x3 SAME stride 2, odd input (asymmetric pads)', [7, 7], [3, 3, 3, 4], { strides: [2, 2] }],
    ['3x3 SAME stride 2, even input', [8, 8], [3, 3, 3, 4], { strides: [2, 2] }],
    ['4x4 SAME stride 2, even kernel', [9, 9], [4, 4, 3, 2], { strides: [2, 2] }],
    ['3x3 VALID stride 2', [9, 8], [3, 3, 3, 4], { padding: 'VALID', strides: [2, 2] }],
    ['3x3 SAME dilation 2', [9, 9], [3, 3, 3, 2], { dilations: [2, 2] }],
    ['1x5 SAME strides 1x2', [6, 11], [1, 5, 3, 2], { strides: [1, 2] }],
    ['EXPLICIT paddings', [6, 6], [3, 3, 3, 2], { padding: 'EXPLICIT', explicit: [0, 0, 1, 2, 2, 0, 0, 0] }],
  ] as const)('%s', async (_, [h, w], filterShape, window: WindowCase) => {
    const source = graphModel([placeholder('x', [-1, h, w, 3]), op('conv', 'Conv2D', ['x', 'filter'], windowAttrs(window))], [filter(filterShape, 1)]);
    await expectSameAsTfjs(source, { x: randomFeed([2, h, w, 3], 2) }, ['conv']);
  });

  it('pads SAME at run time when the spatial size is dynamic', async () => {
    const source = graphModel([placeholder('x', [-1, -1, -1, 3]), op('conv', 'Conv2D', ['x', 'filter'], windowAttrs({ strides: [2, 2] }))], [filter([3, 3, 3, 2], 3)]);
    await expectSameAsTfjs(source, { x: randomFeed([1, 9, 7, 3], 4) }, ['conv']);
  });

  it('keeps a chain of convolutions in NCHW with one Transpose in and one out', async () => {
    const source = graphModel(
      [
        placeholder('x', [-1, 8, 8, 3]),
        op('conv1', 'Conv2D', ['x', 'filter'], windowAttrs({})),
        op('relu', 'Relu', ['conv1']),
        op('conv2', 'Conv2D', ['relu', 'filter2'], windowAttrs({ strides: [2, 2] })),
      ],
      [filter([3, 3, 3, 4], 5), { name: 'filter2', shape: [3, 3, 4, 2], values: randomValues(72, 6) }],
    );
    const onnx = await expectSameAsTfjs(source, { x: randomFeed([2, 8, 8, 3], 7) }, ['conv2']);
    expect(opsIn(onnx).filter((name) => name === 'Transpose')).toHaveLength(2);
  });
});

describe('DepthwiseConv2dNative', () => {
  it.each([
    ['multiplier 1, SAME', [3, 3, 4, 1], {}],
    ['multiplier 2, SAME stride 2', [3, 3, 4, 2], { strides: [2, 2] }],
    ['multiplier 1, VALID', [3, 3, 4, 1], { padding: 'VALID' }],
    ['5x5, SAME dilation 2', [5, 5, 4, 1], { dilations: [2, 2] }],
  ] as const)('%s', async (_, filterShape, window: WindowCase) => {
    const source = graphModel([placeholder('x', [-1, 9, 9, 4]), op('dw', 'DepthwiseConv2dNative', ['x', 'filter'], windowAttrs(window))], [filter(filterShape, 8)]);
    await expectSameAsTfjs(source, { x: randomFeed([2, 9, 9, 4], 9) }, ['dw']);
  });
});

const CHANNELS = 4;
const bias: Weight = { name: 'bias', shape: [CHANNELS], values: randomValues(CHANNELS, 10) };

function fusedAttrs(fusedOps: readonly string[], extra = {}) {
  return { ...windowAttrs({}), fused_ops: a.strings(fusedOps), num_args: a.i(fusedOps.includes('Prelu') ? 2 : 1), epsilon: a.f(0), ...extra };
}

describe.each(['_FusedConv2D', 'FusedDepthwiseConv2dNative'])('%s', (opName) => {
  const depthwise = opName === 'FusedDepthwiseConv2dNative';
  const inputChannels = depthwise ? CHANNELS : 3;
  const weights: Weight[] = [filter(depthwise ? [3, 3, CHANNELS, 1] : [3, 3, 3, CHANNELS], 11), bias];

  const cases: [string, readonly string[], Record<string, TfAttrValue>][] = [
    ['BiasAdd', ['BiasAdd'], {}],
    ['BiasAdd + Relu', ['BiasAdd', 'Relu'], {}],
    ['BiasAdd + Relu6', ['BiasAdd', 'Relu6'], {}],
    ['BiasAdd + Elu', ['BiasAdd', 'Elu'], {}],
    ['BiasAdd + Sigmoid', ['BiasAdd', 'Sigmoid'], {}],
  ];
  // tfjs 4.22 ignores leakyrelu_alpha on FusedDepthwiseConv2dNative (returns NaN), so no reference there.
  if (!depthwise) cases.push(['BiasAdd + LeakyRelu', ['BiasAdd', 'LeakyRelu'], { leakyrelu_alpha: a.f(0.3) }]);

  it.each(cases)('%s', async (_, fusedOps, extra) => {
    const source = graphModel([placeholder('x', [-1, 6, 6, inputChannels]), op('conv', opName, ['x', 'filter', 'bias'], fusedAttrs(fusedOps, extra))], weights);
    // Inputs up to +-4 push some activations past Relu6's cap.
    await expectSameAsTfjs(source, { x: randomFeed([2, 6, 6, inputChannels], 12, -4, 4) }, ['conv']);
  });

  it.each([
    ['per-channel slope [C]', [CHANNELS]],
    ['slope [1, 1, C]', [1, 1, CHANNELS]],
  ] as const)('BiasAdd + Prelu, %s', async (_, slopeShape) => {
    const slope: Weight = { name: 'slope', shape: slopeShape, values: randomValues(CHANNELS, 13, 0, 0.5) };
    const source = graphModel(
      [placeholder('x', [-1, 6, 6, inputChannels]), op('conv', opName, ['x', 'filter', 'bias', 'slope'], fusedAttrs(['BiasAdd', 'Prelu']))],
      [...weights, slope],
    );
    await expectSameAsTfjs(source, { x: randomFeed([2, 6, 6, inputChannels], 14) }, ['conv']);
  });
});

describe('MaxPool', () => {
  it.each([
    ['3x3 SAME stride 2, odd input', [7, 7], [3, 3], [2, 2], 'SAME'],
    ['2x2 SAME stride 2, odd input', [7, 5], [2, 2], [2, 2], 'SAME'],
    ['2x2 VALID stride 2', [7, 7], [2, 2], [2, 2], 'VALID'],
    ['3x3 SAME stride 1', [5, 5], [3, 3], [1, 1], 'SAME'],
  ] as const)('%s', async (_, [h, w], [kh, kw], [sh, sw], padding) => {
    const attrs = { ksize: a.ints([1, kh, kw, 1]), strides: a.ints([1, sh, sw, 1]), padding: a.s(padding), data_format: a.s('NHWC') };
    const source = graphModel([placeholder('x', [-1, h, w, 3]), op('pool', 'MaxPool', ['x'], attrs)]);
    await expectSameAsTfjs(source, { x: randomFeed([2, h, w, 3], 15) }, ['pool']);
  });
});
