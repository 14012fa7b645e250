import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';

/**
 * Applies Prisma-format migration folders (`<dir>/<name>/migration.sql`) at start-up, to SQLite
 * or PostgreSQL (a server or PGlite), recording them in `_prisma_migrations` exactly as
 * `prisma migrate deploy` would, because the Prisma CLI's schema engine is not available where
 * this service runs. One runner; what differs between the providers is a small dialect below.
 * This module imports only Node's own modules (a test runs it alone in other processes).
 */

export interface Migration {
  readonly name: string;
  readonly sql: string;
  readonly checksum: string;
}

export interface MigrationReport {
  /** Applied by this call, in order. */
  readonly applied: readonly string[];
  /** Found already applied (by an earlier start or a concurrent process). */
  readonly alreadyApplied: readonly string[];
}

export class MigrationError extends Error {
  readonly migrationName: string | undefined;

  constructor(message: string, migrationName?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MigrationError';
    this.migrationName = migrationName;
  }
}

interface HistoryRow {
  readonly migration_name: string;
  readonly checksum: string;
  readonly finished_at: number | string | null;
}

/** Prisma stores the hex SHA-256 of the script text. */
export function migrationChecksum(sql: string): string {
  return createHash('sha256').update(sql, 'utf8').digest('hex');
}

/** A checkout with CRLF line endings must not look like an edited migration. */
function checksumMatches(sql: string, checksum: string): boolean {
  return migrationChecksum(sql) === checksum || migrationChecksum(sql.replaceAll('\r\n', '\n')) === checksum;
}

function assertLockProvider(dir: string, expected: string): void {
  const lockFile = join(dir, 'migration_lock.toml');
  if (!existsSync(lockFile)) return;
  const provider = /^\s*provider\s*=\s*"([^"]*)"/m.exec(readFileSync(lockFile, 'utf8'))?.[1];
  if (provider !== expected) {
    throw new MigrationError(`${lockFile} is for provider "${provider}", not "${expected}"`);
  }
}

/** Migration folders in name order, which Prisma's timestamp prefixes make chronological. */
export function readMigrations(dir: string, provider: MigrationProvider): Migration[] {
  if (!existsSync(dir)) throw new MigrationError(`migrations folder ${dir} does not exist`);
  assertLockProvider(dir, provider);
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(dir, entry.name, 'migration.sql')))
    .map((entry) => entry.name)
    .sort()
    .map((name) => {
      const sql = readFileSync(join(dir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: migrationChecksum(sql) };
    });
}

/** Refuses to go on when the database's history disagrees with the migration files. */
function assertHistoryMatches(history: readonly HistoryRow[], migrations: readonly Migration[]): void {
  const byName = new Map(migrations.map((migration) => [migration.name, migration]));
  for (const row of history) {
    if (row.finished_at === null) {
      throw new MigrationError(
        `migration ${row.migration_name} was started but never finished (a failed \`prisma migrate\` run?); ` +
          'repair the database and mark it with `prisma migrate resolve` before starting',
        row.migration_name,
      );
    }
    const migration = byName.get(row.migration_name);
    if (migration && !checksumMatches(migration.sql, row.checksum)) {
      throw new MigrationError(
        `migration ${row.migration_name} was modified after it was applied (checksum ${row.checksum} in the ` +
          `database, ${migration.checksum} on disk); restore the original file and add a new migration instead`,
        row.migration_name,
      );
    }
  }
}

/** Any connection that runs SQL: better-sqlite3 (through {@link sqliteConnection}), node-postgres, PGlite. */
export interface SqlConnection {
  query<Row>(sql: string, params?: readonly unknown[]): Promise<{ rows: Row[] }>;
  /** Runs a script of several statements. */
  exec(sql: string): Promise<unknown>;
}

export type MigrationProvider = 'sqlite' | 'postgresql';

/** A better-sqlite3 database as a SqlConnection (its calls are synchronous; nothing interleaves). */
export function sqliteConnection(db: BetterSqlite3.Database): SqlConnection {
  // For migrations: SQLite has no Unicode normalisation, PostgreSQL's is normalize(text, NFC).
  db.function('nfc', { deterministic: true }, (value: unknown) => (typeof value === 'string' ? value.normalize('NFC') : value));
  return {
    query: async <Row>(sql: string, params: readonly unknown[] = []) => {
      const statement = db.prepare(sql);
      if (statement.reader) return { rows: statement.all(...params) as Row[] };
      statement.run(...params);
      return { rows: [] };
    },
    exec: async (sql) => db.exec(sql),
  };
}

/** A node-postgres client (or pool) as a SqlConnection: its simple-query protocol runs scripts too. */
export function nodePostgresConnection(client: { query(sql: string, params?: unknown[]): Promise<{ rows: unknown[] }> }): SqlConnection {
  return {
    query: async <Row>(sql: string, params?: readonly unknown[]) => ({ rows: (await client.query(sql, params as unknown[])).rows as Row[] }),
    exec: (sql) => client.query(sql),
  };
}

