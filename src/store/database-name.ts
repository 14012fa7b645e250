import { databaseKind, pgliteDirectory, redactUrl, sqliteFilePath } from './database.js';

/** A database URL as printed to people: an absolute path for SQLite and PGlite, no password for PostgreSQL. */
export function databaseName(url: string): string {
  const kind = databaseKind(url);
  if (kind === 'sqlite') return `file:${sqliteFilePath(url)}`;
  if (kind === 'pglite') return `pglite:${pgliteDirectory(url) ?? 'memory:'}`;
  return redactUrl(url);
}
