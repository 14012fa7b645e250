import { describe, expect, it } from '@jest/globals';
import { Face3dError } from '../../../src/core/errors.js';
import { GalleryIndex } from '../../../src/gallery/gallery-index.js';
import { cosineSimilarity, meanTemplate } from '../../../src/core/vector.js';

const BUNDLE = 'bundle-a';

function face(faceId: string, subjectId: string, values: number[]) {
  return { faceId, subjectId, bundleId: BUNDLE, vector: Float32Array.from(values) };
}

function probe(values: number[], bundleId = BUNDLE) {
  return { bundleId, vector: Float32Array.from(values) };
}

describe('GalleryIndex', () => {
  it('keeps each subject’s template equal to the mean of its faces’ unit vectors', () => {
    const index = new GalleryIndex(BUNDLE, 3);
    index.addFace(face('f1', 'alice', [2, 0, 0]));
    index.addFace(face('f2', 'alice', [0, 1, 0]));
    const expected = meanTemplate([Float32Array.from([2, 0, 0]), Float32Array.from([0, 1, 0])]);
    expect(Array.from(index.template('alice')!)).toEqual(Array.from(expected).map((value) => expect.closeTo(value, 6)));

    index.removeFace('f1');
    expect(Array.from(index.template('alice')!)).toEqual([0, 1, 0]);
    index.removeFace('f2');
    expect(index.template('alice')).toBeUndefined();
    expect(index.subjectCount).toBe(0);
  });

  it('weights each face in its subject’s template by its quality, and forgets the weight with the face', () => {
    const index = new GalleryIndex(BUNDLE, 2);
    index.addFace({ ...face('good', 'alice', [1, 0]), weight: 0.9 });
    index.addFace({ ...face('poor', 'alice', [0, 3]), weight: 0.1 });
    const template = index.template('alice')!;
    // 0.9 · (1, 0) + 0.1 · (0, 1), normalised.
    expect(Array.from(template)).toEqual([expect.closeTo(0.9 / Math.hypot(0.9, 0.1), 6), expect.closeTo(0.1 / Math.hypot(0.9, 0.1), 6)]);
    expect(Array.from(meanTemplate([Float32Array.from([1, 0]), Float32Array.from([0, 3])], [0.9, 0.1]))).toEqual(Array.from(template).map((v) => expect.closeTo(v, 6)));
    index.removeFace('good');
    index.addFace(face('equal', 'alice', [1, 0]));
    // A face given no weight counts fully: 1 · (1, 0) + 0.1 · (0, 1), normalised.
    expect(Array.from(index.template('alice')!)).toEqual([expect.closeTo(1 / Math.hypot(1, 0.1), 6), expect.closeTo(0.1 / Math.hypot(1, 0.1), 6)]);
    expect(() => meanTemplate([Float32Array.from([1, 0])], [1, 2])).toThrow(RangeError);
  });

  it('ranks subjects by template (one candidate each) and names the closest face of each', () => {
    const index = new GalleryIndex(BUNDLE, 2);
    index.addFace(face('a1', 'alice', [1, 0]));
    index.addFace(face('a2', 'alice', [1, 0.2]));
    index.addFace(face('b1', 'bob', [0, 1]));
    const candidates = index.search(probe([1, 0.25]), 5, 'TEMPLATE');
    expect(candidates.map((candidate) => [candidate.subjectId, candidate.faceId])).toEqual([
      ['alice', 'a2'],
      ['bob', 'b1'],
    ]);
    expect(candidates[0].similarity).toBeCloseTo(cosineSimilarity(index.template('alice')!, Float32Array.from([1, 0.25])), 6);
  });

  it('ranks every enrolled face in PHOTO mode, several per subject if they are closest', () => {
    const index = new GalleryIndex(BUNDLE, 2);
    index.addFace(face('a1', 'alice', [1, 0]));
    index.addFace(face('a2', 'alice', [1, 0.1]));
    index.addFace(face('b1', 'bob', [0, 1]));
    expect(index.search(probe([1, 0.05]), 2, 'PHOTO').map((candidate) => candidate.faceId).sort()).toEqual(['a1', 'a2']);
  });

  it('forgets a deleted subject entirely', () => {
    const index = new GalleryIndex(BUNDLE, 2);
    index.addFace(face('a1', 'alice', [1, 0]));
    index.addFace(face('b1', 'bob', [0, 1]));
    index.removeSubject('alice');
    expect(index.faceVector('a1')).toBeUndefined();
    expect(index.search(probe([1, 0]), 5, 'PHOTO').map((candidate) => candidate.subjectId)).toEqual(['bob']);
    expect(index.search(probe([1, 0]), 5, 'TEMPLATE').map((candidate) => candidate.subjectId)).toEqual(['bob']);
    expect(index.faceCount).toBe(1);
  });

  it('moves a face re-added under another subject', () => {
    const index = new GalleryIndex(BUNDLE, 2);
    index.addFace(face('f', 'alice', [1, 0]));
    index.addFace(face('f', 'bob', [1, 0]));
    expect(index.template('alice')).toBeUndefined();
    expect(index.template('bob')).toBeDefined();
  });

  it('never compares vectors of another bundle', () => {
    const index = new GalleryIndex(BUNDLE, 2);
    index.addFace(face('a1', 'alice', [1, 0]));
    expect(() => index.search(probe([1, 0], 'bundle-b'), 1, 'TEMPLATE')).toThrow(Face3dError);
    expect(() => index.addFace({ ...face('b1', 'bob', [1, 0]), bundleId: 'bundle-b' })).toThrow(/bundle-b cannot be compared/);
    expect(index.faceCount).toBe(1);
  });
});
