/**
 * The PostgreSQL provider: its Prisma schema is derived from prisma/schema.prisma, its
 * migrations build exactly the schema the datamodel describes, and our runner applies them the
 * way `prisma migrate deploy` would. Runs on PGlite (PostgreSQL in WebAssembly) always, and on
 * the real server of FACE3D_TEST_POSTGRES_URL when .ci/run provides one.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { findPackageRoot } from '../../src/core/config.js';
import { columnFields, DATAMODEL_FILE, readDatamodel, tableName } from '../../src/store/dmmf.js';
import { databaseKind, openDatabase, pgliteConnection, redactUrl } from '../../src/store/database.js';
import { applyMigrations, MigrationError, migrationChecksum, nodePostgresConnection, type SqlConnection } from '../../src/store/migrate.js';
import { schemaSql } from '../../src/store/schema-sql.js';
import { testDatabaseUrl } from '../helpers/database-backends.js';

const root = findPackageRoot();
const datamodel = readDatamodel(join(root, DATAMODEL_FILE));
const MIGRATIONS = join(root, 'prisma', 'postgresql', 'migrations');
let workDir: string;

beforeAll(() => {
  workDir = mkdtempSync(join(tmpdir(), 'face3d-pg-store-'));
});

afterAll(() => {
  rmSync(workDir, { recursive: true, force: true });
});

/** Tables, columns (type, nullability, default), indexes and foreign keys, as the catalog tells. */
async function describeSchema(db: SqlConnection): Promise<unknown> {
  const columns = await db.query(
    `SELECT table_name, column_name, data_type, is_nullable, column_default FROM information_schema.columns
     WHERE table_schema = 'public' AND table_name <> '_prisma_migrations' ORDER BY table_name, ordinal_position`,
  );
  const indexes = await db.query(`SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename <> '_prisma_migrations' ORDER BY indexname`);
  const constraints = await db.query(
    `SELECT conrelid::regclass::text AS table_name, conname, pg_get_constraintdef(oid) AS definition FROM pg_constraint
     WHERE connamespace = 'public'::regnamespace AND conrelid::regclass::text NOT IN ('_prisma_migrations', '"_prisma_migrations"') ORDER BY conname`,
  );
  return { columns: columns.rows, indexes: indexes.rows, constraints: constraints.rows };
}

describe('the PostgreSQL Prisma schema', () => {
  it('is the derivation of prisma/schema.prisma (no hand-kept twin)', async () => {
    await expect(promisify(execFile)(process.execPath, [join(root, 'prisma', 'derive-postgresql-schema.mjs'), '--check'])).resolves.toBeDefined();
    const derived = readFileSync(join(root, 'prisma', 'postgresql', 'schema.prisma'), 'utf8');
    expect(derived).toMatch(/provider = "postgresql"/);
    const modelsOf = (text: string) => text.slice(text.indexOf('\nmodel '));
    expect(modelsOf(derived)).toBe(modelsOf(readFileSync(join(root, 'prisma', 'schema.prisma'), 'utf8')));
  });

  it('has a migrations folder locked to postgresql, as the SQLite one is to sqlite', () => {
    expect(readFileSync(join(MIGRATIONS, 'migration_lock.toml'), 'utf8')).toMatch(/provider = "postgresql"/);
    expect(readFileSync(join(root, 'prisma', 'migrations', 'migration_lock.toml'), 'utf8')).toMatch(/provider = "sqlite"/);
  });
});

