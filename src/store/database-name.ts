import { databaseKind, pgliteDirectory, redactUrl, sqliteFilePath } from './database.js';

/** A database URL as printed to people: an absolute path for SQLite and PGlite, no password for PostgreSQL. */
export function databaseName(url: string): string {
  const kind = databaseKind(url);
  if (kind === 'sqlite') return `file:${sqliteFilePath(url)}`;
  if (kind === 'pglite') return `pglite:${pgliteDirectory(url) ?? 'memory:'}`;
  return redactUrl(url);
}

/** The file (SQLite) or folder (PGlite) an embedded database lives in; undefined for a PostgreSQL server or PGlite in memory. */
export function embeddedDatabasePath(url: string): string | undefined {
  const kind = databaseKind(url);
  if (kind === 'sqlite') return sqliteFilePath(url);
  return kind === 'pglite' ? pgliteDirectory(url) : undefined;
}
