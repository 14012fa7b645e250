/** Read-only looks at a SQLite gallery file, for tests that check what a (killed) server left. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';

export interface GalleryCounts {
  /** `PRAGMA integrity_check`: 'ok' or its first problem. */
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

function withReadOnly<T>(file: string, read: (db: BetterSqlite3.Database) => T): T {
  const db = new BetterSqlite3(file, { readonly: true, fileMustExist: true, timeout: 10_000 });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

export function unfinishedPhotoCount(file: string): number {
  return withReadOnly(file, (db) => (db.prepare("SELECT COUNT(*) AS n FROM Photo WHERE status IN ('PENDING', 'PROCESSING')").get() as { n: number }).n);
}

/** Polls until no photo is PENDING or PROCESSING; throws after `timeoutMs`. */
export async function waitForDrain(file: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (unfinishedPhotoCount(file) > 0) {
    if (Date.now() > deadline) throw new Error(`photos still unfinished in ${file} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export function galleryCounts(file: string, bundleId: string, blobRoot: string): GalleryCounts {
  return withReadOnly(file, (db) => {
    const count = (sql: string, ...params: unknown[]): number => (db.prepare(sql).get(...params) as { n: number }).n;
    const statuses = db.prepare('SELECT status, COUNT(*) AS n FROM Photo GROUP BY status').all() as { status: string; n: number }[];
    const readyPaths = db.prepare("SELECT storagePath FROM Photo WHERE status = 'READY'").pluck().all() as string[];
    return {
      integrity: db.pragma('integrity_check', { simple: true }) as string,
      photosByStatus: Object.fromEntries(statuses.map(({ status, n }) => [status, n])),
      failedWithoutCode: count("SELECT COUNT(*) AS n FROM Photo WHERE status = 'FAILED' AND (errorCode IS NULL OR errorCode = '')"),
      readyFaces: count("SELECT COUNT(*) AS n FROM Face f JOIN Photo p ON p.id = f.photoId WHERE p.status = 'READY'"),
      strayFaces: count("SELECT COUNT(*) AS n FROM Face f JOIN Photo p ON p.id = f.photoId WHERE p.status <> 'READY'"),
      vectors: count('SELECT COUNT(*) AS n FROM FaceVector WHERE bundleId = ?', bundleId),
      unfinishedJobs: count("SELECT COUNT(*) AS n FROM Job WHERE status IN ('QUEUED', 'RUNNING')"),
      readyWithoutFile: readyPaths.filter((path) => !existsSync(join(blobRoot, path))).length,
    };
  });
}
