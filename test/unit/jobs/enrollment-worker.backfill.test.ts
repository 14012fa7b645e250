/**
 * The vector backfill on a real database. Its claims between two workers, each with a store of its
 * own over one database (on SQLite two openers of one file, as two processes; PGlite has one
 * opener), under a short lease: a worker whose round outlasts the lease keeps the faces it is
 * encoding, its claims renewed as its jobs' leases are; the claims of a worker that died run out,
 * and another worker takes the faces. And a new default bundle finds a stored face again in one
 * pass, also where it is not the photo's largest face. The analysers stand in for the models: what
 * is tested is who encodes which face and how often, not inference.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Box, RgbImage } from '../../../src/core/image.js';
import { joinedIdentityVector, type IdentityVector } from '../../../src/core/vector.js';
import { detectionOver } from '../../../src/inference/detector.js';
import type { AnalyseOptions } from '../../../src/inference/pipeline.js';
import type { EncodedFace, FaceAnalyser } from '../../../src/inference/bundle-encoder.js';
import { EnrollmentWorker } from '../../../src/jobs/enrollment-worker.js';
import { BlobStore } from '../../../src/store/blob-store.js';
import { openDatabase, type Database } from '../../../src/store/database.js';
import { GalleryStore } from '../../../src/store/gallery-store.js';
import { JobRepository } from '../../../src/store/job-repository.js';
import { PhotoRepository } from '../../../src/store/photo-repository.js';
import { testBackend, testDatabaseUrl } from '../../helpers/database-backends.js';

const ENROLLED = 'enrolled-bundle';
const ADDED = 'added-bundle';
/** Where the stand-ins' faces are: the one the enrolling bundle found (and stored), and a larger one only the new default bundle finds. */
const STORED: Box = { x: 1, y: 1, width: 6, height: 6 };
const LARGER: Box = { x: 10, y: 0, width: 20, height: 20 };
/** Short, so that a round held for a few leases outlasts its claims unless they are renewed. */
const LEASE_MS = 900;
const DECODE_LIMITS = { maxBytes: 1e6, maxPixels: 1e6 };

/**
 * A face per photo, its vector the photo's colour. `hold()` keeps every encode waiting until
 * `release()` (a round slower than the lease); `encoded` counts the faces it has encoded.
 */
class ColourAnalyser implements FaceAnalyser {
  encoded = 0;
  private held: Promise<void> = Promise.resolve();
  private endHold: () => void = () => undefined;
  private reached: () => void = () => undefined;
  /** Resolves once an encode waits on the hold: the worker has claimed its round. */
  waiting: Promise<void> = Promise.resolve();

  constructor(readonly bundleId: string) {}

  hold(): void {
    this.held = new Promise((resolve) => (this.endHold = resolve));
    this.waiting = new Promise((resolve) => (this.reached = resolve));
  }

  release(): void {
    this.endHold();
  }

  async encode(image: RgbImage, options: AnalyseOptions = {}): Promise<EncodedFace[]> {
    this.reached();
    await this.held;
    this.encoded++;
    const [r, g, b] = image.data;
    return [faceAt(options.faceBox ?? STORED, joinedIdentityVector(this.bundleId, [r, g], [b]))];
  }
}

function faceAt(box: Box, vector: IdentityVector): EncodedFace {
  return { box, score: 0.9, pose: { yaw: 0, pitch: 0, roll: 0 }, expression: Float32Array.from([0]), landmarks: { points: new Float32Array(468 * 3) }, vector } as unknown as EncodedFace;
}

/**
 * ADDED as a new default bundle: it finds two faces in every photo, the stored one and a larger one
 * (a detector that differs from the enrolling bundle's), and answers every option as the face
 * stages do. A face's vector is the photo's red, the face's x and whether it was found (1) or only
 * given as a box (0); `runs` counts its passes over a photo.
 */
class TwoFaceAnalyser implements FaceAnalyser {
  readonly bundleId = ADDED;
  runs = 0;

  async encode(image: RgbImage, options: AnalyseOptions = {}): Promise<EncodedFace[]> {
    this.runs++;
    const face = (box: Box, found: boolean) => faceAt(box, joinedIdentityVector(ADDED, [image.data[0], box.x], [found ? 1 : 0]));
    if (options.faceBox) return [face(options.faceBox, false)];
    const found = [LARGER, STORED].map((box) => ({ box, score: 0.9, keypoints: [] }));
    const chosen = options.allFaces ? found : options.over ? [detectionOver(found, options.over)] : [found[0]];
    return chosen.flatMap((detection) => (detection ? [face(detection.box, true)] : []));
  }
}

/** One process's side: its own store over the shared database, its repositories, and workers made over them. */
class Process {
  readonly jobs: JobRepository;
  readonly photos: PhotoRepository;

  constructor(
    store: GalleryStore,
    private readonly blobs: BlobStore,
  ) {
    this.jobs = new JobRepository(store);
    this.photos = new PhotoRepository(store);
  }

