/**
 * API keys are checked by comparing salted hashes with crypto.timingSafeEqual, so the time a wrong
 * key takes tells nothing about how much of it was right. node:crypto is wrapped to see the calls.
 */
import { describe, expect, it, jest } from '@jest/globals';

const comparisons: [Buffer, Buffer][] = [];
const realCrypto = await import('node:crypto');
jest.unstable_mockModule('node:crypto', () => ({
  ...realCrypto,
  default: realCrypto,
  timingSafeEqual: (a: Buffer, b: Buffer) => {
    comparisons.push([a, b]);
    return realCrypto.timingSafeEqual(a, b);
  },
}));
const { ApiKeys, hashKey } = await import('../../../src/auth/api-keys.js');
type Store = ConstructorParameters<typeof ApiKeys>[0];

const ID = 'abc123';
const KEY = `f3d_${ID}_${'k'.repeat(43)}`;
const SALT = '0123456789abcdef0123456789abcdef';

function keysWithOneKey(): InstanceType<typeof ApiKeys> {
  const row = { id: ID, role: 'read', label: 'test', salt: SALT, hash: hashKey(KEY, SALT), createdAt: new Date(), lastUsedAt: new Date(), revokedAt: null };
  const store = {
    read: { apiKey: { findMany: async ({ where }: { where: { id?: string } }) => (where.id === ID ? [row] : []) } },
    write: async () => undefined,
  };
  return new ApiKeys(store as unknown as Store);
}

describe('API key checks', () => {
  it('compare equal-length hashes in constant time, for right and wrong keys alike', async () => {
    const keys = keysWithOneKey();
    comparisons.length = 0;
    expect(await keys.authenticate(KEY)).toMatchObject({ keyId: ID, role: 'read' });
    expect(await keys.authenticate(`f3d_${ID}_${'k'.repeat(42)}x`)).toBeNull();
    expect(await keys.authenticate(`f3d_${ID}_${'x'.repeat(43)}`)).toBeNull();
    expect(comparisons).toHaveLength(3);
    for (const [a, b] of comparisons) expect([a.length, b.length]).toEqual([32, 32]);
  });

  it('salt the hash: the same key under two salts hashes differently, and neither is the plain SHA-256', () => {
    const other = 'fedcba9876543210fedcba9876543210';
    const plain = realCrypto.createHash('sha256').update(KEY).digest('hex');
    expect(hashKey(KEY, SALT)).not.toBe(hashKey(KEY, other));
    expect([hashKey(KEY, SALT), hashKey(KEY, other)]).not.toContain(plain);
    expect(hashKey(KEY, SALT)).toMatch(/^[0-9a-f]{64}$/);
  });
});
