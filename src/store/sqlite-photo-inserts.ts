/**
 * The upload's insert (new photos, their ENROLL jobs and change entries) on SQLite, on a
 * better-sqlite3 connection of its own with its three statements prepared once. Through Prisma the same two
 * statements in one batched transaction cost about 0.6–0.9 ms of CPU per upload (its client
 * compiles and wraps every statement, and the adapter prepares each anew), here under 0.1 ms
 * (docs/BENCHMARKS.md §59): the API server's largest single cost per uploaded photo after the
 * photo's own file. Rows are written as Prisma writes them (DateTime as its adapter's ISO 8601
 * text, Json as text), so Prisma reads them back alike; PostgreSQL and PGlite keep Prisma's path.
 *
 * The connection writes only inside GalleryStore's write queue: this process's Prisma transactions
 * never overlap it, so neither connection ever waits for the other (a synchronous wait here would
 * hold the event loop that the other needs to finish). Another process's lock is waited for like
 * Prisma's connection does (the busy timeout; SQLITE_BUSY past it, DATABASE_BUSY to clients).
 */
import BetterSqlite3 from 'better-sqlite3';
import type { Photo } from '../generated/prisma/client.js';

/** The Photo columns in the order the insert binds them. */
const PHOTO_COLUMNS = [
  'id',
  'subjectId',
  'sha256',
  'storagePath',
  'mimeType',
  'width',
  'height',
  'status',
  'errorCode',
  'errorMessage',
  'createdAt',
  'updatedAt',
  'faceBox',
  'qualityFilter',
  'qualityScore',
  'qualityIssues',
] as const satisfies readonly (keyof Photo)[];

const INSERT_PHOTO = `INSERT INTO "Photo" (${PHOTO_COLUMNS.map((column) => `"${column}"`).join(', ')}) VALUES (${PHOTO_COLUMNS.map(() => '?').join(', ')})
  ON CONFLICT ("subjectId", "sha256") DO NOTHING RETURNING "id"`;
const INSERT_JOB = `INSERT INTO "Job" ("id", "kind", "photoId", "requestId", "createdAt", "updatedAt") VALUES (?, 'ENROLL', ?, ?, ?, ?)`;
/** GalleryStore.recordPhotosCreated's row for one photo written. */
const INSERT_CHANGE = `INSERT INTO "ChangeLog" ("entity", "entityId", "op", "origin", "createdAt", "photoStatus") VALUES ('Photo', ?, 'CREATE', ?, ?, ?)`;

/** How Prisma's better-sqlite3 adapter stores a DateTime (its default timestampFormat, iso8601). */
export function sqliteDateTime(date: Date): string {
  return date.toISOString().replace('Z', '+00:00');
}

/**
 * What `open` makes of a writing connection of its own to the database file `file` (migrated
 * already), waiting up to `busyTimeoutMs` for another process's lock; the connection is closed
 * again if `open` fails.
 */
export function openSqliteWriter<T>(file: string, busyTimeoutMs: number, open: (connection: BetterSqlite3.Database) => T): T {
  const connection = new BetterSqlite3(file, { timeout: busyTimeoutMs, fileMustExist: true });
  try {
    // As Prisma's connection (src/store/database.ts): the same durability, cascades and keys enforced.
    connection.pragma('foreign_keys = ON');
    connection.pragma('synchronous = NORMAL');
    return open(connection);
  } catch (error) {
    connection.close();
    throw error;
  }
}

export class SqlitePhotoInserts {
  private readonly insertPhoto: BetterSqlite3.Statement;
  private readonly insertJob: BetterSqlite3.Statement;
  private readonly insertChange: BetterSqlite3.Statement;
  private readonly insertAll: BetterSqlite3.Transaction<(photos: readonly Photo[], jobIdFor: () => string, requestId: string | null, origin: string) => string[]>;

  private constructor(private readonly connection: BetterSqlite3.Database) {
    this.insertPhoto = connection.prepare(INSERT_PHOTO);
    this.insertJob = connection.prepare(INSERT_JOB);
    this.insertChange = connection.prepare(INSERT_CHANGE);
    this.insertAll = connection.transaction((photos, jobIdFor, requestId, origin) => {
      const written: string[] = [];
      for (const photo of photos) {
        const createdAt = sqliteDateTime(photo.createdAt);
        const values: unknown[] = PHOTO_COLUMNS.map((column) => photo[column]);
        values[PHOTO_COLUMNS.indexOf('createdAt')] = createdAt;
        values[PHOTO_COLUMNS.indexOf('updatedAt')] = sqliteDateTime(photo.updatedAt);
        values[PHOTO_COLUMNS.indexOf('faceBox')] = photo.faceBox === null ? null : JSON.stringify(photo.faceBox);
        // A photo the subject has already (the same bytes) returns no row and gets no job.
        if (this.insertPhoto.get(values) === undefined) continue;
        written.push(photo.id);
        this.insertJob.run(jobIdFor(), photo.id, requestId, createdAt, createdAt);
        this.insertChange.run(photo.id, origin, createdAt, photo.status);
      }
      return written;
    });
  }

  /** A connection to the database file `file` (migrated already), waiting up to `busyTimeoutMs` for another process's lock. */
  static open(file: string, busyTimeoutMs: number): SqlitePhotoInserts {
    return openSqliteWriter(file, busyTimeoutMs, (connection) => new SqlitePhotoInserts(connection));
  }

  /**
   * Inserts the photos (those whose bytes the subject has already are left out), an ENROLL job and
   * a change entry under `origin` (GalleryStore's) for each one written, in one transaction that
   * takes the write lock first; the ids written. Throws the driver's error:
   * SQLITE_CONSTRAINT_FOREIGNKEY for a subject that does not exist (isForeignKeyViolation).
   */
  insert(photos: readonly Photo[], jobIdFor: () => string, requestId: string | null, origin: string): string[] {
    return this.insertAll.immediate(photos, jobIdFor, requestId, origin);
  }

  close(): void {
    this.connection.close();
  }
}
