import { Face3dError } from '../core/errors.js';
import { Prisma } from '../generated/prisma/client.js';

/** Prisma's code for a unique constraint violation. */
export function isUniqueViolation(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002';
}

/** Prisma's code for "the record to update or delete does not exist". */
export function isMissingRecord(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2025';
}

/**
 * A foreign key refused the write: through Prisma (a raw query's error carries the driver's kind, the
 * same on every database), or from better-sqlite3 itself (the store's own SQLite connections).
 */
export function isForeignKeyViolation(error: unknown): boolean {
  const cause = (error as { meta?: { driverAdapterError?: { cause?: { kind?: string } } } } | null)?.meta?.driverAdapterError?.cause;
  return (
    (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2003') ||
    cause?.kind === 'ForeignKeyConstraintViolation' ||
    (error as { code?: unknown } | null)?.code === 'SQLITE_CONSTRAINT_FOREIGNKEY'
  );
}

/** Prisma's "could not start a transaction in time": this process waited on the database's lock. */
const TRANSACTION_START_TIMEOUT = 'P2028';

function isSqliteBusyCode(code: unknown): boolean {
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

/**
 * Whether the database refused because another process held its lock past the busy timeout:
 * SQLITE_BUSY, from better-sqlite3 itself or through Prisma's driver adapter.
 */
export function isDatabaseBusy(error: unknown): boolean {
  // Walked as plain objects: better-sqlite3 builds its errors from the SqliteError class of the first
  // realm that loaded it, which `instanceof Error` does not recognise in another (jest's test files).
  for (let cause = error; typeof cause === 'object' && cause !== null; cause = (cause as { cause?: unknown }).cause) {
    const adapterCause = (cause as { meta?: { driverAdapterError?: { cause?: { originalCode?: string } } } }).meta?.driverAdapterError?.cause;
    // better-sqlite3 reports SQLite's extended codes (SQLITE_BUSY_RECOVERY, SQLITE_BUSY_SNAPSHOT, ...).
    if (isSqliteBusyCode(adapterCause?.originalCode) || isSqliteBusyCode((cause as { code?: unknown }).code)) return true;
    if (cause instanceof Prisma.PrismaClientKnownRequestError && cause.code === TRANSACTION_START_TIMEOUT) return true;
  }
  return false;
}

/** Seconds a client is told to wait before retrying after DATABASE_BUSY (HTTP Retry-After). */
export const BUSY_RETRY_AFTER_S = 5;

/** The error as clients should see it: DATABASE_BUSY for a lock held too long, else itself. */
export function asClientError(error: unknown): unknown {
  if (!isDatabaseBusy(error)) return error;
  return new Face3dError('DATABASE_BUSY', `the database is locked by another process: retry in ${BUSY_RETRY_AFTER_S} s`, { cause: error });
}
