/**
 * The change feed's own CPU, both sides, on a SQLite file: the writer's (a worker's save transaction
 * recording 4 Face CREATE and 4 Photo UPDATE rows, GalleryStore.recordChange) and the reader's (one
 * ChangeFeed.poll of another process's store over every row written, applying nothing: the read);
 * and the upload's insert that writes its photo's entry (PhotoRepository.accept of one photo, on the
 * SQLite connection of its own and through Prisma's batch).
 *   npm run build && node dist/bench/change-feed.js [--transactions 1500] [--uploads 1000]
 * Prints CPU µs per transaction written, per row read and per upload (process.cpuUsage: the machine may be shared).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ChangeFeed } from '../src/gallery/change-feed.js';
import { openDatabase } from '../src/store/database.js';
import { GalleryStore } from '../src/store/gallery-store.js';
import { PhotoRepository } from '../src/store/photo-repository.js';
import { SqlitePhotoInserts } from '../src/store/sqlite-photo-inserts.js';

const PHOTOS = 400;
const ROWS_PER_KIND = 4;
const WARM_UP = 200;

const { values } = parseArgs({ options: { transactions: { type: 'string', default: '1500' }, uploads: { type: 'string', default: '1000' } } });
const transactions = Number(values.transactions);
const uploads = Number(values.uploads);
const dir = mkdtempSync(join(tmpdir(), 'face3d-feed-bench-'));
const database = await openDatabase(`file:${join(dir, 'gallery.db')}`);
try {
  const writer = new GalleryStore(database.prisma, { provider: database.provider });
  const reader = new GalleryStore(database.prisma, { provider: database.provider });
  const subject = await database.prisma.subject.create({ data: { name: 'bench' } });
  const photoIds: string[] = [];
  const faceIds: string[] = [];
  for (let i = 0; i < PHOTOS; i++) {
    const photo = await database.prisma.photo.create({ data: { subjectId: subject.id, sha256: `${i}`, storagePath: `${i}`, mimeType: 'image/png', width: 8, height: 8, status: 'READY' } });
    const face = await database.prisma.face.create({
      data: { photoId: photo.id, boxX: 0, boxY: 0, boxWidth: 1, boxHeight: 1, score: 1, yaw: 0, pitch: 0, roll: 0, expression: Buffer.alloc(4) },
    });
    photoIds.push(photo.id);
    faceIds.push(face.id);
  }
  const feed = await ChangeFeed.fromNow(reader, { intervalMs: 60_000, apply: async () => undefined });
  const write = async (count: number): Promise<void> => {
    for (let t = 0; t < count; t++) {
      const first = (t * ROWS_PER_KIND) % PHOTOS;
      await writer.transaction(async (tx) => {
        await writer.recordChange(tx, 'Face', 'CREATE', faceIds.slice(first, first + ROWS_PER_KIND));
        await writer.recordChange(tx, 'Photo', 'UPDATE', photoIds.slice(first, first + ROWS_PER_KIND));
      });
    }
  };
  await write(WARM_UP);
  await feed.poll();
  const microseconds = (usage: NodeJS.CpuUsage): number => usage.user + usage.system;
  let start = process.cpuUsage();
  await write(transactions);
  const written = microseconds(process.cpuUsage(start));
  start = process.cpuUsage();
  const rows = await feed.poll();
  const read = microseconds(process.cpuUsage(start));

  const inserts = SqlitePhotoInserts.open(database.file!, 5000);
  let uploaded = 0;
  /** CPU µs per upload of one new photo through `photos`, after as many unmeasured. */
  const upload = async (photos: PhotoRepository): Promise<number> => {
    const accept = () => photos.accept(subject.id, [{ sha256: `upload-${uploaded}`, storagePath: `upload-${uploaded++}`, mimeType: 'image/png', width: 8, height: 8 }], null);
    for (let i = 0; i < uploads; i++) await accept();
    const begun = process.cpuUsage();
    for (let i = 0; i < uploads; i++) await accept();
    return +(microseconds(process.cpuUsage(begun)) / uploads).toFixed(1);
  };
  const uploadMicroseconds = { ownConnection: await upload(new PhotoRepository(writer, inserts)), prisma: await upload(new PhotoRepository(writer)) };
  inserts.close();
  console.log(
    JSON.stringify({ transactions, rows, writeMicrosecondsPerTransaction: +(written / transactions).toFixed(1), readMicrosecondsPerRow: +(read / rows).toFixed(2), uploads, uploadMicroseconds }),
  );
} finally {
  await database.close();
  rmSync(dir, { recursive: true, force: true });
}
