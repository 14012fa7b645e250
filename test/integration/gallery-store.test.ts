/**
 * The gallery's storage side on a real SQLite file, without the face models: repositories, blob
 * store, job queue and worker (with a stand-in analyser, since what is tested here is the job
 * bookkeeping, not inference), API keys.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { mkdir, truncate, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { ApiKeys, BOOTSTRAP_LABEL, hashKey, KEY_TRUST_MS } from '../../src/auth/api-keys.js';
import { Face3dError } from '../../src/core/errors.js';
import { BlobStore, sha256Hex, storagePathFor } from '../../src/store/blob-store.js';
import { ThresholdPolicy } from '../../src/gallery/decision.js';
import { Gallery } from '../../src/gallery/gallery.js';
import { GalleryIndex } from '../../src/gallery/gallery-index.js';
import { encodeCursor } from '../../src/store/pagination.js';
import { GalleryStore } from '../../src/store/gallery-store.js';
import { applyToGallery, ChangeFeed } from '../../src/gallery/change-feed.js';
import type { EncodedFace, FaceAnalyser } from '../../src/inference/bundle-encoder.js';
import type { RgbImage } from '../../src/core/image.js';
import { joinedIdentityVector } from '../../src/core/vector.js';
import type { Bundle } from '../../src/morphable/bundle.js';
import { EnrollmentWorker } from '../../src/jobs/enrollment-worker.js';
import { PhotoEvents } from '../../src/gallery/photo-events.js';
import { JobRepository, type ClaimedWork } from '../../src/store/job-repository.js';
import type { PhotoRecord } from '../../src/store/records.js';
import { openDatabase, type Database, type Db } from '../../src/store/database.js';
import { testDatabaseUrl } from '../helpers/database-backends.js';

const BUNDLE = 'test-bundle';
const K = 2;

/** Tells faces apart by the image's first pixel: red → a vector, black → no face, blue → a transient failure. */
class StandInAnalyser implements FaceAnalyser {
  calls = 0;
  transientFailures = 0;

  constructor(readonly bundleId = BUNDLE) {}

  async encode(image: RgbImage): Promise<EncodedFace[]> {
    this.calls++;
    const [r, g, b] = image.data;
    if (b > 200 && this.transientFailures-- > 0) throw new Error('transient');
    if (r + g + b < 30) return [];
    // All landmarks at one point: a face too small and (8×8 of one colour) too flat for the quality checks.
    const face = { box: { x: 1, y: 2, width: 3, height: 4 }, score: 0.9, pose: { yaw: 1, pitch: 2, roll: 3 }, expression: Float32Array.from([0.5]), landmarks: { points: new Float32Array(468 * 3) } };
    return [{ ...face, vector: joinedIdentityVector(this.bundleId, [r, g], [b, 1]) } as unknown as EncodedFace];
  }
}

/** Every photo status the gallery publishes, in order. */
class RecordedEvents extends PhotoEvents {
  override publish(photo: PhotoRecord): void {
    changes.push(photo);
    super.publish(photo);
  }
}

function png(r: number, g: number, b: number): Promise<Buffer> {
  return sharp({ create: { width: 8, height: 8, channels: 3, background: { r, g, b } } }).png().toBuffer();
}

let dir: string;
let database: Database;
let store: GalleryStore;
let blobs: BlobStore;
let gallery: Gallery;
let jobs: JobRepository;
let analyser: StandInAnalyser;
let changes: PhotoRecord[];

function newWorker(concurrency = 1): EnrollmentWorker {
  return new EnrollmentWorker({
    jobs,
    gallery,
    blobs,
    analyser,
    decodeLimits: { maxBytes: 1e6, maxPixels: 1e6 },
    concurrency,
    pollMs: 50,
  });
}

/** What a worker's backfill needs of the gallery, as the gallery does it. */
function backfillOf(gallery: Gallery): Pick<Gallery, 'claimFacesWithoutVector' | 'addFaceVectors'> {
  return { claimFacesWithoutVector: (...args) => gallery.claimFacesWithoutVector(...args), addFaceVectors: (vectors) => gallery.addFaceVectors(vectors) };
}

/** A worker of `concurrency` loops whose saves go through `enrollFaces`, to watch or hold them. */
function workerSavingWith(concurrency: number, enrollFaces: Gallery['enrollFaces']): EnrollmentWorker {
  return new EnrollmentWorker({
    jobs,
    blobs,
    analyser,
    decodeLimits: { maxBytes: 1e6, maxPixels: 1e6 },
    concurrency,
    pollMs: 50,
    gallery: { photoChanged: (photo) => gallery.photoChanged(photo), enrollFaces, ...backfillOf(gallery) },
  });
}

/** The oldest runnable job, claimed alone. */
async function claimOne(jobs: JobRepository): Promise<ClaimedWork | undefined> {
  const [claimed] = await jobs.claimMany(1, 60_000);
  return claimed;
}

async function runJobs(): Promise<void> {
  const worker = newWorker();
  worker.start();
  await worker.idle();
  await worker.stop();
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'face3d-gallery-'));
  database = await openDatabase(testDatabaseUrl(dir));
  store = new GalleryStore(database.prisma, { provider: database.provider });
  blobs = new BlobStore(join(dir, 'photos'));
  jobs = new JobRepository(store);
  analyser = new StandInAnalyser();
  gallery = new Gallery({
    store,
    blobs,
    index: new GalleryIndex(BUNDLE, 2 * K),
    analyser,
    bundle: { manifest: { id: BUNDLE } } as Bundle,
    decodeLimits: { maxBytes: 1e6, maxPixels: 1e6 },
    decision: new ThresholdPolicy(undefined),
    events: new RecordedEvents(),
    onQueued: () => undefined,
  });
});

beforeEach(() => {
  changes = [];
});

