import { describe, expect, it } from '@jest/globals';
import { newRowId } from '../../../src/store/insert-rows.js';

describe('newRowId', () => {
  it('gives ULIDs that increase with every call, all distinct', () => {
    const ids = Array.from({ length: 5000 }, () => newRowId());
    for (const id of ids) expect(id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('draws the random part of each new millisecond’s first id afresh, every character used', async () => {
    const randomParts: string[] = [];
    for (let i = 0; i < 40; i++) {
      await new Promise((resolve) => setTimeout(resolve, 2));
      randomParts.push(newRowId().slice(10));
    }
    expect(new Set(randomParts).size).toBe(randomParts.length);
    expect(new Set(randomParts.join('')).size).toBe(32);
  });
});
