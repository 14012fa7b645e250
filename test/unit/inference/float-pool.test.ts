import { describe, expect, it } from '@jest/globals';
import { Float32Pool } from '../../../src/inference/float-pool.js';

describe('Float32Pool', () => {
  it('lends a given-back array again for the same length, and a new one while it is out', () => {
    const pool = new Float32Pool(4);
    const first = pool.take(12);
    const second = pool.take(12);
    expect(second).not.toBe(first);
    expect(first).toHaveLength(12);
    pool.give(first);
    expect(pool.take(12)).toBe(first);
    expect(pool.take(7)).toHaveLength(7);
  });

  it('keeps at most keepPerLength idle arrays of a length, each once, and never a view into a larger buffer', () => {
    const pool = new Float32Pool(2);
    const arrays = [pool.take(3), pool.take(3), pool.take(3)];
    for (const array of arrays) pool.give(array);
    pool.give(arrays[0]);
    const view = new Float32Array(6).subarray(0, 3);
    pool.give(view);
    const lent = [pool.take(3), pool.take(3), pool.take(3)];
    expect(lent.filter((array) => arrays.includes(array))).toHaveLength(2);
    expect(lent).not.toContain(view);
    expect(new Set(lent).size).toBe(3);
  });

  it('borrow gives the array back when the use settles, also when it fails', async () => {
    const pool = new Float32Pool(4);
    let seen: Float32Array | undefined;
    await expect(pool.borrow(5, async (array) => {
      seen = array;
      throw new Error('boom');
    })).rejects.toThrow('boom');
    expect(pool.take(5)).toBe(seen);
    const sum = await pool.borrow(2, async (array) => {
      array.set([1, 2]);
      return array[0] + array[1];
    });
    expect(sum).toBe(3);
  });
});
