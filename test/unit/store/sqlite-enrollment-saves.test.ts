import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { joinedIdentityVector } from '../../../src/core/vector.js';
import { openDatabase, type Database } from '../../../src/store/database.js';
import { GalleryStore } from '../../../src/store/gallery-store.js';
import { JobRepository, type ClaimedWork } from '../../../src/store/job-repository.js';
import { PhotoRepository, type EncodedFaceRecord } from '../../../src/store/photo-repository.js';
import { SqliteEnrollmentSaves } from '../../../src/store/sqlite-enrollment-saves.js';

const LEASE_MS = 60_000;

/** A face as the worker encodes it: quality, landmarks and a second bundle's vector included. */
function encodedFace(seed: number): EncodedFaceRecord {
  return {
    box: { x: seed, y: 2.5, width: 30, height: 40 },
    score: 0.75,
    pose: { yaw: 0.1, pitch: -0.2, roll: 0.3 },
    expression: Float32Array.from([seed, 0.5]),
    landmarks: Float32Array.from([1, 2, 3, seed]),
    quality: { score: 0.625, issues: ['BLURRY', 'TOO_DARK'] },
    ...joinedIdentityVector('bundle-a', [seed, 1], [2, 3]),
    otherVectors: [joinedIdentityVector('bundle-b', [seed, 4, 5], [6])],
  };
}

