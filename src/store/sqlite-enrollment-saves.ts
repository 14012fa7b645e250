/**
 * The enrollment worker's save on SQLite (its finished jobs' faces, vectors, photos, jobs and change
 * entries, and the claim of its next jobs), on a better-sqlite3 connection of its own with its
 * statements prepared once. Through Prisma the same ten-odd statements of a batch cost the worker
 * about 1.5 ms of CPU per photo (docs/BENCHMARKS.md §61: each one compiled and wrapped by its
 * client, prepared anew by the adapter); here each is a few microseconds (the workers' CPU per
 * photo, 2 × 8: about 1.1–1.4 ms less, §63). Rows are written as
 * Prisma writes them (DateTime as its adapter's ISO 8601 text, @updatedAt set, Json as text, Bytes
 * as blobs), so Prisma reads them back alike; PostgreSQL and PGlite keep Prisma's path.
 *
 * One save is one transaction (BEGIN IMMEDIATE … COMMIT, ROLLBACK on any error), held only inside
 * GalleryStore's write queue, as the upload's insert is (src/store/sqlite-photo-inserts.ts): this
 * process's Prisma writes never overlap it, so the transaction may span the caller's awaits.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { Photo } from '../generated/prisma/client.js';
import type { ChangeEntity } from './gallery-store.js';
import { PHOTO_STATUS_OF } from './gallery-store.js';
import { openSqliteWriter, sqliteDateTime } from './sqlite-photo-inserts.js';

/** A Face row as the save writes it. */
export interface SqliteFaceRow {
  readonly id: string;
  readonly photoId: string;
  readonly createdAt: Date;
  readonly boxX: number;
  readonly boxY: number;
  readonly boxWidth: number;
  readonly boxHeight: number;
  readonly score: number;
  readonly yaw: number;
  readonly pitch: number;
  readonly roll: number;
  readonly expression: Uint8Array;
  readonly landmarks: Uint8Array | null;
}

/** A FaceVector row as the save writes it. */
export interface SqliteFaceVectorRow {
  readonly id: string;
  readonly faceId: string;
  readonly bundleId: string;
  readonly shape: Uint8Array;
  readonly texture: Uint8Array;
  readonly createdAt: Date;
}

/** A claimed job as the claiming UPDATE returns it. */
export interface SqliteClaimedJob {
  readonly id: string;
  readonly photoId: string;
  readonly attempts: number;
  readonly maxAttempts: number;
  readonly requestId: string | null;
  readonly createdAt: string;
}

/** A Photo row as SQLite returns it: DateTime and Json still text. */
type StoredPhoto = Omit<Photo, 'createdAt' | 'updatedAt' | 'faceBox'> & { createdAt: string; updatedAt: string; faceBox: string | null };

/** A Photo row as Prisma's client reads it. */
function photoOf(row: StoredPhoto): Photo {
  return { ...row, createdAt: new Date(row.createdAt), updatedAt: new Date(row.updatedAt), faceBox: row.faceBox === null ? null : (JSON.parse(row.faceBox) as Photo['faceBox']) };
}

const NO_FACE = `NOT EXISTS (SELECT 1 FROM "Face" WHERE "Face"."photoId" = "Photo"."id")`;
const SET_QUALITY = `UPDATE "Photo" SET "qualityScore" = ?, "qualityIssues" = ? WHERE "id" = ? AND ${NO_FACE}`;
const MARK_READY = `UPDATE "Photo" SET "status" = 'READY', "errorCode" = NULL, "errorMessage" = NULL, "updatedAt" = ? WHERE "id" = ? AND ${NO_FACE} RETURNING *`;
const MARK_PROCESSING = `UPDATE "Photo" SET "status" = 'PROCESSING', "updatedAt" = ? WHERE "id" = ? RETURNING *`;
const INSERT_FACE = `INSERT INTO "Face" ("id", "photoId", "createdAt", "boxX", "boxY", "boxWidth", "boxHeight", "score", "yaw", "pitch", "roll", "expression", "landmarks")
  VALUES (@id, @photoId, @createdAt, @boxX, @boxY, @boxWidth, @boxHeight, @score, @yaw, @pitch, @roll, @expression, @landmarks)`;
const INSERT_VECTOR = `INSERT INTO "FaceVector" ("id", "faceId", "bundleId", "shape", "texture", "createdAt") VALUES (@id, @faceId, @bundleId, @shape, @texture, @createdAt)`;
const FINISH_JOB = `UPDATE "Job" SET "status" = 'DONE', "leaseUntil" = NULL, "updatedAt" = ? WHERE "id" = ?`;
const FINISH_STORED_JOB = `UPDATE "Job" SET "status" = 'DONE', "leaseUntil" = NULL, "lastError" = NULL, "updatedAt" = ? WHERE "id" = ?`;
/** JobRepository.claimIn's statement, with SQLite's placeholders. */
const CLAIM = `UPDATE "Job" SET "status" = 'RUNNING', "attempts" = "attempts" + 1, "leaseUntil" = ?, "updatedAt" = ?
  WHERE "id" IN (
    SELECT "id" FROM "Job"
    WHERE "kind" = 'ENROLL' AND "photoId" IS NOT NULL AND ("status" = 'QUEUED' OR ("status" = 'RUNNING' AND "leaseUntil" < ?))
    ORDER BY "createdAt", "id" LIMIT ?
  )
  RETURNING "id", "photoId", "attempts", "maxAttempts", "requestId", "createdAt"`;

