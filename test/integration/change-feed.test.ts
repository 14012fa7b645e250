/**
 * The change feed between processes, on one real database: what another store (process) records
 * is applied once, in order; this store's own rows are skipped; old rows are pruned at start.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChangeFeed, type Change } from '../../src/gallery/change-feed.js';
import { GalleryStore } from '../../src/store/gallery-store.js';
import { openDatabase, type Database } from '../../src/store/database.js';
import { testDatabaseUrl } from '../helpers/database-backends.js';

let dir: string;
let database: Database;
let here: GalleryStore;
let elsewhere: GalleryStore;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'face3d-feed-'));
  database = await openDatabase(testDatabaseUrl(dir));
  here = new GalleryStore(database.prisma, { provider: database.provider });
  elsewhere = new GalleryStore(database.prisma, { provider: database.provider });
});

afterAll(async () => {
  await database.close();
  rmSync(dir, { recursive: true, force: true });
});

function feedOf(store: GalleryStore, applied: Change[]): Promise<ChangeFeed> {
  return ChangeFeed.fromNow(store, { intervalMs: 60_000, apply: async (changes) => void applied.push(...changes) });
}

describe('ChangeFeed', () => {
  it('applies what other processes record, once and in order, and skips its own', async () => {
    await elsewhere.transaction((tx) => elsewhere.recordChange(tx, 'Face', 'CREATE', ['before-start']));
    const applied: Change[] = [];
    const feed = await feedOf(here, applied);
    await elsewhere.transaction((tx) => elsewhere.recordChange(tx, 'Face', 'CREATE', ['f1', 'f2']));
    await here.transaction((tx) => here.recordChange(tx, 'Subject', 'DELETE', ['mine']));
    await elsewhere.transaction((tx) => elsewhere.recordChange(tx, 'Subject', 'DELETE', ['s1']));

    expect(await feed.poll()).toBe(3);
    expect(applied.map((change) => [change.entity, change.op, change.entityId])).toEqual([
      ['Face', 'CREATE', 'f1'],
      ['Face', 'CREATE', 'f2'],
      ['Subject', 'DELETE', 's1'],
    ]);
    expect(await feed.poll()).toBe(0);
    await feed.stop();
  });

  it('leaves nothing when the recording transaction rolls back', async () => {
    const applied: Change[] = [];
    const feed = await feedOf(here, applied);
    await expect(
      elsewhere.transaction(async (tx) => {
        await elsewhere.recordChange(tx, 'Face', 'DELETE', ['rolled-back']);
        throw new Error('the change itself failed');
      }),
    ).rejects.toThrow('the change itself failed');
    await elsewhere.transaction((tx) => elsewhere.recordChange(tx, 'Face', 'DELETE', ['kept']));
    await feed.poll();
    expect(applied.map((change) => change.entityId)).toEqual(['kept']);
  });

  it('prunes rows older than the retention when a process starts', async () => {
    await elsewhere.transaction((tx) => elsewhere.recordChange(tx, 'Photo', 'UPDATE', ['old']));
    await database.prisma.changeLog.updateMany({ where: { entityId: 'old' }, data: { createdAt: new Date(Date.now() - 2 * 24 * 3600_000) } });
    await ChangeFeed.fromNow(here, { intervalMs: 60_000, apply: async () => undefined });
    expect(await database.prisma.changeLog.count({ where: { entityId: 'old' } })).toBe(0);
    expect(await database.prisma.changeLog.count()).toBeGreaterThan(0);
  });
});
