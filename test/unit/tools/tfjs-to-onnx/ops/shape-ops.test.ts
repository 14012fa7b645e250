import { describe, expect, it } from '@jest/globals';
import type { TfNode } from '../../../../../tools/tfjs-to-onnx/graph-model.js';
import { reshapeTarget } from '../../../../../tools/tfjs-to-onnx/ops/shape-ops.js';
import { a, expectBatchMatchesSingles, expectSameAsTfjs, graphModel, int32Weight, op, placeholder, randomFeed, transposedFixture } from '../../../../helpers/tfjs-graphs.js';

const { nodes: convNodes, filter } = transposedFixture();

const feed = { x: randomFeed([2, 5, 5, 3], 2) };

describe('Reshape', () => {
  it.each([
    ['flatten [-1, 100]', [2], [-1, 100]],
    ['[-1, 25, 4]', [3], [-1, 25, 4]],
    ['[2, -1] (batch folded)', [2], [2, -1]],
  ])('%s after a convolution flattens in NHWC order', async (_, shapeDims, target) => {
    const source = graphModel([...convNodes, op('out', 'Reshape', ['c', 'shape'])], [filter, int32Weight('shape', shapeDims, target)]);
    await expectSameAsTfjs(source, feed, ['out']);
  });

  it('with a hard-coded batch of 1 runs any batch size', async () => {
    const source = graphModel([...transposedFixture({ batch: 1 }).nodes, op('out', 'Reshape', ['c', 'shape'])], [filter, int32Weight('shape', [3], [1, 25, 4])]);
    await expectBatchMatchesSingles(source, 'x', [5, 5, 3], ['out']);
  });

  it('infers static shapes and the batch dim', () => {
    expect(reshapeTarget(['batch', 4, 4, 128], [1, 16, 128])).toEqual({ onnxTarget: [0, 16, 128], shape: ['batch', 16, 128] });
    expect(reshapeTarget(['batch', 4, 4, 128], [-1, 2048]).shape).toEqual(['batch', 2048]);
    expect(reshapeTarget(['batch', 4, 4, 128], [-1, 1024]).shape).toEqual([null, 1024]);
    expect(reshapeTarget(['batch', 4, 4, 128], [1, -1]).shape).toEqual(['batch', 2048]);
    expect(reshapeTarget([2, 6], [3, -1]).shape).toEqual([3, 4]);
  });

  it("leaves a head's grid open when the input's size is open", () => {
    expect(reshapeTarget(['batch', null, null, 2], [1, 512, 1])).toEqual({ onnxTarget: [0, -1, 1], shape: ['batch', null, 1] });
    expect(reshapeTarget(['batch', null, null, 2], [1, -1, 1]).onnxTarget).toEqual([0, -1, 1]);
  });
});

describe('Squeeze', () => {
  const pooled = (): TfNode[] => [...convNodes, op('m', 'Mean', ['c', 'axes'], { keep_dims: a.b(true) })];
  const axes = int32Weight('axes', [2], [1, 2]);

  it.each([
    ['squeeze_dims [1, 2]', { squeeze_dims: a.ints([1, 2]) }],
    ['negative squeeze_dims', { squeeze_dims: a.ints([-2, -3]) }],
    ['no dims (all static 1s)', {}],
  ])('%s of a transposed tensor', async (_, attrs) => {
    const source = graphModel([...pooled(), op('out', 'Squeeze', ['m'], attrs)], [filter, axes]);
    await expectSameAsTfjs(source, feed, ['out']);
  });
});

describe('Pad', () => {
  it.each([
    ['spatial, asymmetric', [0, 0, 1, 2, 2, 0, 0, 0]],
    ['channels', [0, 0, 0, 0, 0, 0, 0, 3]],
  ])('%s on a transposed tensor', async (_, paddings) => {
    const source = graphModel([...convNodes, op('out', 'Pad', ['c', 'paddings'])], [filter, int32Weight('paddings', [4, 2], paddings)]);
    await expectSameAsTfjs(source, feed, ['out']);
  });

  it('on an input in TF layout', async () => {
    const source = graphModel([placeholder('x', [-1, 6]), op('out', 'Pad', ['x', 'paddings'])], [int32Weight('paddings', [2, 2], [0, 0, 2, 1])]);
    await expectSameAsTfjs(source, { x: randomFeed([3, 6], 3) }, ['out']);
  });
});
