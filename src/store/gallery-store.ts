/**
 * The Prisma client with this process's writes taken one at a time, plus what the repositories
 * must know of the database behind it. The better-sqlite3 adapter runs every query on one
 * connection and only its transactions take a lock, so a write issued while another request's
 * transaction is open would land inside that transaction (and vanish with its rollback). SQLite
 * allows one writer at a time anyway; queuing them here costs nothing. (PGlite has one
 * connection too; on a PostgreSQL server the queue only orders this process's own writes.)
 */
import { randomUUID } from 'node:crypto';
import { Prisma, type PrismaClient } from '../generated/prisma/client.js';
import type { ChangeOp } from './enums.js';
import type { DatabaseProvider, Db } from './database.js';
import type { PgVectorTable } from './pgvector.js';
import { AsyncLock } from '../core/async-lock.js';

/** What the change feed tells other processes about (src/gallery/change-feed.ts). */
/** A FaceVector change names its face (a vector added under a bundle the face had none under). */
export type ChangeEntity = 'Face' | 'FaceVector' | 'Photo' | 'Subject';

/**
 * What a change entry records of its photo, read by the statement that writes it: the status a
 * Photo entry's photo, or a new face's photo, has in the recording transaction. Other processes
 * publish that status, not the photo as they find it when they poll, which may have moved on
 * since (a claim and its save read in one poll would otherwise be READY twice, never PROCESSING).
 */
export const PHOTO_STATUS_OF: Partial<Record<ChangeEntity, (id: string) => Prisma.Sql>> = {
  Photo: (id) => Prisma.sql`(SELECT "status" FROM "Photo" WHERE "id" = ${id})`,
  Face: (id) => Prisma.sql`(SELECT p."status" FROM "Face" f JOIN "Photo" p ON p."id" = f."photoId" WHERE f."id" = ${id})`,
};

export interface GalleryStoreOptions {
  readonly provider: DatabaseProvider;
  /** Where pgvector is installed: enrolled vectors are also written there, for search in SQL. */
  readonly vectors?: PgVectorTable;
}

/** Waits for another process's write lock longer than Prisma's 2 s default (SQLite busy handling). */
const TRANSACTION_OPTIONS = { maxWait: 15_000, timeout: 30_000 } as const;

/**
 * The adapter opens transactions with a deferred BEGIN: one that reads first and writes later
 * fails at once with SQLITE_BUSY when another process wrote in between (WAL cannot upgrade a
 * stale snapshot, and the busy timeout does not apply). A write as the first statement takes the
 * write lock up front, waiting for it like BEGIN IMMEDIATE would; it changes no row.
 */
const TAKE_WRITE_LOCK = 'DELETE FROM "ChangeLog" WHERE false';

export class GalleryStore {
  private readonly writes = new AsyncLock();
  readonly provider: DatabaseProvider;
  readonly vectors: PgVectorTable | undefined;
  /** Marks this process's change-feed rows, which it has applied already. */
  readonly origin = randomUUID();

  constructor(
    readonly prisma: PrismaClient,
    options: GalleryStoreOptions,
  ) {
    this.provider = options.provider;
    this.vectors = options.vectors;
  }

  /** Reads need no queue: they see committed data or, at worst, a transaction in flight. */
  get read(): Db {
    return this.prisma;
  }

  write<T>(work: (db: Db) => Promise<T>): Promise<T> {
    return this.writes.run(() => work(this.prisma));
  }

  /**
   * `firstStatementWrites`: the work's first statement is a write, which takes the write lock
   * itself (waiting for it, like the lock statement would), so no statement is spent on it.
   */
  transaction<T>(work: (tx: Db) => Promise<T>, { firstStatementWrites = false } = {}): Promise<T> {
    return this.write(() =>
      this.prisma.$transaction(async (tx) => {
        if (this.provider === 'sqlite' && !firstStatementWrites) await tx.$executeRawUnsafe(TAKE_WRITE_LOCK);
        return work(tx);
      }, TRANSACTION_OPTIONS),
    );
  }

  /**
   * Statements sent together and run in one transaction, behind this process's other writes: no
   * interactive transaction, whose own calls cost Prisma's client about as much CPU as the
   * statements (docs/BENCHMARKS.md §54). The first statement must write: on SQLite it takes the
   * write lock for the others (see TAKE_WRITE_LOCK).
   */
  batch<P extends Prisma.PrismaPromise<unknown>[]>(statements: (db: PrismaClient) => [...P]) {
    return this.write(() => this.prisma.$transaction(statements(this.prisma)));
  }

  /**
   * Appends to the change feed, inside the transaction that made the change, with the status of the
   * photo concerned as this transaction leaves it (see PHOTO_STATUS_OF).
   */
  async recordChange(tx: Db, entity: ChangeEntity, op: ChangeOp, entityIds: readonly string[]): Promise<void> {
    if (entityIds.length === 0) return;
    const createdAt = new Date();
    const statusOf = op === 'DELETE' ? undefined : PHOTO_STATUS_OF[entity];
    const rows = entityIds.map((entityId) => Prisma.sql`(${entity}, ${entityId}, ${op}, ${this.origin}, ${createdAt}, ${statusOf ? statusOf(entityId) : null})`);
    await tx.$executeRaw`INSERT INTO "ChangeLog" ("entity", "entityId", "op", "origin", "createdAt", "photoStatus") VALUES ${Prisma.join(rows)}`;
  }

  /**
   * The change entries of an upload's new photos (a Photo CREATE with the status each was inserted
   * with), as one statement for the upload's batch: those of `photoIds` the batch's insert left out
   * (bytes the subject had already) are not there, so they get none.
   */
  recordPhotosCreated(db: PrismaClient, photoIds: readonly string[]): Prisma.PrismaPromise<number> {
    return db.$executeRaw`INSERT INTO "ChangeLog" ("entity", "entityId", "op", "origin", "createdAt", "photoStatus")
      SELECT 'Photo', "id", 'CREATE', ${this.origin}, "createdAt", "status" FROM "Photo" WHERE "id" IN (${Prisma.join(photoIds)})`;
  }
}
