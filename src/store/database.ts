import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import BetterSqlite3 from 'better-sqlite3';
import { DEFAULT_DATABASE_URL, findPackageRoot } from '../config.js';
import { PrismaClient } from '../generated/prisma/client.js';
import { applyMigrations, type MigrationReport } from './migrate.js';

export { DEFAULT_DATABASE_URL };

/** How long a connection waits for another process's write lock before failing with SQLITE_BUSY. */
const DEFAULT_BUSY_TIMEOUT_MS = 10_000;

export interface DatabaseOptions {
  /** Prisma-format migration folders; defaults to the package's prisma/migrations. */
  readonly migrationsDir?: string;
  readonly busyTimeoutMs?: number;
}

export interface Database {
  readonly prisma: PrismaClient;
  /** Absolute path of the SQLite file. */
  readonly file: string;
  readonly migrations: MigrationReport;
  close(): Promise<void>;
}

/**
 * The file behind a `file:` URL. A relative path is taken from the working directory (like the
 * better-sqlite3 adapter does), not from prisma/ as Prisma's own engines used to.
 */
export function sqliteFilePath(url: string): string {
  if (!url.startsWith('file:')) throw new Error(`unsupported database URL "${url}": expected file:<path>`);
  const path = url.slice('file:'.length);
  if (path === '' || path.includes('?') || path === ':memory:') {
    throw new Error(`unsupported database URL "${url}": expected file:<path> without parameters`);
  }
  return resolve(path);
}

/** WAL lets readers in other processes go on while one process writes. */
function migrate(file: string, migrationsDir: string, busyTimeoutMs: number): MigrationReport {
  const connection = new BetterSqlite3(file, { timeout: busyTimeoutMs });
  try {
    connection.pragma('journal_mode = WAL');
    return applyMigrations(connection, migrationsDir);
  } finally {
    connection.close();
  }
}

/**
 * Opens (creating if needed) the SQLite database at `url`, brings its schema up to date with
 * the migrations, then returns a Prisma client on the better-sqlite3 driver adapter.
 */
export async function openDatabase(
  url: string = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL,
  options: DatabaseOptions = {},
): Promise<Database> {
  const file = sqliteFilePath(url);
  const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  mkdirSync(dirname(file), { recursive: true });
  const migrationsDir = options.migrationsDir ?? join(findPackageRoot(), 'prisma', 'migrations');
  const migrations = migrate(file, migrationsDir, busyTimeoutMs);
  const prisma = new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: file, timeout: busyTimeoutMs }) });
  try {
    // The adapter keeps one connection, so these hold for every later query. better-sqlite3
    // happens to enable foreign keys by default; cascades must not depend on how it was built.
    await prisma.$executeRawUnsafe('PRAGMA foreign_keys = ON');
    await prisma.$executeRawUnsafe('PRAGMA synchronous = NORMAL');
  } catch (error) {
    await prisma.$disconnect();
    throw error;
  }
  return { prisma, file, migrations, close: () => prisma.$disconnect() };
}
