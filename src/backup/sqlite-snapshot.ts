/** A consistent copy of a live SQLite gallery, taken while other processes read and write it. */
import BetterSqlite3 from 'better-sqlite3';

const BUSY_TIMEOUT_MS = 10_000;

/**
 * Writes a snapshot of the database `source` to the new file `target` with `VACUUM INTO`: one read
 * transaction, so the copy is exactly the database as of one commit, and under WAL writers carry
 * on meanwhile. Returns the storage paths of the photos the snapshot references.
 */
export function snapshotSqlite(source: string, target: string): string[] {
  const live = new BetterSqlite3(source, { readonly: true, fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
  try {
    live.prepare('VACUUM INTO ?').run(target);
  } finally {
    live.close();
  }
  const copy = new BetterSqlite3(target, { readonly: true, fileMustExist: true });
  try {
    return copy.prepare('SELECT DISTINCT storagePath FROM Photo ORDER BY storagePath').pluck().all() as string[];
  } finally {
    copy.close();
  }
}

/** Checks a restored file before it replaces anything: SQLite's own integrity check must say 'ok'. */
export function checkSqliteFile(file: string): void {
  const db = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
  try {
    const result = db.pragma('integrity_check', { simple: true });
    if (result !== 'ok') throw new Error(`the database in the backup fails its integrity check: ${String(result)}`);
  } finally {
    db.close();
  }
}
