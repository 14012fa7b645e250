/**
 * Whether the database's own structures are sound: SQLite's `PRAGMA integrity_check`; on
 * PostgreSQL, amcheck over every B-tree index where the server offers the extension, else a
 * full read of every table (which at least finds pages the server cannot read).
 */
import type { PrismaClient } from '../generated/prisma/client.js';
import type { MigrationProvider, SqlConnection } from './migrate.js';

export interface IntegrityReport {
  readonly method: 'integrity_check' | 'amcheck' | 'table scan';
  /** 'ok', or the first problem found. */
  readonly result: string;
}

const TABLES = ['Subject', 'Photo', 'Face', 'FaceVector', 'FaceVectorClaim', 'Job', 'ApiKey', 'ChangeLog', 'GalleryIdentity'];

/** The Prisma client as a SqlConnection (its raw queries), for checks run beside the repositories. */
export function prismaConnection(prisma: PrismaClient): SqlConnection {
  return {
    query: async <Row>(sql: string, params: readonly unknown[] = []) => ({ rows: await prisma.$queryRawUnsafe<Row[]>(sql, ...params) }),
    exec: (sql) => prisma.$executeRawUnsafe(sql),
  };
}

async function enableAmcheck(connection: SqlConnection): Promise<boolean> {
  const { rows } = await connection.query<{ name: string }>("SELECT name FROM pg_available_extensions WHERE name = 'amcheck'");
  if (rows.length === 0) return false;
  try {
    await connection.exec('CREATE EXTENSION IF NOT EXISTS amcheck');
    return true;
  } catch {
    // No right to create it: the table scan below still runs.
    return false;
  }
}

async function firstFailure(checks: readonly (() => Promise<unknown>)[], names: readonly string[]): Promise<string> {
  for (const [i, check] of checks.entries()) {
    try {
      await check();
    } catch (error) {
      return `${names[i]}: ${(error as Error).message}`;
    }
  }
  return 'ok';
}

export async function checkIntegrity(connection: SqlConnection, provider: MigrationProvider): Promise<IntegrityReport> {
  if (provider === 'sqlite') {
    const rows = (await connection.query<{ integrity_check: string }>('PRAGMA integrity_check')).rows;
    return { method: 'integrity_check', result: rows.map((row) => row.integrity_check).join('; ') };
  }
  if (await enableAmcheck(connection)) {
    const { rows } = await connection.query<{ name: string }>(
      `SELECT c.oid::regclass::text AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
       JOIN pg_namespace n ON n.oid = c.relnamespace WHERE a.amname = 'btree' AND n.nspname = current_schema()`,
    );
    const names = rows.map((row) => row.name);
    // bt_index_check returns void, which not every driver can read: counted instead.
    const checks = names.map((name) => () => connection.query(`SELECT count(*)::int AS n FROM (SELECT bt_index_check($1::regclass, true)) AS checked`, [name]));
    return { method: 'amcheck', result: await firstFailure(checks, names) };
  }
  const checks = TABLES.map((table) => () => connection.query(`SELECT count(*)::int AS n FROM (SELECT * FROM "${table}") AS rows_read`));
  return { method: 'table scan', result: await firstFailure(checks, TABLES) };
}
