import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { afterKeyset, decodeCursor, encodeCursor, MAX_PAGE_SIZE, pageSize, toPage } from '../../../src/store/pagination.js';

describe('keyset cursors', () => {
  it('round-trip any (createdAt, id)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4e12 }), fc.stringMatching(/^[a-z0-9_-]{1,40}$/), (ms, id) => {
        const row = { createdAt: new Date(ms), id };
        expect(decodeCursor(encodeCursor(row))).toEqual(row);
      }),
    );
  });

  it('refuse strings this API never returned', () => {
    for (const bad of ['', 'not-a-cursor', Buffer.from('12:bad id').toString('base64url')]) {
      expect(() => decodeCursor(bad)).toThrow(expect.objectContaining({ code: 'BAD_USER_INPUT' }));
    }
  });

  it('filter strictly after the cursor row in (createdAt, id) order', () => {
    const createdAt = new Date(1000);
    expect(afterKeyset(encodeCursor({ createdAt, id: 'abc' }))).toEqual({ OR: [{ createdAt: { gt: createdAt } }, { createdAt, id: { gt: 'abc' } }] });
    expect(afterKeyset(null)).toEqual({});
  });
});

describe('page sizes', () => {
  it('default to 20 and stay within 0..100', () => {
    expect(pageSize(undefined)).toBe(20);
    expect(pageSize(0)).toBe(0);
    expect(pageSize(MAX_PAGE_SIZE)).toBe(MAX_PAGE_SIZE);
    for (const bad of [-1, 101, 2.5]) expect(() => pageSize(bad)).toThrow(expect.objectContaining({ code: 'BAD_USER_INPUT' }));
  });

  it('tell whether a next page exists from one extra row', () => {
    expect(toPage([1, 2, 3], 2)).toEqual({ items: [1, 2], hasNextPage: true });
    expect(toPage([1, 2], 2)).toEqual({ items: [1, 2], hasNextPage: false });
  });
});
