import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite/vector';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { DEFAULT_DATABASE_URL, findPackageRoot } from '../core/config.js';
import { PrismaClient, type Prisma } from '../generated/prisma/client.js';
import { PrismaClient as PostgresqlPrismaClient } from '../generated/prisma-postgresql/client.js';
import { applyMigrations, nodePostgresConnection, sqliteConnection, type MigrationReport, type SqlConnection } from './migrate.js';

/** How long a connection waits for another process's write lock before failing with SQLITE_BUSY. */
const DEFAULT_BUSY_TIMEOUT_MS = 10_000;

/**
 * Where the gallery's rows live, chosen by the URL's scheme:
 * - `file:<path>`: SQLite (embedded, the default);
 * - `postgres://…` or `postgresql://…`: a PostgreSQL server, through node-postgres;
 * - `pglite:<dir>` (or `pglite:memory:`): PGlite, PostgreSQL compiled to WebAssembly, in this
 *   process, with pgvector.
 */
export type DatabaseKind = 'sqlite' | 'postgres' | 'pglite';
/** The Prisma provider, which decides the generated client and the migrations folder. */
export type DatabaseProvider = 'sqlite' | 'postgresql';

/** The client or an open transaction: what repository methods run on. */
export type Db = Prisma.TransactionClient;

export interface DatabaseOptions {
  /** Prisma-format migration folders; defaults to the package's folder for the provider. */
  readonly migrationsDir?: string;
  readonly busyTimeoutMs?: number;
}

export interface Database {
  /** Typed as the SQLite client: the PostgreSQL client is generated from the same models and has the same API. */
  readonly prisma: PrismaClient;
  readonly kind: DatabaseKind;
  readonly provider: DatabaseProvider;
  /** SQLite: absolute path of the database file. */
  readonly file: string | undefined;
  readonly migrations: MigrationReport;
  /** pgvector is installed in the database: vectors are searched in SQL (src/store/pgvector.ts). */
  readonly vectorExtension: boolean;
  close(): Promise<void>;
}

