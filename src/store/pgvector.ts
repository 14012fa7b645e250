/**
 * Identity vectors in pgvector, where the PostgreSQL database has the extension: one row per
 * enrolled face and bundle (FaceEmbedding: its unit vector times its template weight, which cosine
 * distance ignores) and one per subject and bundle (SubjectEmbedding, the mean of its faces' rows,
 * hence the quality-weighted mean of their unit vectors, kept by a trigger so cascaded deletes keep
 * it right), each
 * with an HNSW cosine index per bundle; `identify` then runs in SQL. These tables are outside the
 * Prisma schema because they exist only where the extension does, and an HNSW index needs a
 * fixed dimension, which is each bundle's own (a partial index per bundle on a typed cast).
 */
import type { Db } from './database.js';
import type { Candidate, MatchMode } from './records.js';
import { joinedIdentityVector, l2Normalise, templateWeight } from '../core/vector.js';
import { bytesToFloat32 } from './vector-codec.js';
import type { PrismaClient } from '../generated/prisma/client.js';

export interface EmbeddingBundle {
  readonly id: string;
  /** Length of the identity vector [α, β]. */
  readonly dimension: number;
}

export interface FaceEmbeddingRow {
  readonly faceVectorId: string;
  readonly faceId: string;
  readonly subjectId: string;
  readonly bundleId: string;
  /** [α, β]; stored unit-normalised, times `weight`. */
  readonly vector: Float32Array;
  /** The face's weight in its subject's template (core/vector.ts templateWeight). */
  readonly weight: number;
}

const DDL_LOCK_KEY = 0x76656374; // 'vect'

const TABLES = [
  `CREATE TABLE IF NOT EXISTS "FaceEmbedding" (
    "faceVectorId" TEXT PRIMARY KEY REFERENCES "FaceVector"("id") ON DELETE CASCADE,
    "faceId" TEXT NOT NULL,
    "subjectId" TEXT NOT NULL,
    "bundleId" TEXT NOT NULL,
    "embedding" vector NOT NULL
  )`,
  `CREATE INDEX IF NOT EXISTS "FaceEmbedding_subjectId_bundleId_idx" ON "FaceEmbedding"("subjectId", "bundleId")`,
  `CREATE TABLE IF NOT EXISTS "SubjectEmbedding" (
    "subjectId" TEXT NOT NULL,
    "bundleId" TEXT NOT NULL,
    "embedding" vector NOT NULL,
    PRIMARY KEY ("subjectId", "bundleId")
  )`,
  // No foreign key to Subject: a subject's cascaded delete removes its faces one row at a time,
  // and each removal recomputes the mean of those left (none in the end, so no row).
  `CREATE OR REPLACE FUNCTION face3d_refresh_subject_embedding() RETURNS trigger LANGUAGE plpgsql AS $$
  DECLARE
    changed "FaceEmbedding";
  BEGIN
    IF TG_OP = 'DELETE' THEN changed := OLD; ELSE changed := NEW; END IF;
    DELETE FROM "SubjectEmbedding" WHERE "subjectId" = changed."subjectId" AND "bundleId" = changed."bundleId";
    INSERT INTO "SubjectEmbedding" ("subjectId", "bundleId", "embedding")
      SELECT changed."subjectId", changed."bundleId", avg("embedding") FROM "FaceEmbedding"
      WHERE "subjectId" = changed."subjectId" AND "bundleId" = changed."bundleId"
      HAVING count(*) > 0;
    RETURN NULL;
  END $$`,
  `CREATE OR REPLACE TRIGGER "FaceEmbedding_subject_mean" AFTER INSERT OR DELETE ON "FaceEmbedding"
    FOR EACH ROW EXECUTE FUNCTION face3d_refresh_subject_embedding()`,
];

function sqlString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** A valid, unique-enough index name for a bundle (PostgreSQL names stop at 63 bytes). */
function indexName(table: string, bundle: EmbeddingBundle): string {
  const slug = bundle.id.toLowerCase().replace(/[^a-z0-9]+/g, '_').slice(0, 30);
  let hash = 0;
  for (const char of bundle.id) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return `${table}_hnsw_${slug}_${bundle.dimension}_${hash.toString(36)}`;
}

/** The literal pgvector parses: '[x1,x2,…]'. */
export function vectorLiteral(vector: ArrayLike<number>): string {
  return `[${Array.from(vector, (value) => (Number.isFinite(value) ? value : 0)).join(',')}]`;
}

function hnswIndex(table: string, bundle: EmbeddingBundle): string {
  return (
    `CREATE INDEX IF NOT EXISTS "${indexName(table, bundle)}" ON "${table}" ` +
    `USING hnsw (("embedding"::vector(${bundle.dimension})) vector_cosine_ops) WHERE "bundleId" = ${sqlString(bundle.id)}`
  );
}

interface SearchRow {
  readonly subjectId: string;
  readonly faceId: string;
  readonly similarity: number;
}

export class PgVectorTable {
  private readonly dimensions = new Map<string, number>();

  constructor(private readonly prisma: PrismaClient) {}

