/**
 * What the photo store's checks cost at a gallery's size: the start-up check (a stat of every
 * READY photo's file) and `face3d check` (every file read and hashed, the database's integrity
 * check, every vector loaded into an index).
 *   npm run build && npm run bench:photo-store -- [--photos 20000] [--bytes 30000] [--database postgres://…]
 * The gallery is made in a temporary folder (SQLite by default, or a new database on the given
 * PostgreSQL server): photos of random bytes, READY rows, no faces (the vector check finds none).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/core/config.js';
import { checkGallery } from '../src/gallery/gallery-check.js';
import { openPhotoFolder, photosWithoutFile } from '../src/store/photo-folder.js';
import { PhotoRepository } from '../src/store/photo-repository.js';
import { GalleryStore } from '../src/store/gallery-store.js';
import { openDatabase } from '../src/store/database.js';

const { values: options } = parseArgs({
  options: {
    photos: { type: 'string', default: '20000' },
    bytes: { type: 'string', default: '30000' },
    database: { type: 'string' },
  },
});
const PHOTOS = Number(options.photos);
const BYTES = Number(options.bytes);
const ROWS_PER_INSERT = 1000;

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const start = process.hrtime.bigint();
  const value = await work();
  return { value, seconds: Number(process.hrtime.bigint() - start) / 1e9 };
}

const dir = mkdtempSync(join(tmpdir(), 'face3d-bench-photo-store-'));
const databaseUrl = options.database
  ? Object.assign(new URL(options.database), { pathname: `/face3d_bench_photos_${Date.now().toString(36)}` }).toString()
  : `file:${join(dir, 'face3d.db')}`;
const config = loadConfig({ ...process.env, DATABASE_URL: databaseUrl, FACE3D_DATA_DIR: join(dir, 'photos') });
const database = await openDatabase(databaseUrl);
try {
  const { blobs } = await openPhotoFolder(database.prisma, config);
  const subject = await database.prisma.subject.create({ data: { name: 'Bench' } });
  for (let done = 0; done < PHOTOS; done += ROWS_PER_INSERT) {
    const stored = await Promise.all(Array.from({ length: Math.min(ROWS_PER_INSERT, PHOTOS - done) }, () => blobs.put(randomBytes(BYTES))));
    await database.prisma.photo.createMany({
      data: stored.map((blob) => ({ ...blob, subjectId: subject.id, mimeType: 'image/jpeg', width: 1, height: 1, status: 'READY' })),
    });
  }
  const photos = new PhotoRepository(new GalleryStore(database.prisma, { provider: database.provider }));
  const startup = await timed(() => photosWithoutFile(photos, blobs, ['READY']));
  const check = await timed(() => checkGallery(database, config, { repair: false }));
  const megabytes = (PHOTOS * BYTES) / 1e6;
  console.log(`${database.kind}, ${PHOTOS} READY photos of ${BYTES} bytes (${megabytes.toFixed(0)} MB), ${cpus().length} × ${cpus()[0]?.model}`);
  console.log(`start-up file check: ${startup.seconds.toFixed(2)} s (${Math.round(PHOTOS / startup.seconds)} photos/s), ${startup.value.length} missing`);
  console.log(
    `face3d check: ${check.seconds.toFixed(2)} s (${Math.round(PHOTOS / check.seconds)} photos/s, ${(megabytes / check.seconds).toFixed(0)} MB/s), ` +
      `${check.value.database.integrity.method} ${check.value.database.integrity.result}, problems: ${check.value.problems.length}`,
  );
} finally {
  await database.close();
  rmSync(dir, { recursive: true, force: true });
}
