import { describe, expect, it } from '@jest/globals';
import { convertGraphModel } from '../../../../tools/tfjs-to-onnx/convert.js';
import { a, expectSameAsTfjs, graphModel, op, placeholder, randomFeed, randomValues, runOnnx, type Weight } from '../../../helpers/tfjs-graphs.js';

const k: Weight = { name: 'k', shape: [3], values: randomValues(3, 1) };

describe('convertGraphModel', () => {
  it('exposes the nodes nothing consumes by default, under their TF names', () => {
    const source = graphModel([placeholder('x', [-1, 3]), op('a', 'Add', ['x', 'k']), op('b', 'Relu', ['a']), op('c', 'Sigmoid', ['x'])], [k]);
    const converted = convertGraphModel(source);
    expect(converted.inputs).toEqual([{ name: 'x', shape: ['batch', 3] }]);
    expect(converted.outputs).toEqual([
      { name: 'b', shape: ['batch', 3] },
      { name: 'c', shape: ['batch', 3] },
    ]);
  });

  it('converts only what the requested outputs need, so unsupported ops elsewhere do not matter', () => {
    const source = graphModel([placeholder('x', [-1, 3]), op('a', 'Relu', ['x']), op('odd', 'Cumsum', ['x'])]);
    expect(() => convertGraphModel(source)).toThrow(/unsupported TF ops: Cumsum/);
    expect(convertGraphModel(source, { outputs: [{ node: 'a', name: 'y' }] }).outputs).toEqual([{ name: 'y', shape: ['batch', 3] }]);
  });

  it('lets an output name equal an internal node name', async () => {
    const source = graphModel([placeholder('x', [-1, 3]), op('a', 'Relu', ['x']), op('b', 'Add', ['a', 'k'])], [k]);
    const { onnx } = convertGraphModel(source, { outputs: [{ node: 'b', name: 'a' }] });
    const [result] = await runOnnx(onnx, { x: { shape: [1, 3], data: Float32Array.of(-1, 2, -3) } }, ['a']);
    expect(Array.from(result.data)).toEqual([0, 2, 0].map((v, i) => Math.fround(v + (k.values[i] as number))));
  });

  it('follows Identity on constants and ignores control inputs', async () => {
    const source = graphModel([placeholder('x', [-1, 3]), op('kid', 'Identity', ['k']), op('y', 'Mul', ['x', 'kid', '^kid'])], [k]);
    await expectSameAsTfjs(source, { x: randomFeed([2, 3], 2) }, ['y']);
  });

  it('makes a fixed batch of 1 symbolic unless told not to', () => {
    const source = graphModel([placeholder('x', [1, 4, 4, 3]), op('y', 'Relu', ['x'])]);
    expect(convertGraphModel(source).inputs[0].shape).toEqual(['batch', 4, 4, 3]);
    expect(convertGraphModel(source, { dynamicBatch: false }).inputs[0].shape).toEqual([1, 4, 4, 3]);
  });

  it('reports the op and node that failed', () => {
    const attrs = { strides: a.ints([1, 1, 1, 1]), padding: a.s('SAME'), data_format: a.s('NCHW') };
    const filter: Weight = { name: 'f', shape: [1, 1, 3, 3], values: randomValues(9, 3) };
    const source = graphModel([placeholder('x', [-1, 4, 4, 3]), op('conv', 'Conv2D', ['x', 'f'], attrs)], [filter]);
    expect(() => convertGraphModel(source)).toThrow(/Conv2D "conv".*data_format NCHW/);
  });

  it('rejects unknown output nodes', () => {
    const source = graphModel([placeholder('x', [-1, 3])]);
    expect(() => convertGraphModel(source, { outputs: [{ node: 'nope', name: 'y' }] })).toThrow(/"nope" does not exist/);
  });
});
