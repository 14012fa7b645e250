import { describe, it } from '@jest/globals';
import { a, expectSameAsTfjs, graphModel, int32Weight, op, placeholder, randomFeed, transposedFixture } from '../../../../helpers/tfjs-graphs.js';

const { nodes: convNodes, filter } = transposedFixture({ height: 5, width: 6 });

const feed = { x: randomFeed([2, 5, 6, 3], 2) };

describe.each(['Mean', 'Sum'])('%s', (opName) => {
  it.each([
    ['spatial axes [1, 2]', [2], [1, 2], false],
    ['spatial axes [1, 2], keep_dims', [2], [1, 2], true],
    ['channel axis -1', [1], [-1], false],
    ['height axis (scalar)', [], [1], false],
    ['width and channels, keep_dims', [2], [2, 3], true],
  ])('over %s of a transposed tensor', async (_, axesShape, axes, keepDims) => {
    const source = graphModel([...convNodes, op('out', opName, ['c', 'axes'], { keep_dims: a.b(keepDims), Tidx: a.type('DT_INT32') })], [filter, int32Weight('axes', axesShape, axes)]);
    await expectSameAsTfjs(source, feed, ['out']);
  });

  it('over the last axis of a 2-D tensor, keep_dims', async () => {
    const source = graphModel([placeholder('x', [-1, 7]), op('out', opName, ['x', 'axes'], { keep_dims: a.b(true) })], [int32Weight('axes', [], [1])]);
    await expectSameAsTfjs(source, { x: randomFeed([3, 7], 3) }, ['out']);
  });
});

describe('Softmax', () => {
  it('over the last axis of a 2-D tensor', async () => {
    const source = graphModel([placeholder('x', [-1, 10]), op('out', 'Softmax', ['x'])]);
    await expectSameAsTfjs(source, { x: randomFeed([3, 10], 4, -5, 5) }, ['out']);
  });

  it('over the channels of a transposed 4-D tensor', async () => {
    const source = graphModel([...convNodes, op('out', 'Softmax', ['c'])], [filter]);
    await expectSameAsTfjs(source, feed, ['out']);
  });
});