/** GalleryStore.recordChange's row for `entity`, its photo's status read by the same subquery. */
function recordChangeStatement(entity: 'Face' | 'Photo'): string {
  return `INSERT INTO "ChangeLog" ("entity", "entityId", "op", "origin", "createdAt", "photoStatus") VALUES (?, ?, ?, ?, ?, ${PHOTO_STATUS_OF[entity]!('').sql})`;
}

export class SqliteEnrollmentSaves {
  private readonly statements: Record<'setQuality' | 'markReady' | 'markProcessing' | 'insertFace' | 'insertVector' | 'finishJob' | 'finishStoredJob' | 'claim' | 'faceChange' | 'photoChange', BetterSqlite3.Statement>;
  private readonly begin: BetterSqlite3.Statement;
  private readonly commit: BetterSqlite3.Statement;
  private readonly rollback: BetterSqlite3.Statement;

  private constructor(private readonly connection: BetterSqlite3.Database) {
    const prepare = (sql: string) => connection.prepare(sql);
    this.statements = {
      setQuality: prepare(SET_QUALITY),
      markReady: prepare(MARK_READY),
      markProcessing: prepare(MARK_PROCESSING),
      insertFace: prepare(INSERT_FACE),
      insertVector: prepare(INSERT_VECTOR),
      finishJob: prepare(FINISH_JOB),
      finishStoredJob: prepare(FINISH_STORED_JOB),
      claim: prepare(CLAIM),
      faceChange: prepare(recordChangeStatement('Face')),
      photoChange: prepare(recordChangeStatement('Photo')),
    };
    this.begin = prepare('BEGIN IMMEDIATE');
    this.commit = prepare('COMMIT');
    this.rollback = prepare('ROLLBACK');
  }

  /** A connection to the database file `file` (migrated already), waiting up to `busyTimeoutMs` for another process's lock. */
  static open(file: string, busyTimeoutMs: number): SqliteEnrollmentSaves {
    return openSqliteWriter(file, busyTimeoutMs, (connection) => new SqliteEnrollmentSaves(connection));
  }

  /**
   * `work` in one transaction that takes the write lock first: committed when it resolves, rolled
   * back when it throws. The caller holds GalleryStore's write queue throughout.
   */
  async transaction<T>(work: () => Promise<T>): Promise<T> {
    this.begin.run();
    try {
      const result = await work();
      this.commit.run();
      return result;
    } catch (error) {
      if (this.connection.inTransaction) this.rollback.run();
      throw error;
    }
  }

  /** The photo's quality, while it has no face. */
  setQuality(photoId: string, qualityScore: number, qualityIssues: string): void {
    this.statements.setQuality.run(qualityScore, qualityIssues, photoId);
  }

  /** The photo READY, unless it has a face already or is gone: its row then, else undefined. */
  markReady(photoId: string, now: Date): Photo | undefined {
    const row = this.statements.markReady.get(sqliteDateTime(now), photoId) as StoredPhoto | undefined;
    return row && photoOf(row);
  }

  insertFace(face: SqliteFaceRow): void {
    this.statements.insertFace.run({ ...face, createdAt: sqliteDateTime(face.createdAt) });
  }

  insertVector(vector: SqliteFaceVectorRow): void {
    this.statements.insertVector.run({ ...vector, createdAt: sqliteDateTime(vector.createdAt) });
  }

  /** The job DONE, its lease dropped and, for a job whose face was stored, its last error cleared. */
  finishJob(jobId: string, stored: boolean, now: Date): void {
    (stored ? this.statements.finishStoredJob : this.statements.finishJob).run(sqliteDateTime(now), jobId);
  }

  /** Up to `count` of the oldest runnable jobs claimed as JobRepository.claimIn claims them, their photos PROCESSING; in no order. */
  claim(count: number, leaseUntil: Date, now: Date): { job: SqliteClaimedJob; photo: Photo }[] {
    const updatedAt = sqliteDateTime(now);
    const jobs = this.statements.claim.all(sqliteDateTime(leaseUntil), updatedAt, updatedAt, count) as SqliteClaimedJob[];
    // A job's photo is there: the foreign key deletes a photo's jobs with it.
    return jobs.map((job) => ({ job, photo: photoOf(this.statements.markProcessing.get(updatedAt, job.photoId) as StoredPhoto) }));
  }

  /** GalleryStore.recordChange's rows, for a Face CREATE or a Photo UPDATE. */
  recordChange(entity: Extract<ChangeEntity, 'Face' | 'Photo'>, entityIds: readonly string[], origin: string, now: Date): void {
    const [statement, op] = entity === 'Face' ? [this.statements.faceChange, 'CREATE'] : [this.statements.photoChange, 'UPDATE'];
    const createdAt = sqliteDateTime(now);
    for (const id of entityIds) statement.run(entity, id, op, origin, createdAt, id);
  }

  close(): void {
    this.connection.close();
  }
}
