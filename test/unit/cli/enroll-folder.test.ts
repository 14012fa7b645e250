import { describe, expect, it } from '@jest/globals';
import { countBy } from '../../../src/cli/enroll-folder.js';

describe('countBy', () => {
  it('counts by key, keys in order', () => {
    expect(countBy(['NO_FACE', 'CORRUPT_IMAGE', 'NO_FACE'], (code) => code)).toEqual({ CORRUPT_IMAGE: 1, NO_FACE: 2 });
    expect(Object.keys(countBy(['b', 'a'], (code) => code))).toEqual(['a', 'b']);
  });
});
