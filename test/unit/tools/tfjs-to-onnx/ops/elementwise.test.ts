import { describe, it } from '@jest/globals';
import { a, expectSameAsTfjs, graphModel, op, placeholder, randomFeed, randomValues, transposedFixture, type Weight } from '../../../../helpers/tfjs-graphs.js';

const CHANNELS = 4;
const { nodes: convNodes, filter } = transposedFixture({ channels: CHANNELS });

const feed = { x: randomFeed([2, 5, 5, 3], 2) };
const BINARY_OPS = ['Add', 'AddV2', 'Sub', 'Mul', 'Minimum', 'Maximum'];

describe.each(BINARY_OPS)('%s', (opName) => {
  it.each([
    ['scalar', []],
    ['[1]', [1]],
    ['per-channel [C]', [CHANNELS]],
    ['[1, 1, C]', [1, 1, CHANNELS]],
    ['[5, 1, 1]', [5, 1, 1]],
    ['full [1, 5, 5, C]', [1, 5, 5, CHANNELS]],
  ])('with a %s constant on a transposed (NCHW) tensor, both operand orders', async (_, shape) => {
    const k: Weight = { name: 'k', shape, values: randomValues(shape.reduce((x, y) => x * y, 1), 3) };
    const source = graphModel([...convNodes, op('left', opName, ['c', 'k']), op('right', opName, ['k', 'c'])], [filter, k]);
    await expectSameAsTfjs(source, feed, ['left', 'right']);
  });

  it('with two runtime tensors in different layouts', async () => {
    const source = graphModel([...convNodes, placeholder('y', [-1, 5, 5, CHANNELS]), op('out', opName, ['c', 'y'])], [filter]);
    await expectSameAsTfjs(source, { ...feed, y: randomFeed([2, 5, 5, CHANNELS], 4) }, ['out']);
  });

  it('with a lower-rank runtime tensor', async () => {
    const source = graphModel([...convNodes, placeholder('y', [CHANNELS]), op('out', opName, ['c', 'y'])], [filter]);
    await expectSameAsTfjs(source, { ...feed, y: randomFeed([CHANNELS], 5) }, ['out']);
  });

  it('on plain 2-D tensors', async () => {
    const k: Weight = { name: 'k', shape: [6], values: randomValues(6, 6) };
    const source = graphModel([placeholder('x', [-1, 6]), op('out', opName, ['x', 'k'])], [k]);
    await expectSameAsTfjs(source, { x: randomFeed([3, 6], 7) }, ['out']);
  });
});

describe('Prelu', () => {
  it.each([
    ['[C]', [CHANNELS]],
    ['[1, 1, C]', [1, 1, CHANNELS]],
  ])('with a %s slope on a transposed tensor', async (_, shape) => {
    const slope: Weight = { name: 'slope', shape, values: randomValues(CHANNELS, 8, 0, 0.5) };
    const source = graphModel([...convNodes, op('out', 'Prelu', ['c', 'slope'])], [filter, slope]);
    await expectSameAsTfjs(source, feed, ['out']);
  });

  // Max(x, slope · x) holds for negative slopes too, not for slopes above one.
  it.each([
    ['negative', -0.5, 0],
    ['above one', 1, 2],
  ])('with %s slopes', async (_, low, high) => {
    const slope: Weight = { name: 'slope', shape: [CHANNELS], values: randomValues(CHANNELS, 8, low, high) };
    const source = graphModel([...convNodes, op('out', 'Prelu', ['c', 'slope'])], [filter, slope]);
    await expectSameAsTfjs(source, feed, ['out']);
  });
});

describe('unary ops', () => {
  it.each([
    ['Relu', {}],
    ['Relu6', {}],
    ['Elu', {}],
    ['LeakyRelu', { alpha: a.f(0.1) }],
    ['Sigmoid', {}],
    ['Abs', {}],
    ['Square', {}],
  ])('%s', async (opName, attrs) => {
    const source = graphModel([...convNodes, op('out', opName, ['c'], attrs)], [filter]);
    // +-8 reaches past Relu6's cap.
    await expectSameAsTfjs(source, { x: randomFeed([2, 5, 5, 3], 9, -8, 8) }, ['out']);
  });

  it('Rsqrt', async () => {
    const source = graphModel([placeholder('x', [-1, 5, 5, 3]), op('out', 'Rsqrt', ['x'])]);
    await expectSameAsTfjs(source, { x: randomFeed([2, 5, 5, 3], 10, 0.05, 4) }, ['out']);
  });
});
