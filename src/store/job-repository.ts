/**
 * Enrollment jobs, persisted next to the photos they process. A job and its photo move together:
 * QUEUED/PENDING → RUNNING/PROCESSING → DONE/READY or FAILED/FAILED, each step one transaction.
 * A job is retried a bounded number of times (Job.maxAttempts, counted when claimed) and jobs a
 * dead process left RUNNING are put back or failed at start-up, so no photo waits forever.
 */
import { Prisma } from '../generated/prisma/client.js';
import type { Db } from './database.js';
import type { GalleryStore } from './gallery-store.js';
import { qualityColumns, toPhotoRecord, type PhotoError, type PhotoQuality, type PhotoRecord } from './records.js';
import { SqliteEnrollmentSaves } from './sqlite-enrollment-saves.js';
import type { Photo } from '../generated/prisma/client.js';

export interface ClaimedJob {
  readonly id: string;
  readonly photoId: string;
  /** Including this one. */
  readonly attempts: number;
  readonly maxAttempts: number;
  /** The x-request-id of the request that queued it; null for jobs queued by a repair or before ids were kept. */
  readonly requestId: string | null;
}

/** A claimed job with its photo. */
export interface ClaimedWork {
  readonly job: ClaimedJob;
  readonly photo: PhotoRecord;
}

export interface RecoveryReport {
  /** RUNNING jobs of a process that died, queued again. */
  readonly requeued: number;
  /** RUNNING jobs that had used up their attempts. */
  readonly failed: number;
  /** Unfinished photos that had no live job (never expected; repaired all the same). */
  readonly enqueued: number;
}

/** A job row as the claiming UPDATE returns it (SQLite's integers may come back as bigint). */
type ClaimedRow = { id: string; photoId: string; attempts: number | bigint; maxAttempts: number | bigint; requestId: string | null; createdAt: Date };

/** The transaction a worker's save runs in: Prisma's or, on SQLite, the save's own connection's (src/store/sqlite-enrollment-saves.ts). */
export type SaveTransaction = Db | SqliteEnrollmentSaves;

/** Claimed jobs oldest first: RETURNING keeps no order. */
function oldestFirst(a: ClaimedRow, b: ClaimedRow): number {
  return a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : 1);
}

/** The claimed jobs, each with its photo. */
function claimedWork(claimed: readonly ClaimedRow[], photoOf: (photoId: string) => Photo): ClaimedWork[] {
  return claimed.map((job) => ({
    job: { id: job.id, photoId: job.photoId, attempts: Number(job.attempts), maxAttempts: Number(job.maxAttempts), requestId: job.requestId },
    photo: toPhotoRecord(photoOf(job.photoId)),
  }));
}

export const INTERRUPTED: PhotoError = { code: 'INTERNAL', message: 'processing was interrupted by a server restart too many times' };

export class JobRepository {
  constructor(private readonly store: GalleryStore) {}

  /**
   * Takes up to `count` of the oldest runnable jobs in ONE transaction (a worker's idle loops claiming
   * together): QUEUED, or RUNNING under a lease that has run out (its worker is gone); fewer, perhaps
   * none, when fewer are runnable. Three statements whatever the count: the jobs are picked and
   * claimed by one UPDATE, their photos marked PROCESSING and read back by another, and the change
   * recorded. The UPDATE is a write from its first row on, so on SQLite it holds the write lock while
   * it picks (no other process can claim the same job); PostgreSQL locks the picked rows and skips
   * rows other workers hold, so workers on many machines each take different jobs without waiting.
   */
  async claimMany(count: number, leaseMs: number, now = new Date()): Promise<ClaimedWork[]> {
    return this.store.transaction((tx) => this.claimIn(tx, count, leaseMs, now), { firstStatementWrites: true });
  }

  /**
   * claimMany's statements inside a transaction the caller holds (the worker's save of the jobs it
   * finished claims their successors in the same one): what it returns is claimed only once that
   * transaction commits.
   */
  async claimIn(tx: SaveTransaction, count: number, leaseMs: number, now = new Date()): Promise<ClaimedWork[]> {
    if (count <= 0) return [];
    if (tx instanceof SqliteEnrollmentSaves) {
      const claimed = tx.claim(count, new Date(now.getTime() + leaseMs), now);
      const jobs = claimed.map(({ job }) => ({ ...job, createdAt: new Date(job.createdAt) })).sort(oldestFirst);
      tx.recordChange(
        'Photo',
        jobs.map((job) => job.photoId),
        this.store.origin,
        new Date(),
      );
      const photos = new Map(claimed.map(({ photo }) => [photo.id, photo]));
      return claimedWork(jobs, (photoId) => photos.get(photoId)!);
    }
    const claimed = await tx.$queryRaw<ClaimedRow[]>`
      UPDATE "Job" SET "status" = 'RUNNING', "attempts" = "attempts" + 1, "leaseUntil" = ${new Date(now.getTime() + leaseMs)}, "updatedAt" = ${now}
      WHERE "id" IN (
        SELECT "id" FROM "Job"
        WHERE "kind" = 'ENROLL' AND "photoId" IS NOT NULL AND ("status" = 'QUEUED' OR ("status" = 'RUNNING' AND "leaseUntil" < ${now}))
        ORDER BY "createdAt", "id" LIMIT ${count} ${this.store.provider === 'postgresql' ? Prisma.sql`FOR UPDATE SKIP LOCKED` : Prisma.empty}
      )
      RETURNING "id", "photoId", "attempts", "maxAttempts", "requestId", "createdAt"`;
    if (claimed.length === 0) return [];
    claimed.sort(oldestFirst);
    const photoIds = claimed.map((job) => job.photoId);
    const photos = new Map((await tx.photo.updateManyAndReturn({ where: { id: { in: photoIds } }, data: { status: 'PROCESSING' } })).map((photo) => [photo.id, photo]));
    await this.store.recordChange(tx, 'Photo', 'UPDATE', photoIds);
    return claimedWork(claimed, (photoId) => photos.get(photoId)!);
  }

