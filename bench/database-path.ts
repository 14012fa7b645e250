/**
 * The database's share of enrollment, without the networks: SQL statements and CPU milliseconds
 * per photo on a fresh SQLite gallery, for the upload's side (PhotoRepository.accept, one photo per
 * call as the API's single-photo uploads) and the worker's (JobRepository.claimMany and
 * PhotoRepository.saveFaces, `--batch` photos a transaction as a worker's jobs that finish together),
 * with faces the size of the served bundle's (99 + 99 coefficients, 30 expression, 468 landmarks).
 *   npm run build && node dist/bench/database-path.js [--photos 400] [--batch 4]
 * Statements are counted where better-sqlite3 prepares them (BEGIN and COMMIT included); the
 * adapter prepares every statement it runs. It uses only APIs that older commits have too, so the
 * built file can be copied into an older tree's dist/bench/ to measure it side by side.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import BetterSqlite3 from 'better-sqlite3';
import { joinedIdentityVector } from '../src/core/vector.js';
import { openDatabase } from '../src/store/database.js';
import { GalleryStore } from '../src/store/gallery-store.js';
import { JobRepository } from '../src/store/job-repository.js';
import { PhotoRepository, type EncodedFaceRecord } from '../src/store/photo-repository.js';
import { SubjectRepository } from '../src/store/subject-repository.js';

const { values: options } = parseArgs({ options: { photos: { type: 'string', default: '400' }, batch: { type: 'string', default: '4' } } });
const PHOTOS = Number(options.photos);
const BATCH = Number(options.batch);

let statements = 0;
const prepare = BetterSqlite3.prototype.prepare;
BetterSqlite3.prototype.prepare = function (this: BetterSqlite3.Database, source: string) {
  statements++;
  return prepare.call(this, source);
} as typeof prepare;

interface PerPhoto {
  readonly statements: number;
  readonly cpuMs: number;
}

async function measured(work: () => Promise<void>): Promise<PerPhoto> {
  const before = statements;
  const cpu = process.cpuUsage();
  await work();
  const used = process.cpuUsage(cpu);
  return { statements: (statements - before) / PHOTOS, cpuMs: (used.user + used.system) / 1000 / PHOTOS };
}

const values = (length: number, seed: number): Float32Array => Float32Array.from({ length }, (_, i) => Math.sin(i + seed));

function encodedFace(seed: number): EncodedFaceRecord {
  return {
    ...joinedIdentityVector('lfw-facemesh-v2', values(99, seed), values(99, seed + 1)),
    box: { x: 10, y: 20, width: 120, height: 140 },
    score: 0.9,
    pose: { yaw: 0.1, pitch: 0.05, roll: 0 },
    expression: values(30, seed + 2),
    landmarks: values(468 * 3, seed + 3),
    quality: { score: 0.8, issues: [] },
  };
}

const dir = mkdtempSync(join(tmpdir(), 'face3d-bench-database-'));
const database = await openDatabase(`file:${join(dir, 'gallery.db')}`);
try {
  const store = new GalleryStore(database.prisma, { provider: database.provider });
  const jobs = new JobRepository(store);
  const photos = new PhotoRepository(store);
  const subjects = new SubjectRepository(store);
  const subjectIds: string[] = [];
  for (let i = 0; i < PHOTOS / 2; i++) subjectIds.push((await subjects.create({ name: `person ${i}` })).id);
  const loadBefore = loadavg()[0];
  const upload = await measured(async () => {
    for (let i = 0; i < PHOTOS; i++) {
      const sha256 = createHash('sha256').update(`photo ${i}`).digest('hex');
      await photos.accept(subjectIds[i >> 1], [{ sha256, storagePath: `${sha256.slice(0, 2)}/${sha256}`, mimeType: 'image/jpeg', width: 250, height: 250 }], null);
    }
  });
  let seed = 0;
  const worker = await measured(async () => {
    for (;;) {
      const claimed = await jobs.claimMany(BATCH, 60_000);
      if (claimed.length === 0) return;
      const saved = await photos.saveFaces(claimed.map(({ job, photo }) => ({ photoId: photo.id, jobId: job.id, face: encodedFace(seed++) })));
      if (saved.includes(null)) throw new Error('a face was not saved');
    }
  });
  const ready = await database.prisma.photo.count({ where: { status: 'READY' } });
  if (ready !== PHOTOS) throw new Error(`${ready} of ${PHOTOS} photos READY`);
  const round = (perPhoto: PerPhoto) => ({ statements: Number(perPhoto.statements.toFixed(2)), cpuMs: Number(perPhoto.cpuMs.toFixed(2)) });
  console.log(JSON.stringify({ photos: PHOTOS, batch: BATCH, loadBefore, loadAfter: loadavg()[0], perPhoto: { upload: round(upload), worker: round(worker) } }));
} finally {
  await database.close();
  rmSync(dir, { recursive: true, force: true });
}
