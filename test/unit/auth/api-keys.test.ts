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
const { ApiKeys, hashKey, KEY_TRUST_MS } = await import('../../../src/auth/api-keys.js');
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

/** One key in a store that counts its lookups, can hold one back, and revokes like the table. */
function countingStore() {
  const row = { id: ID, role: 'read', label: 'test', salt: SALT, hash: hashKey(KEY, SALT), createdAt: new Date(), lastUsedAt: new Date(), revokedAt: null as Date | null };
  const state = { lookups: 0, held: null as (() => void) | null };
  const apiKey = {
    findMany: async ({ where }: { where: { id?: string } }) => {
      state.lookups++;
      const found = where.id === ID && !row.revokedAt ? [row] : [];
      if (state.held === null) return found;
      // Held: answers with what it read now, once released.
      const release = new Promise<void>((resolve) => (state.held = resolve));
      await release;
      return found;
    },
    updateMany: async () => {
      const count = row.revokedAt ? 0 : 1;
      row.revokedAt = new Date();
      return { count };
    },
    update: async () => row,
  };
  const store = { read: { apiKey }, write: async (work: (db: unknown) => Promise<unknown>) => work({ apiKey }) };
  return { store: store as unknown as Store, state };
}

describe('trusting a key found valid', () => {
  it('answers from memory for KEY_TRUST_MS after a lookup, then looks the key up again', async () => {
    const { store, state } = countingStore();
    let now = 1_000_000;
    const keys = new ApiKeys(store, () => now);
    expect(await keys.authenticate(KEY)).toMatchObject({ keyId: ID });
    now += KEY_TRUST_MS - 1;
    expect(await keys.authenticate(KEY)).toMatchObject({ keyId: ID });
    expect(state.lookups).toBe(1);
    now += 1;
    expect(await keys.authenticate(KEY)).toMatchObject({ keyId: ID });
    expect(state.lookups).toBe(2);
    // A wrong key is never trusted: every try is a lookup.
    expect(await keys.authenticate(`f3d_${ID}_${'x'.repeat(43)}`)).toBeNull();
    expect(await keys.authenticate(`f3d_${ID}_${'x'.repeat(43)}`)).toBeNull();
    expect(state.lookups).toBe(4);
  });

  it('does not trust a lookup that read the key before a revocation here finished', async () => {
    const { store, state } = countingStore();
    const keys = new ApiKeys(store, () => 0);
    state.held = () => undefined;
    const inFlight = keys.authenticate(KEY);
    await new Promise((resolve) => setImmediate(resolve));
    expect(await keys.revoke(ID)).toBe(true);
    const release = state.held;
    state.held = null;
    release();
    // Read before the revocation: that request was valid, but the key is not trusted for the next.
    expect(await inFlight).toMatchObject({ keyId: ID });
    expect(await keys.authenticate(KEY)).toBeNull();
  });
});