export function databaseKind(url: string): DatabaseKind {
  if (url.startsWith('file:')) return 'sqlite';
  if (/^postgres(ql)?:\/\//.test(url)) return 'postgres';
  if (url.startsWith('pglite:')) return 'pglite';
  throw new Error(`unsupported database URL "${redactUrl(url)}": expected file:<path>, postgres://… or pglite:<dir>`);
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/^(\w+:\/\/[^:/@]*:)[^@]*@/, '$1***@');
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

/** The folder behind a `pglite:` URL, or undefined for `pglite:memory:`. */
export function pgliteDirectory(url: string): string | undefined {
  const path = url.slice('pglite:'.length);
  if (path === 'memory:') return undefined;
  if (path === '' || path.includes('?')) throw new Error(`unsupported database URL "${url}": expected pglite:<dir> or pglite:memory:`);
  return resolve(path);
}

function migrationsDirFor(provider: DatabaseProvider, options: DatabaseOptions): string {
  if (options.migrationsDir) return options.migrationsDir;
  const root = findPackageRoot();
  return provider === 'sqlite' ? join(root, 'prisma', 'migrations') : join(root, 'prisma', 'postgresql', 'migrations');
}

/** WAL lets readers in other processes go on while one process writes. */
async function migrateSqlite(file: string, migrationsDir: string, busyTimeoutMs: number): Promise<MigrationReport> {
  const connection = new BetterSqlite3(file, { timeout: busyTimeoutMs });
  try {
    connection.pragma('journal_mode = WAL');
    return await applyMigrations(sqliteConnection(connection), migrationsDir, 'sqlite');
  } finally {
    connection.close();
  }
}

async function openSqlite(url: string, options: DatabaseOptions): Promise<Database> {
  const file = sqliteFilePath(url);
  const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  mkdirSync(dirname(file), { recursive: true });
  const migrations = await migrateSqlite(file, migrationsDirFor('sqlite', options), busyTimeoutMs);
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
  return {
    prisma,
    kind: 'sqlite',
    provider: 'sqlite',
    file,
    migrations,
    vectorExtension: false,
    close: () => prisma.$disconnect(),
  };
}

/** Creates the extension where the server offers it; false where it is not installed (then the service searches in memory). */
async function enableVectorExtension(connection: SqlConnection): Promise<boolean> {
  const { rows } = await connection.query<{ name: string }>("SELECT name FROM pg_available_extensions WHERE name = 'vector'");
  if (rows.length === 0) return false;
  await connection.exec('CREATE EXTENSION IF NOT EXISTS vector');
  return true;
}

/** PostgreSQL's "database does not exist". */
const INVALID_CATALOG_NAME = '3D000';

/** Like `prisma migrate deploy`, creates the database named by the URL when the server lacks it. */
async function createDatabaseIfMissing(url: string): Promise<void> {
  const probe = new pg.Client({ connectionString: url });
  try {
    await probe.connect();
    return;
  } catch (error) {
    if ((error as { code?: string }).code !== INVALID_CATALOG_NAME) throw error;
  } finally {
    await probe.end().catch(() => undefined);
  }
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  target.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: target.toString() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`);
  } catch (error) {
    // Another process starting at the same time created it first.
    if ((error as { code?: string }).code !== '42P04') throw error;
  } finally {
    await admin.end();
  }
}

async function openPostgres(url: string, options: DatabaseOptions): Promise<Database> {
  await createDatabaseIfMissing(url);
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  // An idle client losing its server must not crash the process: the next query reports it.
  pool.on('error', () => undefined);
  try {
    const client = await pool.connect();
    try {
      return await migrateAndConnect('postgres', url, options, nodePostgresConnection(client), new PrismaPg(pool), () => pool.end());
    } finally {
      client.release();
    }
  } catch (error) {
    await pool.end();
    throw error;
  }
}

/** A PGlite database as a SqlConnection (`exec` runs scripts of several statements). */
export function pgliteConnection(client: PGlite): SqlConnection {
  return { query: (sql, params) => client.query(sql, params as unknown[]), exec: (sql) => client.exec(sql) };
}

async function openPglite(url: string, options: DatabaseOptions): Promise<Database> {
  const dir = pgliteDirectory(url);
  if (dir) mkdirSync(dir, { recursive: true });
  const client = await PGlite.create(dir, { extensions: { vector } });
  try {
    return await migrateAndConnect('pglite', url, options, pgliteConnection(client), new PrismaPGlite(client), () => client.close());
  } catch (error) {
    await client.close();
    throw error;
  }
}

/** Migrates through `connection`, enables pgvector where offered, and opens the PostgreSQL client on `adapter`. */
async function migrateAndConnect(
  kind: 'postgres' | 'pglite',
  url: string,
  options: DatabaseOptions,
  connection: SqlConnection,
  adapter: PrismaPg | PrismaPGlite,
  closeDriver: () => Promise<void>,
): Promise<Database> {
  const migrations = await applyMigrations(connection, migrationsDirFor('postgresql', options), 'postgresql');
  const vectorExtension = await enableVectorExtension(connection);
  const prisma = new PostgresqlPrismaClient({ adapter }) as unknown as PrismaClient;
  return {
    prisma,
    kind,
    provider: 'postgresql',
    file: undefined,
    migrations,
    vectorExtension,
    close: async () => {
      await prisma.$disconnect();
      await closeDriver();
    },
  };
}

/**
 * Opens (creating if needed) the database at `url`, brings its schema up to date with the
 * provider's migrations, then returns a Prisma client on the matching driver adapter.
 */
export function openDatabase(url: string = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL, options: DatabaseOptions = {}): Promise<Database> {
  const kind = databaseKind(url);
  if (kind === 'sqlite') return openSqlite(url, options);
  if (kind === 'postgres') return openPostgres(url, options);
  return openPglite(url, options);
}
