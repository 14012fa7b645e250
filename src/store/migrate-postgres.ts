import { randomUUID } from 'node:crypto';
import { assertHistoryMatches, MigrationError, readMigrations, type HistoryRow, type Migration, type MigrationReport } from './migrate.js';

/**
 * The PostgreSQL side of the start-up migration runner (src/store/migrate.ts is the SQLite
 * side): the same folders format, history table and checks, with Prisma's PostgreSQL layout of
 * `_prisma_migrations`. Works on any connection that runs SQL: node-postgres or PGlite.
 */
export interface SqlConnection {
  query<Row>(sql: string, params?: readonly unknown[]): Promise<{ rows: Row[] }>;
  /** Runs a script of several statements. */
  exec(sql: string): Promise<unknown>;
}

/** A node-postgres client (or pool) as a SqlConnection: its simple-query protocol runs scripts too. */
export function nodePostgresConnection(client: { query(sql: string, params?: unknown[]): Promise<{ rows: unknown[] }> }): SqlConnection {
  return {
    query: async <Row>(sql: string, params?: readonly unknown[]) => ({ rows: (await client.query(sql, params as unknown[])).rows as Row[] }),
    exec: (sql) => client.query(sql),
  };
}

/** Prisma's own table layout (PostgreSQL flavour), so the CLI recognises what we applied. */
const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

/** One advisory lock key for every face3d process migrating this database (Prisma uses its own). */
const MIGRATION_LOCK_KEY = 0x66616365; // 'face'

async function applyOne(db: SqlConnection, migration: Migration): Promise<void> {
  const id = randomUUID();
  await db.query('INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count) VALUES ($1, $2, $3, now(), 0)', [
    id,
    migration.checksum,
    migration.name,
  ]);
  try {
    await db.exec(migration.sql);
  } catch (error) {
    throw new MigrationError(`migration ${migration.name} failed: ${(error as Error).message}`, migration.name, { cause: error });
  }
  await db.query('UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = $1', [id]);
}

/**
 * Applies every pending migration of `dir`, each in its own transaction (PostgreSQL's DDL is
 * transactional, so a failing migration leaves neither a half-changed schema nor a history row).
 * A transaction-scoped advisory lock, taken before the history is read, makes processes starting
 * together apply each migration once. Use a connection no one else uses meanwhile.
 */
export async function applyPostgresMigrations(db: SqlConnection, dir: string): Promise<MigrationReport> {
  const migrations = readMigrations(dir, 'postgresql');
  const applied: string[] = [];
  const alreadyApplied: string[] = [];
  for (const migration of migrations) {
    await db.exec('BEGIN');
    try {
      await db.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
      await db.exec(CREATE_MIGRATIONS_TABLE);
      const { rows } = await db.query<HistoryRow>('SELECT migration_name, checksum, finished_at FROM "_prisma_migrations" WHERE rolled_back_at IS NULL');
      assertHistoryMatches(rows, migrations);
      if (rows.some((row) => row.migration_name === migration.name)) {
        alreadyApplied.push(migration.name);
      } else {
        await applyOne(db, migration);
        applied.push(migration.name);
      }
      await db.exec('COMMIT');
    } catch (error) {
      await db.exec('ROLLBACK');
      throw error;
    }
  }
  return { applied, alreadyApplied };
}
