/**
 * The photo store's writes in a real temporary folder: the folders a write needs are made once per
 * store, and made again when they vanish under a running store.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readdirSync, rmSync, statSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobStore, sha256Hex } from '../../../src/store/blob-store.js';

let root: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'face3d-blob-store-'));
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

/** Bytes whose SHA-256 starts with `prefix` (two hex digits): they share a shard folder. */
function bytesInShard(prefix: string, skip = 0): Buffer {
  for (let i = 0, found = 0; ; i++) {
    const bytes = Buffer.from(`photo ${i}`);
    if (sha256Hex(bytes).startsWith(prefix) && found++ === skip) return bytes;
  }
}

describe('BlobStore.put', () => {
  it('stores identical bytes once, readable by their path, with no temporary file left', async () => {
    const store = new BlobStore(root);
    const first = await store.put(Buffer.from('a photo'));
    expect(await store.put(Buffer.from('a photo'))).toEqual(first);
    expect((await store.read(first.storagePath)).toString()).toBe('a photo');
    expect(readdirSync(join(root, 'incoming'))).toEqual([]);
  });

  it('marks bytes stored already as in use again (their mtime now), so a sweep leaves them be for its grace period', async () => {
    const store = new BlobStore(root);
    const stored = await store.put(Buffer.from('a stored photo'));
    const path = join(root, stored.storagePath);
    const longAgo = new Date('2020-01-01T00:00:00Z');
    utimesSync(path, longAgo, longAgo);
    const before = Date.now() - 1000;
    expect(await store.put(Buffer.from('a stored photo'))).toEqual(stored);
    expect(statSync(path).mtimeMs).toBeGreaterThan(before);
    expect(readdirSync(join(root, 'incoming'))).toEqual([]);
  });

  it('makes its folders again when they are removed while it runs', async () => {
    const store = new BlobStore(root);
    const first = bytesInShard('0a');
    const second = bytesInShard('0a', 1);
    const stored = await store.put(first);
    rmSync(join(root, '0a'), { recursive: true });
    rmSync(join(root, 'incoming'), { recursive: true });
    const again = await store.put(second);
    expect(again.storagePath.slice(0, 2)).toBe('0a');
    expect((await store.read(again.storagePath)).equals(second)).toBe(true);
    await expect(store.read(stored.storagePath)).rejects.toMatchObject({ code: 'PHOTO_MISSING' });
  });
});
