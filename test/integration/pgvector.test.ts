/**
 * Identity vectors searched in SQL with pgvector (PGlite runs pgvector's own code): the same
 * candidates and similarities as the in-memory exact index (templates weighted by each face's
 * quality alike), templates kept right through
 * deletes by the trigger, faces stored before the tables existed filled in, and the per-bundle
 * HNSW indexes usable by the planner.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GalleryIndex } from '../../src/gallery/gallery-index.js';
import type { MatchMode } from '../../src/store/records.js';
import { PhotoRepository, type EncodedFaceRecord } from '../../src/store/photo-repository.js';
import { GalleryStore } from '../../src/store/gallery-store.js';
import { SubjectRepository } from '../../src/store/subject-repository.js';
import { float32ToBytes } from '../../src/store/vector-codec.js';
import { joinedIdentityVector, templateWeight } from '../../src/core/vector.js';
import { openDatabase, type Database } from '../../src/store/database.js';
import { PgVectorTable } from '../../src/store/pgvector.js';

const BUNDLE = 'test-bundle';
const HALF = 6;
const SUBJECTS = 25;
const FACES_PER_SUBJECT = 3;

let seed = 7;
function random(): number {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed / 2 ** 31 - 0.5;
}
const randomVector = (length: number) => Float32Array.from({ length }, random);

let dir: string;
let database: Database;
let vectors: PgVectorTable;
let photos: PhotoRepository;
let subjects: SubjectRepository;
const index = new GalleryIndex(BUNDLE, 2 * HALF);
const photoOfFace = new Map<string, string>();
let photoCount = 0;

function encoded(): EncodedFaceRecord {
  return {
    box: { x: 0, y: 0, width: 10, height: 10 },
    score: 0.9,
    pose: { yaw: 0, pitch: 0, roll: 0 },
    expression: new Float32Array(3),
    ...joinedIdentityVector(BUNDLE, randomVector(HALF), randomVector(HALF)),
    // Scores from 0.05 to 0.95: templates differ from plain means.
    quality: { score: 0.5 + 0.9 * random(), issues: [] },
  };
}

async function enroll(subjectId: string): Promise<string> {
  const face = encoded();
  const sha256 = (photoCount++).toString(16).padStart(64, '0');
  const stored = await photos.importEnrolled(subjectId, { sha256, storagePath: `${sha256.slice(0, 2)}/${sha256}`, mimeType: 'image/jpeg', width: 10, height: 10 }, face);
  index.addFace({ faceId: stored.face.id, subjectId, bundleId: BUNDLE, vector: face.vector, weight: templateWeight(face.quality!.score) });
  photoOfFace.set(stored.face.id, stored.photo.id);
  return stored.face.id;
}

async function expectSameAsExact(mode: MatchMode): Promise<void> {
  for (let probe = 0; probe < 5; probe++) {
    const query = randomVector(2 * HALF);
    const inSql = await vectors.search(BUNDLE, query, 5, mode);
    const inMemory = index.search({ bundleId: BUNDLE, vector: query }, 5, mode);
    expect(inSql.map((candidate) => [candidate.subjectId, candidate.faceId])).toEqual(inMemory.map((candidate) => [candidate.subjectId, candidate.faceId]));
    inSql.forEach((candidate, i) => expect(candidate.similarity).toBeCloseTo(inMemory[i].similarity, 5));
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'face3d-pgvector-'));
  database = await openDatabase(`pglite:${join(dir, 'pg')}`);
  expect(database.vectorExtension).toBe(true);
  vectors = new PgVectorTable(database.prisma);
  expect(await vectors.ensure([{ id: BUNDLE, dimension: 2 * HALF }])).toBe(0);
  const store = new GalleryStore(database.prisma, { provider: database.provider, vectors });
  photos = new PhotoRepository(store);
  subjects = new SubjectRepository(store);
  for (let s = 0; s < SUBJECTS; s++) {
    const subject = await subjects.create({ name: `subject ${s}` });
    for (let f = 0; f < FACES_PER_SUBJECT; f++) await enroll(subject.id);
  }
});

afterAll(async () => {
  await database.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('identify in SQL with pgvector', () => {
  it('ranks every enrolled face as the exact in-memory index does (PHOTO)', async () => {
    await expectSameAsExact('PHOTO');
  });

  it('ranks subjects by their templates, each with its closest face, as the in-memory index does (TEMPLATE)', async () => {
    await expectSameAsExact('TEMPLATE');
  });

  it('keeps templates right when photos and subjects are deleted (cascades, trigger)', async () => {
    const [victimFace] = [...photoOfFace.keys()];
    await photos.delete(photoOfFace.get(victimFace)!);
    index.removeFace(victimFace);
    const doomed = (await subjects.list({ first: 1 })).items[0];
    await subjects.delete(doomed.id);
    index.removeSubject(doomed.id);
    await expectSameAsExact('TEMPLATE');
    await expectSameAsExact('PHOTO');
    const [{ count }] = await database.prisma.$queryRawUnsafe<{ count: number }[]>('SELECT count(*)::int AS count FROM "SubjectEmbedding" WHERE "subjectId" = $1', doomed.id);
    expect(count).toBe(0);
  });

  it('fills in faces whose vectors were stored without an embedding row', async () => {
    const subject = await subjects.create({ name: 'stored before pgvector' });
    const face = encoded();
    const row = await database.prisma.photo.create({
      data: {
        subjectId: subject.id,
        sha256: 'f'.repeat(64),
        storagePath: `ff/${'f'.repeat(64)}`,
        mimeType: 'image/jpeg',
        width: 10,
        height: 10,
        status: 'READY',
        face: {
          create: {
            boxX: 0, boxY: 0, boxWidth: 1, boxHeight: 1, score: 1, yaw: 0, pitch: 0, roll: 0,
            expression: float32ToBytes(face.expression),
            vectors: { create: { bundleId: BUNDLE, shape: float32ToBytes(face.shape), texture: float32ToBytes(face.texture) } },
          },
        },
      },
      include: { face: true },
    });
    expect(await vectors.ensure([{ id: BUNDLE, dimension: 2 * HALF }])).toBe(1);
    const [best] = await vectors.search(BUNDLE, face.vector, 1, 'PHOTO');
    expect(best).toMatchObject({ subjectId: subject.id, faceId: row.face!.id });
    expect(best.similarity).toBeCloseTo(1, 5);
  });

  it("gives a vector added under a bundle served later (the worker's backfill) its embedding in the same transaction", async () => {
    const NEXT = 'next-bundle';
    expect(await vectors.ensure([{ id: BUNDLE, dimension: 2 * HALF }, { id: NEXT, dimension: 2 * HALF }])).toBe(0);
    const faceId = [...photoOfFace.keys()].at(-1)!;
    const added = joinedIdentityVector(NEXT, randomVector(HALF), randomVector(HALF));
    expect(await photos.addFaceVectors([{ faceId, ...added }])).toHaveLength(1);
    const [best] = await vectors.search(NEXT, added.vector, 1, 'PHOTO');
    expect(best).toMatchObject({ faceId });
    expect(best.similarity).toBeCloseTo(1, 5);
    // Stored once: a second worker's vector for the same face and bundle adds no row.
    expect(await photos.addFaceVectors([{ faceId, ...added }])).toEqual([]);
    const [{ count }] = await database.prisma.$queryRawUnsafe<{ count: number }[]>('SELECT count(*)::int AS count FROM "FaceEmbedding" WHERE "bundleId" = $1', NEXT);
    expect(count).toBe(1);
  });

  it('has an HNSW cosine index per bundle that the planner can use', async () => {
    await database.prisma.$transaction(async (tx) => {
      await tx.$executeRawUnsafe('SET LOCAL enable_seqscan = off');
      const plan = await tx.$queryRawUnsafe<{ 'QUERY PLAN': string }[]>(
        `EXPLAIN SELECT "faceId" FROM "FaceEmbedding" WHERE "bundleId" = '${BUNDLE}' ORDER BY "embedding"::vector(${2 * HALF}) <=> '[${Array(2 * HALF).fill(0.5).join(',')}]'::vector(${2 * HALF}) LIMIT 5`,
      );
      expect(plan.map((row) => row['QUERY PLAN']).join('\n')).toMatch(/Index Scan using "?FaceEmbedding_hnsw_/);
    });
  });
});