  /** Creates the tables, trigger and per-bundle indexes (idempotent, serialised across processes), then fills in faces enrolled without them. */
  async ensure(bundles: readonly EmbeddingBundle[]): Promise<number> {
    for (const bundle of bundles) this.dimensions.set(bundle.id, bundle.dimension);
    await this.prisma.$transaction(
      async (tx) => {
        await tx.$executeRawUnsafe('SELECT pg_advisory_xact_lock($1)', DDL_LOCK_KEY);
        for (const statement of TABLES) await tx.$executeRawUnsafe(statement);
        for (const bundle of bundles) {
          await tx.$executeRawUnsafe(hnswIndex('FaceEmbedding', bundle));
          await tx.$executeRawUnsafe(hnswIndex('SubjectEmbedding', bundle));
        }
      },
      { maxWait: 30_000, timeout: 120_000 },
    );
    let filled = 0;
    for (const bundle of bundles) filled += await this.backfill(bundle.id);
    return filled;
  }

  /** Within the transaction that stored the FaceVector rows. */
  async insert(tx: Db, rows: readonly FaceEmbeddingRow[]): Promise<void> {
    for (const row of rows) {
      if (!this.dimensions.has(row.bundleId)) continue;
      await tx.$executeRawUnsafe(
        'INSERT INTO "FaceEmbedding" ("faceVectorId", "faceId", "subjectId", "bundleId", "embedding") VALUES ($1, $2, $3, $4, $5::vector) ON CONFLICT ("faceVectorId") DO NOTHING',
        row.faceVectorId,
        row.faceId,
        row.subjectId,
        row.bundleId,
        vectorLiteral(l2Normalise(row.vector).map((value) => value * row.weight)),
      );
    }
  }

  /** The best `k` candidates, by the HNSW indexes (approximate, like any HNSW search). */
  async search(bundleId: string, probe: Float32Array, k: number, mode: MatchMode): Promise<Candidate[]> {
    const dimension = this.dimensions.get(bundleId);
    if (dimension === undefined) throw new Error(`bundle ${bundleId} has no embedding index`);
    if (probe.length !== dimension) throw new RangeError(`probe has ${probe.length} values, bundle ${bundleId} ${dimension}`);
    const cast = `::vector(${dimension})`;
    const distance = (column: string) => `${column}${cast} <=> $1${cast}`;
    // Literal bundle ids: the planner only uses a partial index whose predicate it can see.
    const bundle = sqlString(bundleId);
    const sql =
      mode === 'PHOTO'
        ? `SELECT "subjectId", "faceId", 1 - (${distance('"embedding"')}) AS similarity FROM "FaceEmbedding"
           WHERE "bundleId" = ${bundle} ORDER BY ${distance('"embedding"')} LIMIT ${k}`
        : `SELECT t."subjectId", f."faceId", t.similarity FROM (
             SELECT "subjectId", 1 - (${distance('"embedding"')}) AS similarity FROM "SubjectEmbedding"
             WHERE "bundleId" = ${bundle} ORDER BY ${distance('"embedding"')} LIMIT ${k}) t
           CROSS JOIN LATERAL (
             SELECT "faceId" FROM "FaceEmbedding" e WHERE e."subjectId" = t."subjectId" AND e."bundleId" = ${bundle}
             ORDER BY ${distance('e."embedding"')} LIMIT 1) f
           ORDER BY t.similarity DESC`;
    const rows = await this.prisma.$transaction(async (tx) => {
      // HNSW returns at most ef_search rows: keep it above k.
      await tx.$executeRawUnsafe("SELECT set_config('hnsw.ef_search', $1, true)", String(Math.max(100, 2 * k)));
      return tx.$queryRawUnsafe<SearchRow[]>(sql, vectorLiteral(probe));
    });
    return rows.map((row) => ({ subjectId: row.subjectId, faceId: row.faceId, similarity: Number(row.similarity) }));
  }

  /** Vectors stored before this table existed (or by a process without the extension). */
  private async backfill(bundleId: string): Promise<number> {
    const missing = await this.prisma.$queryRawUnsafe<{ id: string }[]>(
      'SELECT v."id" FROM "FaceVector" v LEFT JOIN "FaceEmbedding" e ON e."faceVectorId" = v."id" WHERE v."bundleId" = $1 AND e."faceVectorId" IS NULL',
      bundleId,
    );
    for (let start = 0; start < missing.length; start += 1000) {
      const rows = await this.prisma.faceVector.findMany({
        where: { id: { in: missing.slice(start, start + 1000).map((row) => row.id) } },
        include: { face: { select: { photo: { select: { subjectId: true, qualityScore: true } } } } },
      });
      await this.prisma.$transaction((tx) =>
        this.insert(
          tx,
          rows.map((row) => ({
            faceVectorId: row.id,
            faceId: row.faceId,
            subjectId: row.face.photo.subjectId,
            bundleId: row.bundleId,
            vector: joinedIdentityVector(row.bundleId, bytesToFloat32(row.shape), bytesToFloat32(row.texture)).vector,
            weight: templateWeight(row.face.photo.qualityScore),
          })),
        ),
      );
    }
    return missing.length;
  }
}