afterAll(async () => {
  await database.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('subjects', () => {
  it('are created, updated and found; externalId is unique (CONFLICT) and blanks are refused', async () => {
    const alice = await gallery.subjects.create({ name: ' Alice ', externalId: 'ext-1', metadata: { team: 'a' } });
    expect(alice).toMatchObject({ name: 'Alice', externalId: 'ext-1', metadata: { team: 'a' } });
    await expect(gallery.subjects.create({ name: 'Eve', externalId: 'ext-1' })).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(gallery.subjects.create({ name: '   ' })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    const updated = await gallery.subjects.update(alice.id, { externalId: null, metadata: null });
    expect(updated).toMatchObject({ name: 'Alice', externalId: null, metadata: null });
    await expect(gallery.subjects.update('missing', { name: 'x' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await gallery.subjects.findMany([alice.id, 'missing'])).toEqual([updated, null]);
  });

  it('page forwards in creation order and search by name part or exact externalId', async () => {
    for (const name of ['Page A', 'Page B', 'Page C']) await gallery.subjects.create({ name, externalId: `page-${name.at(-1)}` });
    const first = await gallery.subjects.list({ first: 2, search: 'page' });
    expect(first.items.map((subject) => subject.name)).toEqual(['Page A', 'Page B']);
    expect(first.hasNextPage).toBe(true);
    const second = await gallery.subjects.list({ first: 2, search: 'page', after: encodeCursor(first.items[1]) });
    expect(second.items.map((subject) => subject.name)).toEqual(['Page C']);
    expect(second.hasNextPage).toBe(false);
    expect(await gallery.subjects.count('page')).toBe(3);
    expect((await gallery.subjects.list({ search: 'page-B' })).items.map((subject) => subject.name)).toEqual(['Page B']);
  });
});

describe('enrollment jobs', () => {
  it('store each photo once per subject, durably, and enroll one face for it', async () => {
    const subject = await gallery.subjects.create({ name: 'Red' });
    const bytes = await png(250, 10, 10);
    const [first] = await gallery.enroll(subject.id, [{ bytes }], null, 'NONE');
    const [again] = await gallery.enroll(subject.id, [{ bytes }], null, 'NONE');
    expect(first).toMatchObject({ created: true, photo: { status: 'PENDING', width: 8, height: 8, mimeType: 'image/png', sha256: sha256Hex(bytes) } });
    expect(again).toEqual({ created: false, photo: first.photo });
    expect(existsSync(join(dir, 'photos', first.photo.storagePath))).toBe(true);

    await runJobs();
    const [photo] = await gallery.photos.findMany([first.photo.id]);
    expect(photo?.status).toBe('READY');
    expect(changes.map((change) => change.status)).toEqual(['PENDING', 'PROCESSING', 'READY']);
    const [face] = await gallery.photos.facesByPhotoIds([photo!.id]);
    expect(face).toMatchObject({ box: { x: 1, y: 2, width: 3, height: 4 }, pose: { yaw: 1, pitch: 2, roll: 3 }, expression: Float32Array.from([0.5]) });
    const [vector] = await gallery.photos.vectorsByFaceIds([face!.id], BUNDLE);
    expect(vector).toEqual({ faceId: face!.id, ...joinedIdentityVector(BUNDLE, [250, 10], [10, 1]) });
    expect(await gallery.photos.vectorsByFaceIds([face!.id], 'another-bundle')).toEqual([null]);
    expect(gallery.index.template(subject.id)).toBeDefined();
  });

  it('fail a photo without a face at once with NO_FACE, and retry transient failures', async () => {
    const subject = await gallery.subjects.create({ name: 'Mixed' });
    const [dark, flaky] = await gallery.enroll(subject.id, [{ bytes: await png(0, 0, 0) }, { bytes: await png(20, 20, 250) }], null, 'NONE');
    analyser.transientFailures = 1;
    const before = analyser.calls;
    await runJobs();
    const [darkPhoto, flakyPhoto] = await gallery.photos.findMany([dark.photo.id, flaky.photo.id]);
    expect(darkPhoto).toMatchObject({ status: 'FAILED', error: { code: 'NO_FACE' } });
    expect(flakyPhoto?.status).toBe('READY');
    expect(analyser.calls - before).toBe(3);
  });

  it('refuse a face below the bar (default AUTO) with LOW_QUALITY, keeping its quality; NONE enrolls it with its quality', async () => {
    const subject = await gallery.subjects.create({ name: 'Blurred' });
    const [refused] = await gallery.enroll(subject.id, [{ bytes: await png(120, 120, 120) }], null);
    const [accepted] = await gallery.enroll(subject.id, [{ bytes: await png(121, 120, 120) }], null, 'NONE');
    expect([refused.photo.qualityFilter, accepted.photo.qualityFilter]).toEqual(['AUTO', 'NONE']);
    await runJobs();
    const [refusedPhoto, acceptedPhoto] = await gallery.photos.findMany([refused.photo.id, accepted.photo.id]);
    expect(refusedPhoto).toMatchObject({ status: 'FAILED', error: { code: 'LOW_QUALITY', message: expect.stringMatching(/AUTO quality bar: .*BLURRY/) } });
    expect(refusedPhoto!.quality!.issues).toEqual(expect.arrayContaining(['FACE_TOO_SMALL', 'BLURRY']));
    expect(await gallery.photos.facesByPhotoIds([refused.photo.id])).toEqual([null]);
    expect(acceptedPhoto).toMatchObject({ status: 'READY', quality: refusedPhoto!.quality });
    expect(acceptedPhoto!.quality!.score).toBeLessThan(0.1);
  });

  it('give up after maxAttempts transient failures', async () => {
    const subject = await gallery.subjects.create({ name: 'Doomed' });
    const [result] = await gallery.enroll(subject.id, [{ bytes: await png(30, 30, 240) }], null, 'NONE');
    analyser.transientFailures = 100;
    await runJobs();
    const [photo] = await gallery.photos.findMany([result.photo.id]);
    expect(photo).toMatchObject({ status: 'FAILED', error: { code: 'INTERNAL', message: 'transient' } });
    analyser.transientFailures = 0;
  });

  it('refuse a batch with an unusable image as a whole, naming it', async () => {
    const subject = await gallery.subjects.create({ name: 'Batch' });
    const images = [{ bytes: await png(100, 0, 0) }, { bytes: Buffer.from('not an image'), filename: 'notes.txt' }];
    await expect(gallery.enroll(subject.id, images, null)).rejects.toMatchObject({ code: 'UNSUPPORTED_IMAGE', message: expect.stringMatching(/^photo 2 \(notes.txt\)/) });
    await expect(gallery.enroll(subject.id, [{ bytes: await png(100, 0, 0) }], { x: 50, y: 50, width: 10, height: 10 })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    await expect(gallery.enroll('missing', [{ bytes: await png(100, 0, 0) }], null)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await blobs.files()).map((file) => file.storagePath)).not.toContain(storagePathFor(sha256Hex(await png(100, 0, 0))));
    expect((await gallery.photos.pagesBySubject([subject.id], {}))[0].items).toEqual([]);
  });

  it('after a crash: RUNNING jobs are queued again, or failed once out of attempts; nothing stays PENDING without a job', async () => {
    const subject = await gallery.subjects.create({ name: 'Crash' });
    const [a, b, c] = await gallery.enroll(subject.id, [{ bytes: await png(200, 1, 1) }, { bytes: await png(200, 2, 2) }, { bytes: await png(200, 3, 3) }], null, 'NONE');
    // What a process killed mid-inference leaves behind:
    await claimOne(jobs);
    const exhausted = (await claimOne(jobs))!;
    await database.prisma.job.update({ where: { id: exhausted.job.id }, data: { attempts: exhausted.job.maxAttempts } });
    await database.prisma.job.deleteMany({ where: { photoId: c.photo.id } });

    expect(await jobs.recover()).toEqual({ requeued: 1, failed: 1, enqueued: 1 });
    const statuses = async () => (await gallery.photos.findMany([a.photo.id, b.photo.id, c.photo.id])).map((photo) => photo?.status);
    expect(await statuses()).toEqual(['PENDING', 'FAILED', 'PENDING']);
    await runJobs();
    expect(await statuses()).toEqual(['READY', 'FAILED', 'READY']);
    expect(await jobs.unfinishedCount()).toBe(0);
  });

  it('store the faces of jobs that finish while a save is written together, in one transaction, once it commits', async () => {
    const subject = await gallery.subjects.create({ name: 'Together' });
    const enrolled = await gallery.enroll(subject.id, await Promise.all([1, 2, 3, 4].map(async (n) => ({ bytes: await png(200, 40 + n, 40) }))), null, 'NONE');
    const batches: number[] = [];
    const enrollFaces = gallery.enrollFaces.bind(gallery);
    const callsBefore = analyser.calls;
    // The first save is held until every job has been encoded, so the others finish behind it.
    const worker = workerSavingWith(4, async (faces, andThen) => {
      batches.push(faces.length);
      if (batches.length === 1) while (analyser.calls < callsBefore + 4) await new Promise((resolve) => setTimeout(resolve, 5));
      await new Promise((resolve) => setTimeout(resolve, 20));
      return enrollFaces(faces, andThen);
    });
    worker.start();
    await worker.idle();
    await worker.stop();

    expect(batches.reduce((a, b) => a + b, 0)).toBe(4);
    expect(batches.length).toBeLessThan(4);
    const photos = await gallery.photos.findMany(enrolled.map((result) => result.photo.id));
    expect(photos.map((photo) => photo?.status)).toEqual(['READY', 'READY', 'READY', 'READY']);
  });

  it("wait for the faces of the worker's other jobs still being encoded, and store them in one transaction", async () => {
    const subject = await gallery.subjects.create({ name: 'Waited for' });
    const enrolled = await gallery.enroll(subject.id, await Promise.all([1, 2, 3, 4].map(async (n) => ({ bytes: await png(60, 200, 40 + n) }))), null, 'NONE');
    const batches: number[] = [];
    const worker = workerSavingWith(4, (faces, andThen) => (batches.push(faces.length), gallery.enrollFaces(faces, andThen)));
    worker.start();
    await worker.idle();
    await worker.stop();

    expect(batches).toEqual([4]);
    const photos = await gallery.photos.findMany(enrolled.map((result) => result.photo.id));
    expect(photos.map((photo) => photo?.status)).toEqual(['READY', 'READY', 'READY', 'READY']);
  });

  it('write every face of a batch or none: a face that cannot be stored takes the others of its transaction back', async () => {
    const subject = await gallery.subjects.create({ name: 'All or none' });
    const [a, b] = await gallery.enroll(subject.id, [{ bytes: await png(210, 90, 90) }, { bytes: await png(211, 90, 90) }], null, 'NONE');
    const first = (await claimOne(jobs))!;
    const second = (await claimOne(jobs))!;
    const face = { box: { x: 0, y: 0, width: 1, height: 1 }, score: 1, pose: { yaw: 0, pitch: 0, roll: 0 }, expression: new Float32Array(1), ...joinedIdentityVector(BUNDLE, new Float32Array(K), new Float32Array(K)) };
    const broken = { ...face, shape: undefined as unknown as Float32Array };

    await expect(gallery.enrollFaces([{ photoId: first.photo.id, jobId: first.job.id, face }, { photoId: second.photo.id, jobId: second.job.id, face: broken }])).rejects.toThrow();
    expect((await gallery.photos.facesByPhotoIds([a.photo.id, b.photo.id])).every((stored) => stored === null)).toBe(true);
    expect((await gallery.photos.findMany([a.photo.id, b.photo.id])).map((photo) => photo?.status)).toEqual(['PROCESSING', 'PROCESSING']);

    const saved = await gallery.enrollFaces([{ photoId: first.photo.id, jobId: first.job.id, face }, { photoId: second.photo.id, jobId: second.job.id, face }]);
    expect(saved.map((photo) => photo?.status)).toEqual(['READY', 'READY']);
    expect(await jobs.unfinishedCount()).toBe(0);
  });

  it('enroll bytes anew when the photo that had them is deleted between their insert and the read of that photo', async () => {
    const subject = await gallery.subjects.create({ name: 'Raced' });
    const bytes = await png(200, 90, 90);
    const [first] = await gallery.enroll(subject.id, [{ bytes }], null, 'NONE');
    const findMany = (args: Parameters<Db['photo']['findMany']>[0]) => database.prisma.photo.findMany(args);
    const read = jest.spyOn(store, 'read', 'get').mockReturnValueOnce({
      photo: {
        findMany: async (args: Parameters<typeof findMany>[0]) => {
          await database.prisma.photo.delete({ where: { id: first.photo.id } });
          return findMany(args);
        },
      },
    } as unknown as Db);
    const [second] = await gallery.enroll(subject.id, [{ bytes }], null, 'NONE');
    read.mockRestore();

    expect(second).toMatchObject({ created: true, photo: { subjectId: subject.id, status: 'PENDING' } });
    expect(second.photo.id).not.toBe(first.photo.id);
    expect(await database.prisma.job.count({ where: { photoId: second.photo.id, status: 'QUEUED' } })).toBe(1);
    await runJobs();
  });

  it('skip a job whose photo was deleted while it ran', async () => {
    const subject = await gallery.subjects.create({ name: 'Gone' });
    const [result] = await gallery.enroll(subject.id, [{ bytes: await png(180, 60, 60) }], null, 'NONE');
    const claimed = (await claimOne(jobs))!;
    await gallery.deletePhoto(result.photo.id);
    expect(await gallery.photos.saveFaces([{ photoId: result.photo.id, jobId: claimed.job.id, face: { box: { x: 0, y: 0, width: 1, height: 1 }, score: 1, pose: { yaw: 0, pitch: 0, roll: 0 }, expression: new Float32Array(1), ...joinedIdentityVector(BUNDLE, new Float32Array(K), new Float32Array(K)) } }])).toEqual([null]);
    expect(await jobs.unfinishedCount()).toBe(0);
  });

  it('store a face once when a second worker, whose lease ran out, saves the same photo again', async () => {
    const subject = await gallery.subjects.create({ name: 'Twice' });
    const [result] = await gallery.enroll(subject.id, [{ bytes: await png(60, 180, 60) }], null, 'NONE');
    const claimed = (await claimOne(jobs))!;
    const face = { box: { x: 0, y: 0, width: 1, height: 1 }, score: 1, pose: { yaw: 0, pitch: 0, roll: 0 }, expression: new Float32Array(1), ...joinedIdentityVector(BUNDLE, new Float32Array(K), new Float32Array(K)) };
    const save = { photoId: result.photo.id, jobId: claimed.job.id };
    expect((await gallery.enrollFaces([{ ...save, face }])).map((photo) => photo?.status)).toEqual(['READY']);
    expect(await gallery.enrollFaces([{ ...save, face: { ...face, score: 0.5 } }])).toEqual([null]);
    expect((await gallery.photos.facesByPhotoIds([result.photo.id])).map((stored) => stored?.score)).toEqual([1]);
    expect(await jobs.unfinishedCount()).toBe(0);
  });

  it('store each face of a batch with its own quality, and a photo that is in the batch twice once', async () => {
    const subject = await gallery.subjects.create({ name: 'One batch' });
    const [a, b, again] = await gallery.enroll(subject.id, [{ bytes: await png(70, 30, 200) }, { bytes: await png(71, 30, 200) }, { bytes: await png(70, 30, 200) }], null, 'NONE');
    expect([again.photo.id, again.created]).toEqual([a.photo.id, false]);
    const [first, second] = await jobs.claimMany(3, 60_000);
    const face = { box: { x: 0, y: 0, width: 1, height: 1 }, score: 1, pose: { yaw: 0, pitch: 0, roll: 0 }, expression: new Float32Array(1), ...joinedIdentityVector(BUNDLE, new Float32Array(K), new Float32Array(K)) };
    const assessed = { ...face, quality: { score: 0.25, issues: ['BLURRY' as const, 'TOO_DARK' as const] } };

    const saved = await gallery.enrollFaces([
      { photoId: first.photo.id, jobId: first.job.id, face: assessed },
      { photoId: second.photo.id, jobId: second.job.id, face },
      { photoId: first.photo.id, jobId: first.job.id, face: { ...assessed, score: 0.5 } },
    ]);
    expect(saved.map((photo) => photo && [photo.id, photo.status, photo.quality])).toEqual([[a.photo.id, 'READY', { score: 0.25, issues: ['BLURRY', 'TOO_DARK'] }], [b.photo.id, 'READY', null], null]);
    expect((await gallery.photos.facesByPhotoIds([a.photo.id, b.photo.id])).map((stored) => stored?.score)).toEqual([1, 1]);
    expect((await gallery.photos.findMany([a.photo.id, b.photo.id])).map((photo) => photo?.quality)).toEqual([{ score: 0.25, issues: ['BLURRY', 'TOO_DARK'] }, null]);
    expect(await jobs.unfinishedCount()).toBe(0);
  });

  it("claim each loop's next job in the transaction that saves its face, so a busy worker writes one transaction per batch", async () => {
    const subject = await gallery.subjects.create({ name: 'Claimed on save' });
    const enrolled = await gallery.enroll(subject.id, await Promise.all([1, 2, 3, 4, 5, 6].map(async (n) => ({ bytes: await png(120, 20 * n, 90) }))), null, 'NONE');
    const calls = { claimMany: [] as number[], claimIn: [] as number[], saves: 0 };
    const counted = Object.assign(Object.create(jobs) as JobRepository, {
      claimMany: async (count: number, leaseMs: number) => {
        const claimed = await jobs.claimMany(count, leaseMs);
        calls.claimMany.push(claimed.length);
        return claimed;
      },
      claimIn: async (tx: Db, count: number, leaseMs: number) => {
        const claimed = await jobs.claimIn(tx, count, leaseMs);
        calls.claimIn.push(claimed.length);
        return claimed;
      },
    });
    const worker = new EnrollmentWorker({
      jobs: counted,
      blobs,
      analyser,
      decodeLimits: { maxBytes: 1e6, maxPixels: 1e6 },
      concurrency: 2,
      pollMs: 50,
      gallery: { photoChanged: (photo) => gallery.photoChanged(photo), enrollFaces: (faces, andThen) => (calls.saves++, gallery.enrollFaces(faces, andThen)), ...backfillOf(gallery) },
    });
    worker.start();
    await worker.idle();
    await worker.stop();

    const photos = await gallery.photos.findMany(enrolled.map((result) => result.photo.id));
    expect(photos.map((photo) => photo?.status)).toEqual(new Array(6).fill('READY'));
    // The first two jobs were claimed alone; the other four by the saves of the jobs before them.
    expect(calls.claimMany.reduce((a, b) => a + b, 0)).toBe(2);
    expect(calls.claimIn.reduce((a, b) => a + b, 0)).toBe(4);
    expect(calls.claimIn).toHaveLength(calls.saves);
    expect(await jobs.unfinishedCount()).toBe(0);
  });

  it('take back the jobs a save claimed when its transaction fails: they stay queued, and its photos unsaved', async () => {
    const subject = await gallery.subjects.create({ name: 'Claim rolled back' });
    const [done, next] = await gallery.enroll(subject.id, [{ bytes: await png(30, 140, 220) }, { bytes: await png(31, 140, 220) }], null, 'NONE');
    const claimed = (await claimOne(jobs))!;
    expect(claimed.photo.id).toBe(done.photo.id);
    const face = { box: { x: 0, y: 0, width: 1, height: 1 }, score: 1, pose: { yaw: 0, pitch: 0, roll: 0 }, expression: new Float32Array(1), ...joinedIdentityVector(BUNDLE, new Float32Array(K), new Float32Array(K)) };
    let claimedInside: ClaimedWork[] = [];

    const failing = gallery.enrollFaces([{ photoId: done.photo.id, jobId: claimed.job.id, face }], async (tx) => {
      claimedInside = await jobs.claimIn(tx, 2, 60_000);
      throw new Error('the process died before COMMIT');
    });
    await expect(failing).rejects.toThrow('before COMMIT');

    expect(claimedInside.map((c) => c.photo.id)).toEqual([next.photo.id]);
    expect((await gallery.photos.findMany([done.photo.id, next.photo.id])).map((photo) => photo?.status)).toEqual(['PROCESSING', 'PENDING']);
    const again = await jobs.claimMany(2, 60_000);
    expect(again.map((c) => [c.photo.id, c.job.attempts])).toEqual([[next.photo.id, 1]]);
    expect((await gallery.enrollFaces([{ photoId: done.photo.id, jobId: claimed.job.id, face }, { photoId: next.photo.id, jobId: again[0].job.id, face }])).map((photo) => photo?.status)).toEqual(['READY', 'READY']);
    expect(await jobs.unfinishedCount()).toBe(0);
  });

  it('claim several jobs in one transaction, oldest first, each photo PROCESSING; fewer when fewer are queued', async () => {
    const subject = await gallery.subjects.create({ name: 'Claimed together' });
    const enrolled = await gallery.enroll(subject.id, await Promise.all([1, 2, 3].map(async (n) => ({ bytes: await png(90, 200, 40 + n) }))), null, 'NONE');

    const claimed = await jobs.claimMany(5, 60_000);
    expect(claimed.map((c) => c.photo.id)).toEqual(enrolled.map((result) => result.photo.id));
    expect(claimed.map((c) => [c.photo.status, c.job.attempts])).toEqual([['PROCESSING', 1], ['PROCESSING', 1], ['PROCESSING', 1]]);
    expect(await jobs.claimMany(2, 60_000)).toEqual([]);

    await Promise.all(claimed.map((c) => jobs.settleFailure(c.job, { code: 'INTERNAL', message: 'test' }, false)));
    expect(await jobs.unfinishedCount()).toBe(0);
  });
});

describe('deletes', () => {
  it('remove a subject’s rows, index entries and files, but keep files another subject shares', async () => {
    const bytes = await png(240, 200, 10);
    const keep = await gallery.subjects.create({ name: 'Keeper' });
    const drop = await gallery.subjects.create({ name: 'Dropped' });
    const [kept] = await gallery.enroll(keep.id, [{ bytes }], null, 'NONE');
    const [dropped, own] = await gallery.enroll(drop.id, [{ bytes }, { bytes: await png(240, 201, 11) }], null, 'NONE');
    await runJobs();
    expect(gallery.index.template(drop.id)).toBeDefined();

    await gallery.deleteSubject(drop.id);
    expect(await gallery.subjects.findMany([drop.id])).toEqual([null]);
    expect(await gallery.photos.findMany([dropped.photo.id, own.photo.id])).toEqual([null, null]);
    expect(await database.prisma.faceVector.count({ where: { face: { photo: { subjectId: drop.id } } } })).toBe(0);
    expect(gallery.index.template(drop.id)).toBeUndefined();
    expect(existsSync(join(dir, 'photos', own.photo.storagePath))).toBe(false);
    expect(existsSync(join(dir, 'photos', kept.photo.storagePath))).toBe(true);
    await expect(gallery.deleteSubject(drop.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('sweep only old files this gallery wrote that no photo names, and old leftovers of interrupted writes', async () => {
    const hoursAgo = (hours: number) => new Date(Date.now() - hours * 3600_000);
    const age = (path: string, hours: number) => utimes(join(dir, 'photos', path), hoursAgo(hours), hoursAgo(hours));
    const orphan = await blobs.put(Buffer.from('orphan bytes'));
    const recent = await blobs.put(Buffer.from('stored just now by another process, its photo not recorded yet'));
    const older = await blobs.put(Buffer.from('in the folder before this gallery marked it as its own'));
    await age(orphan.storagePath, 2);
    await age(older.storagePath, 5);
    await mkdir(join(dir, 'photos', 'incoming'), { recursive: true });
    await writeFile(join(dir, 'photos', 'incoming', 'half-written'), 'x');
    await writeFile(join(dir, 'photos', 'incoming', 'being-written'), 'x');
    await age('incoming/half-written', 2);

    expect(await gallery.sweepBlobs(hoursAgo(4), hoursAgo(1))).toBe(1);
    expect(existsSync(join(dir, 'photos', orphan.storagePath))).toBe(false);
    expect(existsSync(join(dir, 'photos', recent.storagePath))).toBe(true);
    expect(existsSync(join(dir, 'photos', older.storagePath))).toBe(true);
    expect(existsSync(join(dir, 'photos', 'incoming', 'half-written'))).toBe(false);
    expect(existsSync(join(dir, 'photos', 'incoming', 'being-written'))).toBe(true);
  });
});

describe('photo files gone or damaged on disk', () => {
  it('are listed, and reading them is PHOTO_MISSING or PHOTO_CORRUPT naming the photo, not a path', async () => {
    const subject = await gallery.subjects.create({ name: 'Damaged' });
    const [missing, damaged, intact] = await gallery.enroll(subject.id, [{ bytes: await png(90, 1, 2) }, { bytes: await png(91, 3, 4) }, { bytes: await png(92, 5, 6) }], null, 'NONE');
    await runJobs();
    await blobs.remove(missing.photo.storagePath);
    await truncate(join(dir, 'photos', damaged.photo.storagePath), 10);

    expect(await gallery.photosWithoutFile(['READY'])).toEqual([missing.photo.id]);
    const failure = (id: string) => gallery.photoFile(id).then(() => null, (error: Face3dError) => ({ code: error.code, message: error.message }));
    expect(await failure(missing.photo.id)).toEqual({ code: 'PHOTO_MISSING', message: expect.stringContaining(missing.photo.id) });
    expect(await failure(damaged.photo.id)).toEqual({ code: 'PHOTO_CORRUPT', message: expect.stringContaining(damaged.photo.id) });
    for (const photo of [missing, damaged]) expect((await failure(photo.photo.id))!.message).not.toContain(dir);
    expect(await failure(intact.photo.id)).toBeNull();
    await gallery.deletePhoto(missing.photo.id);
    await gallery.deletePhoto(damaged.photo.id);
  });

  it('fail an enrollment whose file went missing before its job ran with PHOTO_MISSING, at once', async () => {
    const subject = await gallery.subjects.create({ name: 'Lost before enrollment' });
    const [result] = await gallery.enroll(subject.id, [{ bytes: await png(93, 7, 8) }], null);
    await blobs.remove(result.photo.storagePath);
    const before = analyser.calls;
    await runJobs();
    const [photo] = await gallery.photos.findMany([result.photo.id]);
    expect(photo).toMatchObject({ status: 'FAILED', error: { code: 'PHOTO_MISSING' } });
    expect(analyser.calls).toBe(before);
    expect(await jobs.unfinishedCount()).toBe(0);
  });
});

describe('the index loaded at start-up', () => {
  it('holds exactly the enrolled faces of its bundle', async () => {
    const fresh = new Gallery({ ...(gallery as unknown as { deps: ConstructorParameters<typeof Gallery>[0] }).deps, index: new GalleryIndex(BUNDLE, 2 * K) });
    await fresh.loadIndex();
    expect(fresh.index.faceCount).toBe(await database.prisma.faceVector.count({ where: { bundleId: BUNDLE } }));
    expect(fresh.index.subjectCount).toBe(gallery.index.subjectCount);
  });
});

describe('another API process following the change feed', () => {
  /** A second process's gallery over the same database (its own store, index and subscribers), counting its reads of new faces. */
  async function otherProcess() {
    const events = new PhotoEvents();
    const published: PhotoRecord[] = [];
    const publish = events.publish.bind(events);
    events.publish = (photo) => {
      published.push(photo);
      publish(photo);
    };
    const otherStore = new GalleryStore(database.prisma, { provider: database.provider });
    const other = new Gallery({
      ...(gallery as unknown as { deps: ConstructorParameters<typeof Gallery>[0] }).deps,
      store: otherStore,
      index: new GalleryIndex(BUNDLE, 2 * K),
      events,
    });
    const faceReads: number[] = [];
    const indexStoredFaces = other.indexStoredFaces.bind(other);
    other.indexStoredFaces = (faceIds) => {
      faceReads.push(faceIds.length);
      return indexStoredFaces(faceIds);
    };
    const feed = await ChangeFeed.fromNow(otherStore, { intervalMs: 60_000, apply: applyToGallery(other) });
    return { other, otherStore, events, published, faceReads, feed };
  }

  it('indexes the faces a worker stored in several transactions with one read, and publishes nothing while nobody is subscribed', async () => {
    const { other, published, faceReads, feed } = await otherProcess();
    const subject = await gallery.subjects.create({ name: 'Followed' });
    // One job at a time: each save is its own transaction, which also claims the next photo (a photo update between the faces).
    const enrolled = await gallery.enroll(subject.id, await Promise.all([1, 2, 3].map(async (n) => ({ bytes: await png(200, 60 + n, 60) }))), null, 'NONE');
    const facesBefore = other.index.faceCount;
    await runJobs();

    await feed.poll();
    expect(faceReads).toEqual([3]);
    expect(other.index.faceCount).toBe(facesBefore + 3);
    const { candidates } = await other.identify(await other.probePhoto(enrolled[0].photo.id), { topK: 1, mode: 'PHOTO' });
    expect(candidates[0]).toMatchObject({ subjectId: subject.id, similarity: expect.closeTo(1, 5) });
    expect(published).toEqual([]);
  });

  /** A subscriber to every photo's status on `events`: what it received so far, per photo, and its end. */
  function subscriberOf(events: PhotoEvents) {
    const stop = new AbortController();
    const received: PhotoRecord[] = [];
    const receiving = (async () => {
      for await (const photo of events.subscribe({}, stop.signal)) received.push(photo);
    })();
    return {
      received,
      statusesOf: (photoId: string) => received.filter((photo) => photo.id === photoId).map((photo) => photo.status),
      close: async () => {
        stop.abort();
        await receiving;
      },
    };
  }

  it("tells a subscriber each photo's PENDING, PROCESSING and then READY, once each, when its claim and save both fall between two polls", async () => {
    const { other, events, feed } = await otherProcess();
    const subscriber = subscriberOf(events);
    expect(other.watched()).toBe(true);
    const subject = await gallery.subjects.create({ name: 'Watched' });
    // One job at a time: the first photo claimed alone, the second claimed in the first one's save.
    const [first, second] = await gallery.enroll(subject.id, [{ bytes: await png(200, 70, 70) }, { bytes: await png(201, 71, 71) }], null, 'NONE');
    await runJobs();

    await feed.poll();
    await feed.poll();
    await subscriber.close();
    expect(subscriber.statusesOf(first.photo.id)).toEqual(['PENDING', 'PROCESSING', 'READY']);
    expect(subscriber.statusesOf(second.photo.id)).toEqual(['PENDING', 'PROCESSING', 'READY']);
    // The PROCESSING event shows the photo before its outcome; the READY one as it is.
    const [, processing, ready] = subscriber.received.filter((photo) => photo.id === first.photo.id);
    expect(processing.quality).toBeNull();
    expect(ready.quality).not.toBeNull();
  });

  it('tells a subscriber of another process a photo is PENDING as soon as its upload commits, and one of the uploading process once', async () => {
    const { events, feed } = await otherProcess();
    const elsewhere = subscriberOf(events);
    // The uploading process follows the feed too: its own entries it has published already.
    const ownFeed = await ChangeFeed.fromNow(store, { intervalMs: 60_000, apply: applyToGallery(gallery) });
    const here = subscriberOf((gallery as unknown as { deps: { events: PhotoEvents } }).deps.events);
    const subject = await gallery.subjects.create({ name: 'Uploaded' });
    const [result] = await gallery.enroll(subject.id, [{ bytes: await png(202, 72, 72) }], null, 'NONE');

    await feed.poll();
    await ownFeed.poll();
    expect(elsewhere.statusesOf(result.photo.id)).toEqual(['PENDING']);
    expect(elsewhere.received.find((photo) => photo.id === result.photo.id)).toMatchObject({ subjectId: subject.id, error: null, quality: null });
    expect(here.statusesOf(result.photo.id)).toEqual(['PENDING']);
    await runJobs();
    await feed.poll();
    await ownFeed.poll();
    await elsewhere.close();
    await here.close();
    expect(elsewhere.statusesOf(result.photo.id)).toEqual(['PENDING', 'PROCESSING', 'READY']);
    expect(here.statusesOf(result.photo.id)).toEqual(['PENDING', 'PROCESSING', 'READY']);
  });

  it("tells a subscriber no PENDING after the READY its own process's worker published, for a photo uploaded to another process", async () => {
    const { other, otherStore, events, feed } = await otherProcess();
    const subscriber = subscriberOf(events);
    const subject = await gallery.subjects.create({ name: 'Uploaded here, enrolled there' });
    const [result] = await gallery.enroll(subject.id, [{ bytes: await png(205, 77, 77) }], null, 'NONE');
    // The other process's worker enrolls the photo before that process's feed reads the upload's entry (workers poll the queue every 250 ms, the feed every second).
    const worker = new EnrollmentWorker({ jobs: new JobRepository(otherStore), gallery: other, blobs, analyser, decodeLimits: { maxBytes: 1e6, maxPixels: 1e6 }, concurrency: 1, pollMs: 50 });
    worker.start();
    await worker.idle();
    await worker.stop();
    expect(subscriber.statusesOf(result.photo.id)).toEqual(['PROCESSING', 'READY']);

    await feed.poll();
    await subscriber.close();
    expect(subscriber.statusesOf(result.photo.id)).toEqual(['PROCESSING', 'READY']);
  });

  it('tells a subscriber no status twice when the entry repeating it comes in a later read of the feed: a claim taken over, the error of a READY photo set', async () => {
    const { events, feed } = await otherProcess();
    const subscriber = subscriberOf(events);
    const subject = await gallery.subjects.create({ name: 'Repeated' });
    const [result] = await gallery.enroll(subject.id, [{ bytes: await png(203, 73, 73) }], null, 'NONE');
    await feed.poll();
    // A worker that died holding its claim, another one taking it over, then a third finishing it: each read apart.
    for (let claims = 0; claims < 2; claims++) {
      expect((await jobs.claimMany(1, -1000)).map((work) => work.photo.id)).toEqual([result.photo.id]);
      await feed.poll();
    }
    await runJobs();
    await feed.poll();
    await gallery.photos.markFileProblem([result.photo.id], { code: 'PHOTO_MISSING', message: 'the stored photo file is missing' });
    await feed.poll();
    await subscriber.close();
    expect(subscriber.statusesOf(result.photo.id)).toEqual(['PENDING', 'PROCESSING', 'READY']);
  });

  it("tells a subscriber of another process what a start-up's recovery did to the photos of a dead worker's jobs", async () => {
    const { events, feed } = await otherProcess();
    const subscriber = subscriberOf(events);
    const subject = await gallery.subjects.create({ name: 'Recovered' });
    const [requeued, exhausted, stranded] = await gallery.enroll(subject.id, [{ bytes: await png(204, 74, 74) }, { bytes: await png(204, 75, 75) }, { bytes: await png(204, 76, 76) }], null, 'NONE');
    // What a worker killed mid-inference leaves behind, its leases run out: one job out of attempts, one photo with no job.
    const claimed = await jobs.claimMany(3, -1000);
    expect(claimed.map((work) => work.photo.id).sort()).toEqual([requeued, exhausted, stranded].map((result) => result.photo.id).sort());
    await database.prisma.job.updateMany({ where: { photoId: exhausted.photo.id }, data: { attempts: 99 } });
    await database.prisma.job.deleteMany({ where: { photoId: stranded.photo.id } });
    await feed.poll();

    await jobs.recover({ exclusive: false });
    await feed.poll();
    await runJobs();
    await feed.poll();
    await subscriber.close();
    expect(subscriber.statusesOf(requeued.photo.id)).toEqual(['PENDING', 'PROCESSING', 'PENDING', 'PROCESSING', 'READY']);
    expect(subscriber.statusesOf(exhausted.photo.id)).toEqual(['PENDING', 'PROCESSING', 'FAILED']);
    expect(subscriber.statusesOf(stranded.photo.id)).toEqual(['PENDING', 'PROCESSING', 'PENDING', 'PROCESSING', 'READY']);
  });
});

describe('the vector backfill, after a bundle is added', () => {
  const NEXT = 'next-bundle';

  /** A process's gallery over the same database serving BUNDLE and NEXT: its own store (change-feed origin) and indexes. */
  function servingBoth(): Gallery {
    const deps = (gallery as unknown as { deps: ConstructorParameters<typeof Gallery>[0] }).deps;
    return new Gallery({
      ...deps,
      store: new GalleryStore(database.prisma, { provider: database.provider }),
      index: new GalleryIndex(BUNDLE, 2 * K),
      otherBundles: [{ index: new GalleryIndex(NEXT, 2 * K), analyser: new StandInAnalyser(NEXT), bundle: { manifest: { id: NEXT } } as Bundle, decision: new ThresholdPolicy(undefined) }],
    });
  }

  it('encodes the stored faces under it, skips a damaged photo once, and another process indexes them through the change feed without doubling any', async () => {
    const subject = await gallery.subjects.create({ name: 'Enrolled before the upgrade' });
    const [first, second, damaged] = await gallery.enroll(subject.id, [{ bytes: await png(150, 11, 12) }, { bytes: await png(151, 13, 14) }, { bytes: await png(152, 15, 16) }], null, 'NONE');
    await runJobs();
    await truncate(join(dir, 'photos', damaged.photo.storagePath), 10);
    const faceOf = async (photo: { photo: PhotoRecord }) => (await gallery.photos.facesByPhotoIds([photo.photo.id]))[0]!.id;
    const [firstFace, secondFace, damagedFace] = [await faceOf(first), await faceOf(second), await faceOf(damaged)];
    const waiting = (await gallery.photos.facesWithoutVector(NEXT, 10_000)).map((face) => face.faceId);
    expect(waiting).toEqual(expect.arrayContaining([firstFace, secondFace, damagedFace]));
    expect(waiting.indexOf(firstFace)).toBeLessThan(waiting.indexOf(secondFace));
    expect((await gallery.photos.facesWithoutVector(NEXT, 2, { after: firstFace })).map((face) => face.faceId)).toEqual(waiting.slice(waiting.indexOf(firstFace) + 1).slice(0, 2));

    const follower = servingBoth();
    await follower.loadIndex();
    const feed = await ChangeFeed.fromNow((follower as unknown as { deps: { store: GalleryStore } }).deps.store, { intervalMs: 60_000, apply: applyToGallery(follower) });
    const followerFaces = follower.index.faceCount;
    const upgraded = servingBoth();
    const errors: unknown[] = [];
    // Sweeping again at every idle poll: the damaged photo must still be reported once, not retried.
    const worker = new EnrollmentWorker({ jobs, gallery: upgraded, blobs, analyser, otherAnalysers: [new StandInAnalyser(NEXT)], decodeLimits: { maxBytes: 1e6, maxPixels: 1e6 }, concurrency: 2, pollMs: 50, backfillRescanMs: 0, onError: (error) => errors.push(error) });
    worker.start();
    for (let round = 0; round < 3; round++) {
      await worker.idle();
      worker.wake();
    }
    await worker.stop();

    const vectors = await gallery.photos.vectorsByFaceIds([firstFace, secondFace, damagedFace], NEXT);
    expect(vectors.map((vector) => vector && Array.from(vector.texture))).toEqual([[12, 1], [14, 1], null]);
    expect(Array.from(vectors[0]!.shape)).toEqual([150, 11]);
    const reports = errors.map(String).filter((message) => message.includes(damaged.photo.id));
    expect(reports).toEqual([expect.stringContaining('PHOTO_CORRUPT')]);
    expect(await gallery.photos.facesWithoutVector(NEXT, 10_000)).toContainEqual(expect.objectContaining({ faceId: damagedFace }));
    // Indexed in the worker's process, and in the follower's through the change feed; BUNDLE's vectors stay once each.
    expect(upgraded.served(NEXT).index.faceVector(firstFace)).toBeDefined();
    await feed.poll();
    expect(follower.served(NEXT).index.faceVector(secondFace)).toBeDefined();
    expect(follower.served(NEXT).index.faceCount).toBe(await database.prisma.faceVector.count({ where: { bundleId: NEXT } }));
    expect(follower.index.faceCount).toBe(followerFaces);
    const { candidates } = await follower.identify(await follower.probePhoto(first.photo.id, NEXT), { topK: 1, mode: 'PHOTO' });
    expect(candidates[0]).toMatchObject({ subjectId: subject.id, similarity: expect.closeTo(1, 5) });

    // A second worker's vector, stored after the first's, is left out; so is one whose face was deleted meanwhile.
    expect(await upgraded.addFaceVectors([vectors[0]!])).toBe(0);
    await gallery.deletePhoto(second.photo.id);
    expect(await upgraded.addFaceVectors([vectors[1]!])).toBe(0);
    await gallery.deletePhoto(damaged.photo.id);
  });

  it('gives each waiting face to one of two workers looking at once, to another once the lease ran out, and to none once it has its vector', async () => {
    const subject = await gallery.subjects.create({ name: 'Claimed by one worker' });
    const enrolled = await gallery.enroll(subject.id, [{ bytes: await png(160, 21, 22) }, { bytes: await png(161, 23, 24) }, { bytes: await png(162, 25, 26) }], null, 'NONE');
    await runJobs();
    const mine = (await gallery.photos.facesByPhotoIds(enrolled.map((result) => result.photo.id))).map((face) => face!.id);
    const LEASE_MS = 60_000;
    const now = new Date();
    /** A look by a worker of its own process (store), at `at`, passing over `passedOver`; the ids of this test's faces it claimed. */
    const claim = async (at: Date, passedOver: readonly string[] = []) => {
      const { faces } = await servingBoth().claimFacesWithoutVector(NEXT, 10_000, { passedOver: new Set(passedOver), leaseMs: LEASE_MS, now: at });
      return faces.map((face) => face.faceId).filter((id) => mine.includes(id));
    };

    const [one, other] = await Promise.all([claim(now), claim(now)]);
    expect([...one, ...other].sort()).toEqual([...mine].sort());
    expect(await claim(new Date(now.getTime() + LEASE_MS - 1))).toEqual([]);
    // The lease ran out (its worker died): another takes the faces, less those it passed over.
    const later = new Date(now.getTime() + LEASE_MS);
    expect(await claim(later, [mine[0]])).toEqual(mine.slice(1));
    expect(await claim(later)).toEqual([mine[0]]);

    // The face's vector, stored by whichever worker, ends its claim; the face is no longer looked at.
    const [vector] = await new StandInAnalyser(NEXT).encode({ width: 1, height: 1, data: Uint8Array.from([160, 21, 22]) } as RgbImage);
    expect(await servingBoth().addFaceVectors([{ faceId: mine[0], ...vector.vector }])).toBe(1);
    expect(await database.prisma.faceVectorClaim.count({ where: { faceId: mine[0] } })).toBe(0);
    expect(await claim(new Date(later.getTime() + LEASE_MS))).toEqual(mine.slice(1));
  });
});

describe('API keys', () => {
  it('are stored as salted hashes and authenticate until revoked', async () => {
    const keys = new ApiKeys(store);
    const { key, record } = await keys.create('enroll', 'robot');
    expect(key).toMatch(/^f3d_[a-z0-9]+_[\w-]{43}$/);
    const row = await database.prisma.apiKey.findUniqueOrThrow({ where: { id: record.id } });
    expect(row.hash).toBe(hashKey(key, row.salt));
    // The secret is the last 43 characters (base64url, which may itself contain '_').
    expect(JSON.stringify(row)).not.toContain(key.slice(-43));
    expect(await keys.authenticate(key)).toEqual({ keyId: record.id, role: 'enroll', label: 'robot' });
    expect(await keys.authenticate(`${key.slice(0, -1)}x`)).toBeNull();
    expect(await keys.revoke(record.id)).toBe(true);
    expect(await keys.revoke(record.id)).toBe(false);
    expect(await keys.authenticate(key)).toBeNull();
    await expect(keys.create('read', BOOTSTRAP_LABEL)).rejects.toBeInstanceOf(Face3dError);
  });

  it('stop working at once when revoked by this process, and within KEY_TRUST_MS when revoked by another', async () => {
    let now = 0;
    const here = new ApiKeys(store, () => now);
    const elsewhere = new ApiKeys(new GalleryStore(database.prisma, { provider: database.provider }), () => now);
    const { key, record } = await here.create('read', 'revoked elsewhere');
    expect(await here.authenticate(key)).toMatchObject({ keyId: record.id });
    expect(await elsewhere.authenticate(key)).toMatchObject({ keyId: record.id });
    now = 10;
    expect(await here.revoke(record.id)).toBe(true);
    expect(await here.authenticate(key)).toBeNull();
    // The other process found the key valid at 0: it trusts it until KEY_TRUST_MS, then asks again.
    now = KEY_TRUST_MS - 1;
    expect(await elsewhere.authenticate(key)).toMatchObject({ keyId: record.id });
    now = KEY_TRUST_MS;
    expect(await elsewhere.authenticate(key)).toBeNull();
    now += 10 * KEY_TRUST_MS;
    expect(await elsewhere.authenticate(key)).toBeNull();
  });

  it('bootstrap an admin key from FACE3D_ADMIN_KEY once, and rotate it when the variable changes', async () => {
    const keys = new ApiKeys(store);
    await keys.ensureBootstrapKey('first-admin-key-0123456789');
    await keys.ensureBootstrapKey('first-admin-key-0123456789');
    expect((await keys.list()).filter((record) => record.label === BOOTSTRAP_LABEL && !record.revokedAt)).toHaveLength(1);
    expect(await keys.authenticate('first-admin-key-0123456789')).toMatchObject({ role: 'admin' });
    await keys.ensureBootstrapKey('second-admin-key-0123456789');
    expect(await keys.authenticate('first-admin-key-0123456789')).toBeNull();
    expect(await keys.authenticate('second-admin-key-0123456789')).toMatchObject({ role: 'admin' });
  });
});
