import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { NHWC_TO_NCHW, dropAxes, invertPerm, permute, transposeBetween, transposeData } from '../../../../tools/tfjs-to-onnx/layout.js';

/** Reference transpose by explicit index arithmetic. */
function naiveTranspose(data: Float32Array, shape: readonly number[], perm: readonly number[]): Float32Array {
  const outShape = permute(shape, perm);
  const out = new Float32Array(data.length);
  for (let o = 0; o < out.length; o++) {
    const outIndex: number[] = [];
    for (let i = outShape.length - 1, rest = o; i >= 0; i--) {
      outIndex[i] = rest % outShape[i];
      rest = Math.floor(rest / outShape[i]);
    }
    const sourceIndex: number[] = [];
    perm.forEach((axis, i) => {
      sourceIndex[axis] = outIndex[i];
    });
    out[o] = data[sourceIndex.reduce((flat, index, axis) => flat * shape[axis] + index, 0)];
  }
  return out;
}

const shapeAndPerm = fc.integer({ min: 1, max: 4 }).chain((rank) =>
  fc.tuple(fc.array(fc.integer({ min: 1, max: 4 }), { minLength: rank, maxLength: rank }), fc.shuffledSubarray([...Array(rank).keys()], { minLength: rank, maxLength: rank })),
);

describe('transposeData', () => {
  it('matches a naive transpose for any shape and permutation', () => {
    fc.assert(
      fc.property(shapeAndPerm, ([shape, perm]) => {
        const data = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i);
        expect(Array.from(transposeData(data, shape, perm))).toEqual(Array.from(naiveTranspose(data, shape, perm)));
      }),
    );
  });

  it('turns NHWC into NCHW', () => {
    const nhwc = Float32Array.of(1, 2, 3, 4, 5, 6); // [1, 1, 2, 3]: two pixels of three channels
    expect(Array.from(transposeData(nhwc, [1, 1, 2, 3], NHWC_TO_NCHW))).toEqual([1, 4, 2, 5, 3, 6]);
  });
});

describe('layout permutations', () => {
  it('transposeBetween composes to the target layout', () => {
    fc.assert(
      fc.property(
        fc.shuffledSubarray([0, 1, 2, 3], { minLength: 4, maxLength: 4 }),
        fc.shuffledSubarray([0, 1, 2, 3], { minLength: 4, maxLength: 4 }),
        (from, to) => {
          // A tensor laid out by `from`, transposed by the result, is laid out by `to`.
          expect(permute(from, transposeBetween(from, to))).toEqual(to);
        },
      ),
    );
    expect(invertPerm(NHWC_TO_NCHW)).toEqual([0, 2, 3, 1]);
  });

  it('dropAxes renumbers the surviving axes', () => {
    expect(dropAxes(NHWC_TO_NCHW, [1, 2])).toEqual([0, 1]);
    expect(dropAxes(NHWC_TO_NCHW, [3])).toEqual([0, 1, 2]);
    expect(dropAxes([2, 0, 1], [0])).toEqual([1, 0]);
  });
});
