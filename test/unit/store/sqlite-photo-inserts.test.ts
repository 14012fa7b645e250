import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { isFace3dError } from '../../../src/core/errors.js';
import { runWithRequest } from '../../../src/core/request-context.js';
import { openDatabase, type Database } from '../../../src/store/database.js';
import { ChangeFeed, type Change } from '../../../src/gallery/change-feed.js';
import { GalleryStore } from '../../../src/store/gallery-store.js';
import { PhotoRepository, type AcceptedPhoto } from '../../../src/store/photo-repository.js';
import { isDatabaseBusy } from '../../../src/store/prisma-errors.js';
import { SqlitePhotoInserts } from '../../../src/store/sqlite-photo-inserts.js';

/** A photo as the blob store hands it over: new bytes each time unless `sha256` is given. */
function acceptedPhoto(sha256 = randomBytes(32).toString('hex')): AcceptedPhoto {
  return { sha256, storagePath: `${sha256.slice(0, 2)}/${sha256}`, mimeType: 'image/jpeg', width: 250, height: 180 };
}

describe('SqlitePhotoInserts: the upload insert on its own connection', () => {
  let dir: string;
  let database: Database;
  let store: GalleryStore;
  let viaPrisma: PhotoRepository;
  let viaOwnConnection: PhotoRepository;
  let inserts: SqlitePhotoInserts;
  let subjectId: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'face3d-photo-inserts-'));
    database = await openDatabase(`file:${join(dir, 'gallery.db')}`);
    store = new GalleryStore(database.prisma, { provider: database.provider });
    inserts = SqlitePhotoInserts.open(database.file!, 200);
    viaPrisma = new PhotoRepository(store);
    viaOwnConnection = new PhotoRepository(store, inserts);
    subjectId = (await database.prisma.subject.create({ data: { name: 'Ada' } })).id;
  });

  afterAll(async () => {
    inserts.close();
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Stored text of the row's timestamps, as SQLite holds them (what ordering by createdAt compares). */
  function storedTimes(table: 'Photo' | 'Job', id: string): { createdAt: string; updatedAt: string } {
    const reader = new BetterSqlite3(database.file!, { readonly: true });
    try {
      return reader.prepare(`SELECT "createdAt", "updatedAt" FROM "${table}" WHERE "id" = ?`).get(id) as { createdAt: string; updatedAt: string };
    } finally {
      reader.close();
    }
  }

  it('writes the photo and its ENROLL job as Prisma’s own insert does: every column read back alike, timestamps in the same stored form', async () => {
    const faceBox = { x: 10, y: 12, width: 90, height: 100 };
    const [ours] = await runWithRequest({ id: 'req-own' }, () => viaOwnConnection.accept(subjectId, [acceptedPhoto()], faceBox, 'HIGH'));
    const [prismas] = await runWithRequest({ id: 'req-prisma' }, () => viaPrisma.accept(subjectId, [acceptedPhoto()], faceBox, 'HIGH'));
    expect(ours.created).toBe(true);
    const read = async (id: string) => database.prisma.photo.findUniqueOrThrow({ where: { id }, include: { jobs: true } });
    const [ownRow, prismaRow] = await Promise.all([read(ours.photo.id), read(prismas.photo.id)]);
    const comparable = ({ id: _id, sha256: _sha, storagePath: _path, createdAt: _c, updatedAt: _u, jobs, ...row }: Awaited<ReturnType<typeof read>>) => ({
      ...row,
      jobs: jobs.map(({ id: _jobId, photoId: _photoId, createdAt: _jc, updatedAt: _ju, requestId, ...job }) => ({ ...job, requestId: requestId?.replace(/own|prisma/, '') })),
    });
    expect(comparable(ownRow)).toEqual(comparable(prismaRow));
    expect(ownRow).toMatchObject({ status: 'PENDING', faceBox, qualityFilter: 'HIGH', width: 250, height: 180 });
    expect(ownRow.jobs).toEqual([expect.objectContaining({ kind: 'ENROLL', status: 'QUEUED', requestId: 'req-own', attempts: 0 })]);
    // What the caller was told is what was stored, and the job was queued at the photo's own time.
    expect(ownRow.createdAt).toEqual(ours.photo.createdAt);
    expect(ownRow.jobs[0].createdAt).toEqual(ownRow.createdAt);
    const ownTimes = storedTimes('Photo', ownRow.id);
    const prismaTimes = storedTimes('Photo', prismaRow.id);
    const storedForm = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$/;
    for (const text of [...Object.values(ownTimes), ...Object.values(prismaTimes), ...Object.values(storedTimes('Job', ownRow.jobs[0].id))]) expect(text).toMatch(storedForm);
    expect(ownTimes.createdAt <= prismaTimes.createdAt).toBe(true);
  });

  it('stores the same bytes once per subject: one photo, one job, the first of them created', async () => {
    const photo = acceptedPhoto();
    const first = await viaOwnConnection.accept(subjectId, [photo, acceptedPhoto(photo.sha256)], null);
    const again = await viaOwnConnection.accept(subjectId, [photo], null);
    expect(first.map((result) => result.created)).toEqual([true, false]);
    expect(again[0].created).toBe(false);
    expect(new Set([...first, ...again].map((result) => result.photo.id)).size).toBe(1);
    expect(await database.prisma.job.count({ where: { photoId: first[0].photo.id } })).toBe(1);
  });

  it('records each photo written in the change feed as Prisma’s path does, PENDING under the process’s origin, and the same bytes again not', async () => {
    const applied: Change[] = [];
    const elsewhere = await ChangeFeed.fromNow(new GalleryStore(database.prisma, { provider: database.provider }), { intervalMs: 60_000, apply: async (changes) => void applied.push(...changes) });
    const again = acceptedPhoto();
    const [ours, oursToo] = await viaOwnConnection.accept(subjectId, [acceptedPhoto(), again], null);
    const [prismas] = await viaPrisma.accept(subjectId, [acceptedPhoto()], null);
    await viaOwnConnection.accept(subjectId, [again], null);
    await viaPrisma.accept(subjectId, [again], null);

    expect(await elsewhere.poll()).toBe(3);
    expect(applied).toEqual([ours, oursToo, prismas].map((result) => expect.objectContaining({ entity: 'Photo', entityId: result.photo.id, op: 'CREATE', photoStatus: 'PENDING' })));
    const rows = await database.prisma.changeLog.findMany({ where: { entityId: { in: [ours.photo.id, prismas.photo.id] } }, orderBy: { id: 'asc' } });
    // The process that uploaded has published them itself: its own feed skips them.
    expect(rows.map((row) => row.origin)).toEqual([store.origin, store.origin]);
    const photos = await database.prisma.photo.findMany({ where: { id: { in: [ours.photo.id, prismas.photo.id] } }, orderBy: { createdAt: 'asc' } });
    expect(rows.map((row) => row.createdAt)).toEqual(photos.map((photo) => photo.createdAt));
  });

  it('refuses a subject that does not exist with NOT_FOUND, writing nothing', async () => {
    const photos = await database.prisma.photo.count();
    const error = await viaOwnConnection.accept('no-such-subject', [acceptedPhoto(), acceptedPhoto()], null).catch((caught: unknown) => caught);
    expect(isFace3dError(error) && error.code).toBe('NOT_FOUND');
    expect(await database.prisma.photo.count()).toBe(photos);
  });

  it('waits for another process’s write lock up to its busy timeout, then fails as the database being busy', async () => {
    const other = new BetterSqlite3(database.file!);
    try {
      other.prepare('BEGIN IMMEDIATE').run();
      const error = await viaOwnConnection.accept(subjectId, [acceptedPhoto()], null).catch((caught: unknown) => caught);
      // The error itself is printed when it is not the busy one.
      expect(isDatabaseBusy(error) ? 'busy' : error).toBe('busy');
      other.prepare('ROLLBACK').run();
      const [result] = await viaOwnConnection.accept(subjectId, [acceptedPhoto()], null);
      expect(result.created).toBe(true);
    } finally {
      other.close();
    }
  });
});
