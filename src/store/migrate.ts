import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';

/**
 * Applies Prisma-format migration folders (`<dir>/<name>/migration.sql`) to SQLite at start-up,
 * recording them in `_prisma_migrations` exactly as `prisma migrate deploy` would, because the
 * Prisma CLI's schema engine is not available where this service runs.
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

/** Prisma's own table layout (SQLite flavour), so the CLI recognises what we applied. */
const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    TEXT PRIMARY KEY NOT NULL,
    "checksum"              TEXT NOT NULL,
    "finished_at"           DATETIME,
    "migration_name"        TEXT NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        DATETIME,
    "started_at"            DATETIME NOT NULL DEFAULT current_timestamp,
    "applied_steps_count"   INTEGER UNSIGNED NOT NULL DEFAULT 0
)`;

export interface HistoryRow {
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
export function readMigrations(dir: string, provider = 'sqlite'): Migration[] {
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

function readHistory(db: BetterSqlite3.Database): HistoryRow[] {
  return db
    .prepare('SELECT migration_name, checksum, finished_at FROM "_prisma_migrations" WHERE rolled_back_at IS NULL')
    .all() as HistoryRow[];
}

/** Refuses to go on when the database's history disagrees with the migration files. */
export function assertHistoryMatches(history: readonly HistoryRow[], migrations: readonly Migration[]): void {
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

function applyOne(db: BetterSqlite3.Database, migration: Migration): void {
  const id = randomUUID();
  // Milliseconds since the epoch: how Prisma's SQLite connector writes DateTime values.
  db.prepare(
    'INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count) ' +
      'VALUES (?, ?, ?, ?, 0)',
  ).run(id, migration.checksum, migration.name, Date.now());
  try {
    db.exec(migration.sql);
  } catch (error) {
    throw new MigrationError(`migration ${migration.name} failed: ${(error as Error).message}`, migration.name, {
      cause: error,
    });
  }
  const violations = db.pragma('foreign_key_check') as unknown[];
  if (violations.length > 0) {
    throw new MigrationError(
      `migration ${migration.name} leaves ${violations.length} rows violating foreign keys`,
      migration.name,
    );
  }
  db.prepare('UPDATE "_prisma_migrations" SET finished_at = ?, applied_steps_count = 1 WHERE id = ?').run(
    Date.now(),
    id,
  );
}

/**
 * Applies every pending migration of `dir`, each in its own `BEGIN IMMEDIATE` transaction, so a
 * failing migration leaves neither a half-changed schema nor a history row. The write lock is
 * taken before the history is read, so processes starting together apply each migration once:
 * the later one waits (busy timeout of `db`) and then finds it applied.
 *
 * Foreign keys are switched off on this connection (SQLite ignores that pragma inside a
 * transaction, where Prisma's table-redefining scripts would need it) and checked with
 * `foreign_key_check` before each commit instead. Use a connection dedicated to migrating.
 */
export function applyMigrations(db: BetterSqlite3.Database, dir: string): MigrationReport {
  const migrations = readMigrations(dir);
  db.pragma('foreign_keys = OFF');
  const applied: string[] = [];
  const alreadyApplied: string[] = [];
  for (const migration of migrations) {
    const step = db.transaction((): 'applied' | 'already' => {
      db.exec(CREATE_MIGRATIONS_TABLE);
      const history = readHistory(db);
      assertHistoryMatches(history, migrations);
      if (history.some((row) => row.migration_name === migration.name)) return 'already';
      applyOne(db, migration);
      return 'applied';
    });
    (step.immediate() === 'applied' ? applied : alreadyApplied).push(migration.name);
  }
  return { applied, alreadyApplied };
}