  /** Queues the job again when `retryable` and attempts remain; otherwise fails it and its photo. Null when the photo is gone. */
  /** `quality`: what the face was found to be, when it was refused for it (LOW_QUALITY). */
  async settleFailure(job: ClaimedJob, error: PhotoError, retryable: boolean, quality?: PhotoQuality): Promise<PhotoRecord | null> {
    const retry = retryable && job.attempts < job.maxAttempts;
    return this.store.transaction(async (tx) => {
      const { count } = await tx.job.updateMany({
        where: { id: job.id },
        data: { status: retry ? 'QUEUED' : 'FAILED', leaseUntil: null, lastError: `${error.code}: ${error.message}` },
      });
      if (count === 0) return null;
      const photo = await tx.photo.update({
        where: { id: job.photoId },
        data: retry ? { status: 'PENDING' } : { status: 'FAILED', errorCode: error.code, errorMessage: error.message, ...(quality && qualityColumns(quality)) },
      });
      await this.store.recordChange(tx, 'Photo', 'UPDATE', [photo.id]);
      return toPhotoRecord(photo);
    });
  }

  /** Extends the leases of jobs this process is still working on, so no other worker takes them. */
  async renewLeases(jobIds: readonly string[], leaseMs: number, now = new Date()): Promise<void> {
    if (jobIds.length === 0) return;
    await this.store.write((db) => db.job.updateMany({ where: { id: { in: [...jobIds] }, status: 'RUNNING' }, data: { leaseUntil: new Date(now.getTime() + leaseMs) } }));
  }

  /**
   * Extends the backfill's claims (PhotoRepository.claimFacesWithoutVector) on faces this process
   * is still encoding under `bundleId`, as renewLeases does a job's, so no other worker takes them
   * over. A claim its vector has ended is gone, and not written again.
   */
  async renewFaceVectorClaims(bundleId: string, faceIds: readonly string[], leaseMs: number, now = new Date()): Promise<void> {
    if (faceIds.length === 0) return;
    await this.store.write((db) => db.faceVectorClaim.updateMany({ where: { bundleId, faceId: { in: [...faceIds] } }, data: { leaseUntil: new Date(now.getTime() + leaseMs) } }));
  }

  /**
   * Start-up repair, before this process's worker starts: see {@link RecoveryReport}. With
   * `exclusive` (SQLite: the server is the queue's only worker) every RUNNING job belonged to a
   * dead process; otherwise (PostgreSQL: workers elsewhere may be alive) only those whose lease
   * has run out, the others being renewed by their live workers. Each photo it sets PENDING or
   * FAILED gets its change entry, for other processes' subscribers.
   */
  async recover(options: { exclusive: boolean } = { exclusive: true }, now = new Date()): Promise<RecoveryReport> {
    return this.store.transaction(async (tx) => {
      const running = await tx.job.findMany({ where: { status: 'RUNNING', ...(!options.exclusive && { leaseUntil: { lt: now } }) } });
      let requeued = 0;
      let failed = 0;
      const changedPhotos: string[] = [];
      for (const job of running) {
        const exhausted = job.attempts >= job.maxAttempts;
        await tx.job.update({
          where: { id: job.id },
          data: exhausted ? { status: 'FAILED', leaseUntil: null, lastError: `${INTERRUPTED.code}: ${INTERRUPTED.message}` } : { status: 'QUEUED', leaseUntil: null },
        });
        if (job.photoId) {
          await tx.photo.update({
            where: { id: job.photoId },
            data: exhausted ? { status: 'FAILED', errorCode: INTERRUPTED.code, errorMessage: INTERRUPTED.message } : { status: 'PENDING' },
          });
          changedPhotos.push(job.photoId);
        }
        if (exhausted) failed++;
        else requeued++;
      }
      const stranded = await tx.photo.findMany({
        where: { status: { in: ['PENDING', 'PROCESSING'] }, jobs: { none: { status: { in: ['QUEUED', 'RUNNING'] } } } },
        select: { id: true },
      });
      for (const photo of stranded) {
        await tx.photo.update({ where: { id: photo.id }, data: { status: 'PENDING', jobs: { create: { kind: 'ENROLL' } } } });
        changedPhotos.push(photo.id);
      }
      await this.store.recordChange(tx, 'Photo', 'UPDATE', changedPhotos);
      return { requeued, failed, enqueued: stranded.length };
    });
  }

  /** Jobs not finished yet (QUEUED or RUNNING). */
  unfinishedCount(): Promise<number> {
    return this.store.read.job.count({ where: { status: { in: ['QUEUED', 'RUNNING'] } } });
  }
}
