import { describe, it } from '@jest/globals';
import { a, expectSameAsTfjs, graphModel, op, placeholder, randomFeed, randomValues, type Weight } from '../../../../helpers/tfjs-graphs.js';

const kernel = (shape: readonly number[]): Weight => ({ name: 'kernel', shape, values: randomValues(shape[0] * shape[1], 1) });
const bias: Weight = { name: 'bias', shape: [3], values: randomValues(3, 2) };
const matmulAttrs = (transposeA = false, transposeB = false) => ({ transpose_a: a.b(transposeA), transpose_b: a.b(transposeB) });

describe('MatMul', () => {
  it('with a constant kernel', async () => {
    const source = graphModel([placeholder('x', [-1, 6]), op('out', 'MatMul', ['x', 'kernel'], matmulAttrs())], [kernel([6, 3])]);
    await expectSameAsTfjs(source, { x: randomFeed([4, 6], 3) }, ['out']);
  });

  it('with transpose_b', async () => {
    const source = graphModel([placeholder('x', [-1, 6]), op('out', 'MatMul', ['x', 'kernel'], matmulAttrs(false, true))], [kernel([3, 6])]);
    await expectSameAsTfjs(source, { x: randomFeed([4, 6], 4) }, ['out']);
  });

  it('with transpose_a and two runtime operands', async () => {
    const source = graphModel([placeholder('x', [6, 2]), placeholder('y', [6, 3]), op('out', 'MatMul', ['x', 'y'], matmulAttrs(true))]);
    await expectSameAsTfjs(source, { x: randomFeed([6, 2], 5), y: randomFeed([6, 3], 6) }, ['out']);
  });
});

describe('_FusedMatMul', () => {
  it.each([
    ['BiasAdd', ['BiasAdd']],
    ['BiasAdd + Relu', ['BiasAdd', 'Relu']],
    ['BiasAdd + Sigmoid', ['BiasAdd', 'Sigmoid']],
  ])('%s', async (_, fusedOps) => {
    const attrs = { ...matmulAttrs(), fused_ops: a.strings(fusedOps), num_args: a.i(1), epsilon: a.f(0) };
    const source = graphModel([placeholder('x', [-1, 6]), op('out', '_FusedMatMul', ['x', 'kernel', 'bias'], attrs)], [kernel([6, 3]), bias]);
    await expectSameAsTfjs(source, { x: randomFeed([4, 6], 7, -3, 3) }, ['out']);
  });
});