describe('SqliteEnrollmentSaves: the worker’s save on its own connection', () => {
  let dir: string;
  let database: Database;
  let jobs: JobRepository;
  let viaPrisma: PhotoRepository;
  let viaOwnConnection: PhotoRepository;
  let saves: SqliteEnrollmentSaves;
  let subjectId: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'face3d-enrollment-saves-'));
    database = await openDatabase(`file:${join(dir, 'gallery.db')}`);
    const store = new GalleryStore(database.prisma, { provider: database.provider });
    saves = SqliteEnrollmentSaves.open(database.file!, 200);
    jobs = new JobRepository(store);
    viaPrisma = new PhotoRepository(store);
    viaOwnConnection = new PhotoRepository(store, undefined, saves);
    subjectId = (await database.prisma.subject.create({ data: { name: 'Ada' } })).id;
  });

  afterAll(async () => {
    saves.close();
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function queue(count: number): Promise<void> {
    const photos = Array.from({ length: count }, () => {
      const sha256 = randomBytes(32).toString('hex');
      return { sha256, storagePath: `${sha256.slice(0, 2)}/${sha256}`, mimeType: 'image/jpeg', width: 250, height: 180 };
    });
    await viaPrisma.accept(subjectId, photos, null, 'HIGH');
  }

  /** Saves the claimed jobs' faces and claims `next` more in the same transaction, through `photos`. */
  async function saveAndClaim(photos: PhotoRepository, claimed: readonly ClaimedWork[], next: number) {
    let nextClaimed: ClaimedWork[] = [];
    const saved = await photos.saveFaces(
      claimed.map(({ job, photo }, i) => ({ photoId: photo.id, jobId: job.id, face: encodedFace(i + 1) })),
      async (tx) => {
        nextClaimed = await jobs.claimIn(tx, next, LEASE_MS);
      },
    );
    return { saved, nextClaimed };
  }

  /** Every row the save wrote or changed for these photos, read through Prisma, less ids and times (compared apart). */
  async function rowsOf(photoIds: readonly string[]) {
    const photos = await database.prisma.photo.findMany({
      where: { id: { in: [...photoIds] } },
      include: { face: { include: { vectors: { orderBy: { bundleId: 'asc' } } } }, jobs: true },
      orderBy: { id: 'asc' },
    });
    const changes = await database.prisma.changeLog.findMany({ where: { entityId: { in: [...photoIds, ...photos.map((photo) => photo.face?.id ?? '')] } }, orderBy: { id: 'asc' } });
    return {
      photos: photos.map(({ id: _id, sha256: _sha, storagePath: _path, createdAt: _c, updatedAt: _u, face, jobs: photoJobs, ...photo }) => ({
        ...photo,
        face: face && (({ id: _faceId, photoId: _photoId, createdAt: _fc, vectors, ...columns }) => ({ ...columns, vectors: vectors.map(({ id: _v, faceId: _f, createdAt: _vc, ...vector }) => vector) }))(face),
        jobs: photoJobs.map(({ id: _jobId, photoId: _jp, createdAt: _jc, updatedAt: _ju, leaseUntil, requestId: _r, ...job }) => ({ ...job, leased: leaseUntil !== null })),
      })),
      changes: changes.map(({ id: _id, entityId: _e, createdAt: _c, ...change }) => change),
    };
  }

  /** The stored text of every timestamp the save wrote, as SQLite holds it (what ordering by createdAt compares). */
  function storedTimes(photoIds: readonly string[]): string[] {
    const reader = new BetterSqlite3(database.file!, { readonly: true });
    try {
      const marks = photoIds.map(() => '?').join(', ');
      const rows = [
        ...reader.prepare(`SELECT "updatedAt" AS t FROM "Photo" WHERE "id" IN (${marks})`).all(...photoIds),
        ...reader.prepare(`SELECT "createdAt" AS t FROM "Face" WHERE "photoId" IN (${marks})`).all(...photoIds),
        ...reader.prepare(`SELECT v."createdAt" AS t FROM "FaceVector" v JOIN "Face" f ON f."id" = v."faceId" WHERE f."photoId" IN (${marks})`).all(...photoIds),
        ...reader.prepare(`SELECT "updatedAt" AS t FROM "Job" WHERE "photoId" IN (${marks}) UNION ALL SELECT "leaseUntil" FROM "Job" WHERE "photoId" IN (${marks}) AND "leaseUntil" IS NOT NULL`).all(...photoIds, ...photoIds),
      ] as { t: string }[];
      return rows.map((row) => row.t);
    } finally {
      reader.close();
    }
  }

  it('writes faces, vectors, photos, jobs, change entries and the next claims as Prisma’s save does: every row read back alike', async () => {
    await queue(5);
    const first = await jobs.claimMany(2, LEASE_MS);
    const prismas = await saveAndClaim(viaPrisma, first, 1);
    const prismaNext = await rowsOf([prismas.nextClaimed[0].photo.id]);
    const second = [prismas.nextClaimed[0], ...(await jobs.claimMany(1, LEASE_MS))];
    const ours = await saveAndClaim(viaOwnConnection, second, 1);
    expect(ours.nextClaimed).toHaveLength(1);
    expect(ours.saved.map((item) => item?.photo.status)).toEqual(['READY', 'READY']);

    // What the caller was told is what was stored.
    for (const item of ours.saved) {
      const face = await database.prisma.face.findUniqueOrThrow({ where: { id: item!.face.id } });
      expect(face.createdAt).toEqual(item!.face.createdAt);
      expect(await viaPrisma.findMany([item!.photo.id])).toEqual([item!.photo]);
    }
    expect((await viaPrisma.findMany([ours.nextClaimed[0].photo.id]))[0]).toEqual(ours.nextClaimed[0].photo);
    expect(ours.nextClaimed[0].photo.status).toBe('PROCESSING');

    const [prismaRows, ownRows] = await Promise.all([rowsOf(first.map(({ photo }) => photo.id)), rowsOf(second.map(({ photo }) => photo.id))]);
    expect(ownRows).toEqual(prismaRows);
    expect(ownRows.photos[0]).toMatchObject({ status: 'READY', qualityScore: 0.625, qualityIssues: 'BLURRY,TOO_DARK', face: { boxX: 1, boxY: 2.5 } });
    expect(ownRows.photos[0].face!.vectors.map((vector) => vector.bundleId)).toEqual(['bundle-a', 'bundle-b']);
    expect(ownRows.changes).toEqual(expect.arrayContaining([expect.objectContaining({ entity: 'Face', op: 'CREATE', photoStatus: 'READY' })]));
    // The claims of the next jobs: the same rows, the same change entries.
    const ownNext = await rowsOf([ours.nextClaimed[0].photo.id]);
    expect(ownNext).toEqual(prismaNext);
    expect(ownNext.changes).toEqual([
      // The upload's own entry.
      expect.objectContaining({ entity: 'Photo', op: 'CREATE', photoStatus: 'PENDING' }),
      expect.objectContaining({ entity: 'Photo', op: 'UPDATE', photoStatus: 'PROCESSING' }),
    ]);

    const storedForm = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$/;
    const times = storedTimes([...second, ...ours.nextClaimed].map(({ photo }) => photo.id));
    expect(times.length).toBeGreaterThan(8);
    for (const text of times) expect(text).toMatch(storedForm);
  });

  it('writes nothing of a batch whose transaction fails: faces, statuses, jobs, change entries and claims all rolled back', async () => {
    await queue(3);
    const claimed = await jobs.claimMany(2, LEASE_MS);
    const before = await rowsOf(claimed.map(({ photo }) => photo.id));
    const changes = await database.prisma.changeLog.count();
    const queued = await database.prisma.job.count({ where: { status: 'QUEUED' } });
    const failing = viaOwnConnection.saveFaces(
      claimed.map(({ job, photo }, i) => ({ photoId: photo.id, jobId: job.id, face: encodedFace(i) })),
      async (tx) => {
        expect(await jobs.claimIn(tx, 1, LEASE_MS)).toHaveLength(1);
        throw new Error('the machine stopped');
      },
    );
    await expect(failing).rejects.toThrow('the machine stopped');
    expect(await rowsOf(claimed.map(({ photo }) => photo.id))).toEqual(before);
    expect(await database.prisma.changeLog.count()).toBe(changes);
    expect(await database.prisma.job.count({ where: { status: 'QUEUED' } })).toBe(queued);
    // The batch saves afterwards; the same photo twice gets one face, both its jobs done.
    const again = await viaOwnConnection.saveFaces([
      { photoId: claimed[0].photo.id, jobId: claimed[0].job.id, face: encodedFace(1) },
      { photoId: claimed[0].photo.id, jobId: claimed[1].job.id, face: encodedFace(2) },
    ]);
    expect(again.map((item) => item?.photo.status ?? null)).toEqual(['READY', null]);
    expect(await database.prisma.job.findMany({ where: { id: { in: claimed.map(({ job }) => job.id) } }, select: { status: true } })).toEqual([{ status: 'DONE' }, { status: 'DONE' }]);
  });
});