describe('PostgreSQL migrations on PGlite', () => {
  let migrated: PGlite;
  let generated: PGlite;

  beforeAll(async () => {
    migrated = await PGlite.create();
    generated = await PGlite.create();
    await applyMigrations(pgliteConnection(migrated), MIGRATIONS, 'postgresql');
    await generated.exec(schemaSql(datamodel, 'postgresql'));
  });

  afterAll(async () => {
    await migrated.close();
    await generated.close();
  });

  it('build exactly the schema generated from the datamodel: columns, indexes, keys', async () => {
    expect(await describeSchema(pgliteConnection(migrated))).toEqual(await describeSchema(pgliteConnection(generated)));
  });

  it('give every model its table and every scalar field its column', async () => {
    const { rows } = await migrated.query<{ table_name: string; column_name: string }>(
      `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> '_prisma_migrations'`,
    );
    for (const model of datamodel.models) {
      const columns = rows.filter((row) => row.table_name === tableName(model)).map((row) => row.column_name);
      expect(columns.sort()).toEqual(columnFields(model).map((field) => field.dbName ?? field.name).sort());
    }
  });

  it('record the history in Prisma’s layout, and apply nothing twice', async () => {
    const { rows } = await migrated.query<{ migration_name: string; checksum: string; finished_at: Date | null }>('SELECT migration_name, checksum, finished_at FROM "_prisma_migrations" ORDER BY migration_name');
    expect(rows.length).toBeGreaterThan(1);
    for (const row of rows) {
      expect(row.checksum).toBe(migrationChecksum(readFileSync(join(MIGRATIONS, row.migration_name, 'migration.sql'), 'utf8')));
      expect(row.finished_at).not.toBeNull();
    }
    const again = await applyMigrations(pgliteConnection(migrated), MIGRATIONS, 'postgresql');
    expect(again.applied).toEqual([]);
    expect(again.alreadyApplied).toEqual(rows.map((row) => row.migration_name));
  });

  it('roll a failing migration back whole and refuse an edited one', async () => {
    const dir = join(workDir, 'failing');
    const write = (name: string, sql: string) => {
      mkdirSync(join(dir, name), { recursive: true });
      writeFileSync(join(dir, name, 'migration.sql'), sql);
    };
    write('1_a', 'CREATE TABLE "A" ("id" INTEGER PRIMARY KEY);');
    write('2_b', 'CREATE TABLE "B" ("id" INTEGER PRIMARY KEY); SELECT no_such_function();');
    const db = await PGlite.create();
    try {
      await expect(applyMigrations(pgliteConnection(db), dir, 'postgresql')).rejects.toThrow(MigrationError);
      const tables = await db.query<{ table_name: string }>(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`);
      expect(tables.rows.map((row) => row.table_name)).toEqual(['A', '_prisma_migrations']);
      write('1_a', 'CREATE TABLE "A" ("id" BIGINT PRIMARY KEY);');
      await expect(applyMigrations(pgliteConnection(db), dir, 'postgresql')).rejects.toThrow(/modified after it was applied/);
    } finally {
      await db.close();
    }
  });
});

describe('openDatabase with PostgreSQL URLs', () => {
  it('tells the kind from the scheme and never prints a password', () => {
    expect(databaseKind('file:./a.db')).toBe('sqlite');
    expect(databaseKind('postgres://u:p@h/db')).toBe('postgres');
    expect(databaseKind('postgresql://h/db')).toBe('postgres');
    expect(databaseKind('pglite:./data/pg')).toBe('pglite');
    expect(() => databaseKind('mysql://u:secret@h/db')).toThrow(/unsupported/);
    expect(redactUrl('postgres://face3d:secret@db:5432/face3d')).toBe('postgres://face3d:***@db:5432/face3d');
  });

  it('opens PGlite with pgvector, migrated, and round-trips rows through the PostgreSQL client', async () => {
    const database = await openDatabase(`pglite:${join(workDir, 'pglite')}`);
    try {
      expect(database).toMatchObject({ kind: 'pglite', provider: 'postgresql', vectorExtension: true });
      const subject = await database.prisma.subject.create({ data: { name: 'Ada', metadata: { team: 'x' } } });
      const photo = await database.prisma.photo.create({
        data: { subjectId: subject.id, sha256: 'a'.repeat(64), storagePath: 'aa/x.jpg', mimeType: 'image/jpeg', width: 2, height: 3, faceBox: { x: 1 } },
      });
      const face = await database.prisma.face.create({
        data: { photoId: photo.id, boxX: 0, boxY: 0, boxWidth: 1, boxHeight: 1, score: 0.9, yaw: 0, pitch: 0, roll: 0, expression: new Uint8Array([1, 2, 3, 4]) },
      });
      const read = await database.prisma.face.findUniqueOrThrow({ where: { id: face.id }, include: { photo: { include: { subject: true } } } });
      expect(Array.from(read.expression)).toEqual([1, 2, 3, 4]);
      expect(read.photo.subject.metadata).toEqual({ team: 'x' });
      await database.prisma.subject.delete({ where: { id: subject.id } });
      expect(await database.prisma.face.count()).toBe(0);
    } finally {
      await database.close();
    }
  });

  const server = process.env.FACE3D_TEST_POSTGRES_URL;
  (server ? it : it.skip)('creates, migrates and opens a database on a real PostgreSQL server (FACE3D_TEST_POSTGRES_URL)', async () => {
    const url = testDatabaseUrl(join(workDir, 'server'), 'postgres');
    const database = await openDatabase(url);
    try {
      expect(database).toMatchObject({ kind: 'postgres', provider: 'postgresql' });
      expect(database.migrations.applied.length).toBeGreaterThan(1);
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const connection = nodePostgresConnection(client);
        const generatedDb = await PGlite.create();
        await generatedDb.exec(schemaSql(datamodel, 'postgresql'));
        expect(await describeSchema(connection)).toEqual(await describeSchema(pgliteConnection(generatedDb)));
        await generatedDb.close();
      } finally {
        await client.end();
      }
    } finally {
      await database.close();
    }
    const again = await openDatabase(url);
    expect(again.migrations.applied).toEqual([]);
    await again.close();
  });
  if (!server) it('(a real PostgreSQL server was not given: set FACE3D_TEST_POSTGRES_URL, as .ci/run does, to run the server case)', () => undefined);
});
