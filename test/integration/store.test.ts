import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { findPackageRoot } from '../../src/core/config.js';
import { Prisma } from '../../src/generated/prisma/client.js';
import { openDatabase, sqliteFilePath, type Database } from '../../src/store/database.js';
import {
  columnFields,
  columnName,
  DATAMODEL_FILE,
  type DmmfDatamodel,
  type DmmfField,
  foreignKeys,
  primaryKeyColumns,
  readDatamodel,
  secondaryIndexes,
  tableName,
} from '../../src/store/dmmf.js';
import { schemaSql } from '../../src/store/schema-sql.js';

/** Declared SQLite types that Prisma reads back as each scalar type (its introspection rules). */
const COMPATIBLE_TYPES: Readonly<Record<string, readonly string[]>> = {
  String: ['TEXT'],
  Int: ['INTEGER', 'INT'],
  BigInt: ['BIGINT', 'INTEGER'],
  Float: ['REAL', 'FLOAT', 'DOUBLE'],
  Decimal: ['DECIMAL'],
  Boolean: ['BOOLEAN'],
  DateTime: ['DATETIME'],
  Json: ['JSONB'],
  Bytes: ['BLOB'],
};

const SQL_ACTIONS: Readonly<Record<string, string>> = {
  Cascade: 'CASCADE',
  Restrict: 'RESTRICT',
  NoAction: 'NO ACTION',
  SetNull: 'SET NULL',
  SetDefault: 'SET DEFAULT',
};

interface ColumnInfo {
  name: string;
  type: string;
  notnull: number;
  dflt_value: string | null;
  pk: number;
}

interface IndexInfo {
  name: string;
  unique: number;
  origin: string;
  columns: string[];
}

interface ForeignKeyInfo {
  id: number;
  table: string;
  from: string;
  to: string;
  on_update: string;
  on_delete: string;
}

interface TableDescription {
  columns: ColumnInfo[];
  indexes: IndexInfo[];
  foreignKeys: ForeignKeyInfo[];
}

function userTables(db: BetterSqlite3.Database): string[] {
  const rows = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .all() as { name: string }[];
  return rows.map((row) => row.name);
}

function describeTable(db: BetterSqlite3.Database, table: string): TableDescription {
  const quoted = `"${table}"`;
  const indexes = (db.pragma(`index_list(${quoted})`) as Omit<IndexInfo, 'columns'>[]).map((index) => ({
    name: index.name,
    unique: index.unique,
    origin: index.origin,
    columns: (db.pragma(`index_info("${index.name}")`) as { name: string }[]).map((column) => column.name),
  }));
  return {
    columns: db.pragma(`table_info(${quoted})`) as ColumnInfo[],
    indexes: indexes.sort((a, b) => a.name.localeCompare(b.name)),
    foreignKeys: db.pragma(`foreign_key_list(${quoted})`) as ForeignKeyInfo[],
  };
}

function createTableSql(db: BetterSqlite3.Database, table: string): string {
  return (db.prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?").get(table) as { sql: string }).sql;
}

/** What PRAGMA table_info shows as the default of a column the migration must give one. */
function expectedDefault(field: DmmfField): string | null {
  const value = field.default;
  if (value === undefined) return null;
  if (typeof value === 'string') return `'${value.replaceAll("'", "''")}'`;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return value.name === 'now' ? 'CURRENT_TIMESTAMP' : null;
}

function float32Bytes(values: readonly number[]): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  values.forEach((value, i) => view.setFloat32(i * 4, value, true));
  return bytes;
}

function float32Values(bytes: Uint8Array): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: bytes.byteLength / 4 }, (_, i) => view.getFloat32(i * 4, true));
}

/** Written by `npm run prisma:generate` alongside the client (see prisma/dmmf-generator.mjs). */
const datamodel: DmmfDatamodel = readDatamodel(join(findPackageRoot(), DATAMODEL_FILE));
let workDir: string;

beforeAll(() => {
  workDir = mkdtempSync(join(tmpdir(), 'face3d-store-'));
});

afterAll(() => {
  rmSync(workDir, { recursive: true, force: true });
});

