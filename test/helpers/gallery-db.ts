/**
 * Read-only looks at a gallery database, for tests that check what a (killed) server left: a
 * SQLite file (read beside the server) or a PostgreSQL database URL (`postgres://…`).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { checkIntegrity } from '../../src/store/integrity.js';
import { nodePostgresConnection, sqliteConnection } from '../../src/store/migrate.js';

export interface GalleryCounts {
  /** SQLite's `PRAGMA integrity_check`, or PostgreSQL's amcheck over every B-tree index: 'ok' or the first problem. */
  readonly integrity: string;
  readonly photosByStatus: Readonly<Record<string, number>>;
  readonly failedWithoutCode: number;
  /** Faces of READY photos. */
  readonly readyFaces: number;
  /** Faces of photos that are not READY (must be none). */
  readonly strayFaces: number;
  /** FaceVector rows of `bundleId`. */
  readonly vectors: number;
  /** Jobs QUEUED or RUNNING. */
  readonly unfinishedJobs: number;
  /** READY photos whose bytes are not in the blob store under `blobRoot`. */
  readonly readyWithoutFile: number;
}

/** One query language for both: identifiers double-quoted, one optional parameter written `$1`. */
interface Reader {
  rows<Row>(sql: string, param?: string): Promise<Row[]>;
  integrity(): Promise<string>;
}

async function withReader<T>(database: string, read: (reader: Reader) => Promise<T>): Promise<T> {
  if (/^postgres(ql)?:\/\//.test(database)) {
    const client = new pg.Client({ connectionString: database });
    await client.connect();
    try {
      return await read({
        rows: async <Row>(sql: string, param?: string) => (await client.query(sql, param === undefined ? [] : [param])).rows as Row[],
        integrity: async () => (await checkIntegrity(nodePostgresConnection(client), 'postgresql')).result,
      });
    } finally {
      await client.end();
    }
  }
  const db = new BetterSqlite3(database, { readonly: true, fileMustExist: true, timeout: 10_000 });
  try {
    return await read({
      rows: async <Row>(sql: string, param?: string) => db.prepare(sql.replace('$1', '?')).all(...(param === undefined ? [] : [param])) as Row[],
      integrity: async () => (await checkIntegrity(sqliteConnection(db), 'sqlite')).result,
    });
  } finally {
    db.close();
  }
}

async function count(reader: Reader, sql: string, param?: string): Promise<number> {
  const [row] = await reader.rows<{ n: number | string }>(sql, param);
  return Number(row.n);
}

const UNFINISHED = `SELECT COUNT(*) AS n FROM "Photo" WHERE "status" IN ('PENDING', 'PROCESSING')`;

/** `database`: a SQLite file path or a postgres:// URL. */
export function unfinishedPhotoCount(database: string): Promise<number> {
  return withReader(database, (reader) => count(reader, UNFINISHED));
}

/** Polls until no photo is PENDING or PROCESSING; throws after `timeoutMs`. */
export async function waitForDrain(database: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await unfinishedPhotoCount(database)) > 0) {
    if (Date.now() > deadline) throw new Error(`photos still unfinished in ${database} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export function galleryCounts(database: string, bundleId: string, blobRoot: string): Promise<GalleryCounts> {
  return withReader(database, async (reader) => {
    const statuses = await reader.rows<{ status: string; n: number | string }>('SELECT "status", COUNT(*) AS n FROM "Photo" GROUP BY "status"');
    const readyPaths = await reader.rows<{ storagePath: string }>(`SELECT "storagePath" FROM "Photo" WHERE "status" = 'READY'`);
    return {
      integrity: await reader.integrity(),
      photosByStatus: Object.fromEntries(statuses.map(({ status, n }) => [status, Number(n)])),
      failedWithoutCode: await count(reader, `SELECT COUNT(*) AS n FROM "Photo" WHERE "status" = 'FAILED' AND ("errorCode" IS NULL OR "errorCode" = '')`),
      readyFaces: await count(reader, `SELECT COUNT(*) AS n FROM "Face" f JOIN "Photo" p ON p."id" = f."photoId" WHERE p."status" = 'READY'`),
      strayFaces: await count(reader, `SELECT COUNT(*) AS n FROM "Face" f JOIN "Photo" p ON p."id" = f."photoId" WHERE p."status" <> 'READY'`),
      vectors: await count(reader, 'SELECT COUNT(*) AS n FROM "FaceVector" WHERE "bundleId" = $1', bundleId),
      unfinishedJobs: await count(reader, `SELECT COUNT(*) AS n FROM "Job" WHERE "status" IN ('QUEUED', 'RUNNING')`),
      readyWithoutFile: readyPaths.filter(({ storagePath }) => !existsSync(join(blobRoot, storagePath))).length,
    };
  });
}