  /** A worker of one loop serving the bundles of `analyser` (its default) and `others`: it backfills at every idle poll. */
  worker(analyser: FaceAnalyser, ...others: FaceAnalyser[]): EnrollmentWorker {
    const { photos } = this;
    return new EnrollmentWorker({
      jobs: this.jobs,
      blobs: this.blobs,
      analyser,
      otherAnalysers: others,
      decodeLimits: DECODE_LIMITS,
      concurrency: 1,
      leaseMs: LEASE_MS,
      pollMs: 20,
      backfillRescanMs: 0,
      gallery: {
        photoChanged: () => undefined,
        enrollFaces: async (faces, andThen) => (await photos.saveFaces(faces, andThen)).map((saved) => saved?.photo ?? null),
        claimFacesWithoutVector: (...args) => photos.claimFacesWithoutVector(...args),
        addFaceVectors: async (vectors) => (await photos.addFaceVectors(vectors)).length,
      },
    });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe('the vector backfill', () => {
  let dir: string;
  let databases: Database[];
  let blobs: BlobStore;
  let first: Process;
  let second: Process;
  let subjectId: string;
  let shade = 0;
  /** This test's workers and held analysers: stopped and released after it, also when it fails. */
  const running: EnrollmentWorker[] = [];
  const held: ColourAnalyser[] = [];

  function started(worker: EnrollmentWorker): EnrollmentWorker {
    running.push(worker);
    worker.start();
    return worker;
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'face3d-backfill-claims-'));
    const url = testDatabaseUrl(dir);
    const opened = await openDatabase(url);
    databases = testBackend() === 'pglite' ? [opened] : [opened, await openDatabase(url)];
    blobs = new BlobStore(join(dir, 'photos'));
    const storeOf = (database: Database) => new GalleryStore(database.prisma, { provider: database.provider });
    first = new Process(storeOf(databases[0]), blobs);
    second = new Process(storeOf(databases.at(-1)!), blobs);
    subjectId = (await databases[0].prisma.subject.create({ data: { name: 'Enrolled before the bundle was added' } })).id;
  });

  afterEach(async () => {
    for (const analyser of held.splice(0)) analyser.release();
    await Promise.all(running.splice(0).map((worker) => worker.stop()));
  });

  afterAll(async () => {
    for (const database of databases ?? []) await database.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** `count` photos of colours of their own, enrolled by a worker serving ENROLLED alone: their faces' ids, waiting for an ADDED vector. */
  async function enrolledFaces(count: number): Promise<string[]> {
    const accepted = [];
    for (let i = 0; i < count; i++) {
      shade++;
      const bytes = await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 100 + shade, g: 50, b: 7 } } }).png().toBuffer();
      accepted.push({ ...(await blobs.put(bytes)), mimeType: 'image/png', width: 8, height: 8 });
    }
    const photos = await first.photos.accept(subjectId, accepted, null, 'NONE');
    const enroller = first.worker(new ColourAnalyser(ENROLLED));
    enroller.start();
    await enroller.idle();
    await enroller.stop();
    const faces = await first.photos.facesByPhotoIds(photos.map(({ photo }) => photo.id));
    return faces.map((face) => face!.id);
  }

  /** Each face's ADDED vector, as stored (null: none yet). */
  async function addedVectors(faceIds: readonly string[]): Promise<(number[] | null)[]> {
    return (await first.photos.vectorsByFaceIds(faceIds, ADDED)).map((vector) => vector && Array.from(vector.vector));
  }

  it('leaves the faces a live worker is still encoding to it, though its round outlasts the lease', async () => {
    const faceIds = await enrolledFaces(3);
    const slow = new ColourAnalyser(ADDED);
    slow.hold();
    held.push(slow);
    const live = started(first.worker(new ColourAnalyser(ENROLLED), slow));
    await slow.waiting;
    const other = new ColourAnalyser(ADDED);
    const sweeping = started(second.worker(new ColourAnalyser(ENROLLED), other));
    // Three leases: unrenewed, the claims would have run out twice over, and the other worker, looking every 20 ms, taken the faces.
    await sleep(3 * LEASE_MS);
    expect(other.encoded).toBe(0);
    expect(await addedVectors(faceIds)).toEqual([null, null, null]);

    slow.release();
    await live.idle();
    await sweeping.idle();
    expect(slow.encoded).toBe(3);
    expect(other.encoded).toBe(0);
    expect(await addedVectors(faceIds)).toEqual([[100 + shade - 2, 50, 7], [100 + shade - 1, 50, 7], [100 + shade, 50, 7]]);
  }, 30_000);

  it("gives another worker the faces a dead worker claimed, once the dead one's lease ran out", async () => {
    const faceIds = await enrolledFaces(2);
    // Claimed by a worker that died at once: nobody renews its claims.
    const { faces } = await first.photos.claimFacesWithoutVector(ADDED, 8, { passedOver: new Set(), leaseMs: LEASE_MS });
    expect(faces.map((face) => face.faceId).sort()).toEqual([...faceIds].sort());
    const survivor = new ColourAnalyser(ADDED);
    const worker = started(second.worker(new ColourAnalyser(ENROLLED), survivor));
    for (const deadline = Date.now() + 20_000; survivor.encoded < 2 && Date.now() < deadline; ) await sleep(50);
    await worker.idle();
    expect(survivor.encoded).toBe(2);
    expect(await addedVectors(faceIds)).toEqual([[100 + shade - 1, 50, 7], [100 + shade, 50, 7]]);
  }, 30_000);

  it('encodes a stored face under a new default bundle in one pass of it, found again though it is not the largest face', async () => {
    const [faceId] = await enrolledFaces(1);
    const newDefault = new TwoFaceAnalyser();
    const worker = started(first.worker(newDefault, new ColourAnalyser(ENROLLED)));
    await worker.idle();
    expect(newDefault.runs).toBe(1);
    expect(await addedVectors([faceId])).toEqual([[100 + shade, STORED.x, 1]]);
  }, 30_000);
});