describe('the migrated schema and the Prisma schema agree', () => {
  let migrated: BetterSqlite3.Database;

  beforeAll(async () => {
    const database = await openDatabase(`file:${join(workDir, 'schema', 'fresh.db')}`);
    expect(database.migrations.applied.length).toBeGreaterThan(0);
    await database.close();
    migrated = new BetterSqlite3(join(workDir, 'schema', 'fresh.db'), { readonly: true });
  });

  afterAll(() => {
    migrated.close();
  });

  it('reads the same datamodel the client was generated from', () => {
    expect(Object.values(Prisma.ModelName)).toEqual(datamodel.models.map((model) => model.name));
    for (const model of datamodel.models) {
      const clientFields = (Prisma as unknown as Record<string, Record<string, string>>)[`${model.name}ScalarFieldEnum`];
      expect(Object.values(clientFields)).toEqual(columnFields(model).map((field) => field.name));
    }
  });

  it('has one table per model and no others but Prisma’s migration history', () => {
    const modelTables = datamodel.models.map(tableName);
    expect(userTables(migrated)).toEqual([...modelTables, '_prisma_migrations'].sort());
  });

  it.each(datamodel.models.map((model) => [model.name, model] as const))(
    '%s: columns match the fields in type, nullability, key and default',
    (modelName, model) => {
      const table = describeTable(migrated, tableName(model));
      const fields = columnFields(model);
      expect(table.columns.map((column) => column.name).sort()).toEqual(fields.map(columnName).sort());
      const primaryKey = primaryKeyColumns(model);
      for (const field of fields) {
        const column = table.columns.find((candidate) => candidate.name === columnName(field));
        const where = `${modelName}.${field.name}`;
        expect({ where, type: COMPATIBLE_TYPES[field.type]?.includes(column?.type ?? '') }).toEqual({ where, type: true });
        expect({ where, notnull: column?.notnull }).toEqual({ where, notnull: field.isRequired ? 1 : 0 });
        expect({ where, pk: (column?.pk ?? 0) > 0 }).toEqual({ where, pk: primaryKey.includes(columnName(field)) });
        expect({ where, default: column?.dflt_value }).toEqual({ where, default: expectedDefault(field) });
        const autoincrement = typeof field.default === 'object' && field.default.name === 'autoincrement';
        if (autoincrement) expect(createTableSql(migrated, tableName(model))).toMatch(/AUTOINCREMENT/);
      }
    },
  );

  it('has exactly the schema’s unique and plain indexes, by name and columns', () => {
    const expected = secondaryIndexes(datamodel).map((index) => ({
      table: index.table,
      name: index.name,
      unique: index.unique ? 1 : 0,
      columns: index.columns,
    }));
    const actual = datamodel.models.map(tableName).flatMap((table) =>
      describeTable(migrated, table)
        .indexes.filter((index) => index.origin === 'c')
        .map((index) => ({ table, name: index.name, unique: index.unique, columns: index.columns })),
    );
    const byName = (a: { name: string }, b: { name: string }): number => a.name.localeCompare(b.name);
    expect(actual.sort(byName)).toEqual(expected.sort(byName));
  });

  it('has the relations’ foreign keys with their referential actions', () => {
    for (const model of datamodel.models) {
      const expected = foreignKeys(datamodel, model).map((key) => ({
        table: key.referencedTable,
        from: key.columns,
        to: key.referencedColumns,
        onDelete: SQL_ACTIONS[key.onDelete],
        onUpdate: SQL_ACTIONS[key.onUpdate],
      }));
      const rows = describeTable(migrated, tableName(model)).foreignKeys;
      const actual = [...new Set(rows.map((row) => row.id))].map((id) => {
        const parts = rows.filter((row) => row.id === id);
        return {
          table: parts[0].table,
          from: parts.map((row) => row.from),
          to: parts.map((row) => row.to),
          onDelete: parts[0].on_delete,
          onUpdate: parts[0].on_update,
        };
      });
      expect({ model: model.name, keys: actual }).toEqual({ model: model.name, keys: expect.arrayContaining(expected) });
      expect(actual).toHaveLength(expected.length);
    }
  });

  it('equals, table by table, a database built straight from the SQL generated for the schema', () => {
    const generated = new BetterSqlite3(':memory:');
    try {
      generated.exec(schemaSql(datamodel, 'sqlite'));
      const modelTables = datamodel.models.map(tableName);
      for (const table of modelTables) {
        expect({ table, ...describeTable(migrated, table) }).toEqual({ table, ...describeTable(generated, table) });
      }
    } finally {
      generated.close();
    }
  });
});