interface Dialect {
  /** Prisma's own table layout for the provider, so its CLI recognises what we applied. */
  readonly createHistoryTable: string;
  /** Opens the transaction of one migration, holding the lock that serialises migrating processes. */
  begin(db: SqlConnection): Promise<void>;
  recordStart(db: SqlConnection, id: string, migration: Migration): Promise<void>;
  recordFinish(db: SqlConnection, id: string): Promise<void>;
  /** Before any migration runs, on this connection. */
  prepare(db: SqlConnection): Promise<void>;
  /** After a migration's script, before its commit. */
  check(db: SqlConnection, migration: Migration): Promise<void>;
}

/** One advisory lock key for every face3d process migrating a PostgreSQL database. */
const MIGRATION_LOCK_KEY = 0x66616365; // 'face'

const DIALECTS: Readonly<Record<MigrationProvider, Dialect>> = {
  sqlite: {
    createHistoryTable: `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    TEXT PRIMARY KEY NOT NULL,
    "checksum"              TEXT NOT NULL,
    "finished_at"           DATETIME,
    "migration_name"        TEXT NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        DATETIME,
    "started_at"            DATETIME NOT NULL DEFAULT current_timestamp,
    "applied_steps_count"   INTEGER UNSIGNED NOT NULL DEFAULT 0
)`,
    // The write lock before the history is read: a process starting meanwhile waits (busy timeout), then finds it applied.
    begin: async (db) => void (await db.exec('BEGIN IMMEDIATE')),
    // Milliseconds since the epoch: how Prisma's SQLite connector writes DateTime values.
    recordStart: async (db, id, migration) =>
      void (await db.query('INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count) VALUES (?, ?, ?, ?, 0)', [
        id,
        migration.checksum,
        migration.name,
        Date.now(),
      ])),
    recordFinish: async (db, id) => void (await db.query('UPDATE "_prisma_migrations" SET finished_at = ?, applied_steps_count = 1 WHERE id = ?', [Date.now(), id])),
    // SQLite ignores this pragma inside a transaction, where Prisma's table-redefining scripts would need it.
    prepare: async (db) => void (await db.exec('PRAGMA foreign_keys = OFF')),
    check: async (db, migration) => {
      const { rows } = await db.query('PRAGMA foreign_key_check');
      if (rows.length > 0) throw new MigrationError(`migration ${migration.name} leaves ${rows.length} rows violating foreign keys`, migration.name);
    },
  },
  postgresql: {
    createHistoryTable: `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`,
    begin: async (db) => {
      await db.exec('BEGIN');
      await db.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    },
    recordStart: async (db, id, migration) =>
      void (await db.query('INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count) VALUES ($1, $2, $3, now(), 0)', [
        id,
        migration.checksum,
        migration.name,
      ])),
    recordFinish: async (db, id) => void (await db.query('UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = $1', [id])),
    prepare: async () => undefined,
    // PostgreSQL checks foreign keys as the script runs.
    check: async () => undefined,
  },
};

async function applyOne(db: SqlConnection, dialect: Dialect, migration: Migration): Promise<void> {
  const id = randomUUID();
  await dialect.recordStart(db, id, migration);
  try {
    await db.exec(migration.sql);
  } catch (error) {
    throw new MigrationError(`migration ${migration.name} failed: ${(error as Error).message}`, migration.name, { cause: error });
  }
  await dialect.check(db, migration);
  await dialect.recordFinish(db, id);
}

/**
 * Applies every pending migration of `dir`, each in its own transaction, so a failing migration
 * leaves neither a half-changed schema nor a history row (DDL is transactional in both). The lock
 * is taken before the history is read, so processes starting together apply each migration once.
 * On SQLite foreign keys are switched off on this connection and checked with
 * `foreign_key_check` before each commit instead. Use a connection dedicated to migrating.
 */
export async function applyMigrations(db: SqlConnection, dir: string, provider: MigrationProvider): Promise<MigrationReport> {
  const dialect = DIALECTS[provider];
  const migrations = readMigrations(dir, provider);
  await dialect.prepare(db);
  const applied: string[] = [];
  const alreadyApplied: string[] = [];
  for (const migration of migrations) {
    await dialect.begin(db);
    try {
      await db.exec(dialect.createHistoryTable);
      const { rows } = await db.query<HistoryRow>('SELECT migration_name, checksum, finished_at FROM "_prisma_migrations" WHERE rolled_back_at IS NULL');
      assertHistoryMatches(rows, migrations);
      if (rows.some((row) => row.migration_name === migration.name)) {
        alreadyApplied.push(migration.name);
      } else {
        await applyOne(db, dialect, migration);
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