describe('openDatabase', () => {
  let database: Database;

  beforeAll(async () => {
    database = await openDatabase(`file:${join(workDir, 'nested', 'dirs', 'gallery.db')}`);
  });

  afterAll(async () => {
    await database.close();
  });

  it('creates the folder and the file, in WAL mode with foreign keys enforced', async () => {
    expect(existsSync(join(workDir, 'nested', 'dirs', 'gallery.db'))).toBe(true);
    expect(await database.prisma.$queryRawUnsafe('PRAGMA journal_mode')).toEqual([{ journal_mode: 'wal' }]);
    expect(await database.prisma.$queryRawUnsafe('PRAGMA foreign_keys')).toEqual([{ foreign_keys: 1n }]);
  });

  it('applies nothing when the database is opened again', async () => {
    const again = await openDatabase(`file:${database.file}`);
    try {
      expect(again.migrations.applied).toEqual([]);
      expect(again.migrations.alreadyApplied).toEqual(database.migrations.applied);
    } finally {
      await again.close();
    }
  });

  it('round-trips a subject, photo, face and vector through the client', async () => {
    const { prisma } = database;
    const subject = await prisma.subject.create({
      data: { name: 'Ada', externalId: 'ext-ada', metadata: { team: 'blue', tags: ['a', 'b'] } },
    });
    const photo = await prisma.photo.create({
      data: {
        subjectId: subject.id,
        sha256: 'a'.repeat(64),
        storagePath: `aa/${'a'.repeat(64)}.jpg`,
        mimeType: 'image/jpeg',
        width: 640,
        height: 480,
      },
    });
    const expression = [0.5, -1.25, 3];
    const face = await prisma.face.create({
      data: {
        photoId: photo.id,
        boxX: 10.5,
        boxY: 20,
        boxWidth: 100,
        boxHeight: 120.25,
        score: 0.97,
        yaw: -5,
        pitch: 2.5,
        roll: 0,
        expression: float32Bytes(expression),
      },
    });
    const shape = [0.1, 0.2, -0.3, 4];
    await prisma.faceVector.create({
      data: { faceId: face.id, bundleId: 'bfm-2019', shape: float32Bytes(shape), texture: float32Bytes([1, 2]) },
    });

    const loaded = await prisma.subject.findUniqueOrThrow({
      where: { externalId: 'ext-ada' },
      include: { photos: { include: { face: { include: { vectors: true } } } } },
    });

    expect(loaded.metadata).toEqual({ team: 'blue', tags: ['a', 'b'] });
    expect(loaded.createdAt).toBeInstanceOf(Date);
    expect(loaded.photos).toHaveLength(1);
    expect(loaded.photos[0]).toMatchObject({ status: 'PENDING', width: 640, height: 480, errorCode: null });
    const loadedFace = loaded.photos[0].face;
    expect(loadedFace).toMatchObject({ boxX: 10.5, boxHeight: 120.25, score: 0.97, landmarks: null });
    expect(float32Values(loadedFace?.expression ?? new Uint8Array())).toEqual(expression.map(Math.fround));
    const vector = loadedFace?.vectors[0];
    expect(vector?.bundleId).toBe('bfm-2019');
    expect(float32Values(vector?.shape ?? new Uint8Array())).toEqual(shape.map(Math.fround));
    expect(float32Values(vector?.texture ?? new Uint8Array())).toEqual([1, 2]);
  });

  it('stores one photo per sha256 and subject, but the same photo under another subject', async () => {
    const { prisma } = database;
    const [first, second] = await Promise.all([
      prisma.subject.create({ data: { name: 'First' } }),
      prisma.subject.create({ data: { name: 'Second' } }),
    ]);
    const photo = {
      sha256: 'b'.repeat(64),
      storagePath: `bb/${'b'.repeat(64)}.png`,
      mimeType: 'image/png',
      width: 1,
      height: 1,
    };
    await prisma.photo.create({ data: { ...photo, subjectId: first.id } });

    const duplicate = prisma.photo.create({ data: { ...photo, subjectId: first.id } });

    await expect(duplicate).rejects.toBeInstanceOf(Prisma.PrismaClientKnownRequestError);
    await expect(prisma.photo.create({ data: { ...photo, subjectId: first.id } })).rejects.toMatchObject({ code: 'P2002' });
    await expect(prisma.photo.create({ data: { ...photo, subjectId: second.id } })).resolves.toMatchObject({
      subjectId: second.id,
    });
  });

  it('deletes a subject’s photos, faces, vectors and jobs with it', async () => {
    const { prisma } = database;
    const subject = await prisma.subject.create({
      data: {
        name: 'Doomed',
        photos: {
          create: {
            sha256: 'c'.repeat(64),
            storagePath: 'cc/c.jpg',
            mimeType: 'image/jpeg',
            width: 2,
            height: 2,
            jobs: { create: { kind: 'enroll' } },
            face: {
              create: {
                boxX: 0,
                boxY: 0,
                boxWidth: 1,
                boxHeight: 1,
                score: 1,
                yaw: 0,
                pitch: 0,
                roll: 0,
                expression: float32Bytes([0]),
                vectors: { create: { bundleId: 'b', shape: float32Bytes([1]), texture: float32Bytes([1]) } },
              },
            },
          },
        },
      },
      include: { photos: { include: { face: true } } },
    });
    const photoId = subject.photos[0].id;
    const faceId = subject.photos[0].face?.id ?? '';
    expect(await prisma.faceVector.count({ where: { faceId } })).toBe(1);
    expect(await prisma.job.count({ where: { photoId } })).toBe(1);

    await prisma.subject.delete({ where: { id: subject.id } });

    expect(await prisma.photo.count({ where: { id: photoId } })).toBe(0);
    expect(await prisma.face.count({ where: { id: faceId } })).toBe(0);
    expect(await prisma.faceVector.count({ where: { faceId } })).toBe(0);
    expect(await prisma.job.count({ where: { photoId } })).toBe(0);
  });

  it('keeps the remaining models usable: jobs, API keys and the change feed', async () => {
    const { prisma } = database;
    const leaseUntil = new Date('2030-01-02T03:04:05.678Z');
    const job = await prisma.job.create({ data: { kind: 'reindex', status: 'RUNNING', leaseUntil } });
    const key = await prisma.apiKey.create({ data: { hash: 'h1', salt: 's1', role: 'read', label: 'ci' } });
    const firstChange = await prisma.changeLog.create({ data: { entity: 'Subject', entityId: 'x', op: 'CREATE' } });
    const secondChange = await prisma.changeLog.create({ data: { entity: 'Subject', entityId: 'x', op: 'DELETE' } });

    expect(await prisma.job.findUniqueOrThrow({ where: { id: job.id } })).toMatchObject({
      attempts: 0,
      maxAttempts: 3,
      leaseUntil,
      lastError: null,
    });
    expect(await prisma.apiKey.findUniqueOrThrow({ where: { hash: 'h1' } })).toMatchObject({ id: key.id, revokedAt: null });
    expect(secondChange.id).toBeGreaterThan(firstChange.id);
  });
});

describe('sqliteFilePath', () => {
  it('resolves file: URLs from the working directory and refuses anything else', () => {
    expect(sqliteFilePath('file:./data/face3d.db')).toBe(join(process.cwd(), 'data', 'face3d.db'));
    expect(sqliteFilePath('file:/var/lib/face3d.db')).toBe('/var/lib/face3d.db');
    expect(() => sqliteFilePath('postgresql://localhost/face3d')).toThrow(/expected file:/);
    expect(() => sqliteFilePath('file:./x.db?connection_limit=1')).toThrow(/without parameters/);
  });
});
