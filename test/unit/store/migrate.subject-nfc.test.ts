/**
 * The migration that puts existing subjects' names and externalIds in Unicode NFC, on SQLite (its
 * nfc() registered by the runner) and PostgreSQL (PGlite): rows written before it in NFD become
 * NFC, and an externalId whose NFC form another subject holds keeps its stored form.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import BetterSqlite3 from 'better-sqlite3';
import { findPackageRoot } from '../../../src/core/config.js';
import { pgliteConnection } from '../../../src/store/database.js';
import { applyMigrations, sqliteConnection, type MigrationProvider, type SqlConnection } from '../../../src/store/migrate.js';

const MIGRATION = '20261206150000_subject_text_nfc';
const SOURCES: Readonly<Record<MigrationProvider, string>> = {
  sqlite: join(findPackageRoot(), 'prisma', 'migrations'),
  postgresql: join(findPackageRoot(), 'prisma', 'postgresql', 'migrations'),
};

/** Written before the migration: NFD, an NFD twin of an NFC externalId, and two forms of one NFC. */
const ROWS = [
  { id: 'a', name: 'Zoe\u0308', externalId: 'Jose\u0301' },
  { id: 'b', name: 'Rene\u0301 (NFD)', externalId: 'Rene\u0301' },
  { id: 'c', name: 'Ren\u00e9 (NFC)', externalId: 'Ren\u00e9' },
  { id: 'd', name: 'A ring', externalId: 'A\u030angstr\u00f6m' },
  { id: 'e', name: 'Angstrom sign', externalId: '\u212Bngstr\u00f6m' },
  { id: 'f', name: 'none', externalId: null },
];

const EXPECTED = {
  a: { name: 'Zo\u00eb', externalId: 'Jos\u00e9' },
  b: { name: 'Ren\u00e9 (NFD)', externalId: 'Rene\u0301' },
  c: { name: 'Ren\u00e9 (NFC)', externalId: 'Ren\u00e9' },
  d: { name: 'A ring', externalId: '\u00c5ngstr\u00f6m' },
  e: { name: 'Angstrom sign', externalId: '\u212Bngstr\u00f6m' },
  f: { name: 'none', externalId: null },
};

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'face3d-nfc-migration-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** The provider's migrations up to this one (`withIt`: it included), in a folder of their own. */
function migrationsUpTo(provider: MigrationProvider, withIt: boolean): string {
  const target = join(dir, `${provider}-${withIt ? 'with' : 'before'}`);
  for (const name of readdirSync(SOURCES[provider])) {
    if (name < MIGRATION || (withIt && name === MIGRATION) || name === 'migration_lock.toml') cpSync(join(SOURCES[provider], name), join(target, name), { recursive: true });
  }
  return target;
}

async function checkMigration(connection: SqlConnection, provider: MigrationProvider): Promise<void> {
  await applyMigrations(connection, migrationsUpTo(provider, false), provider);
  const values = provider === 'sqlite' ? '?, ?, ?, CURRENT_TIMESTAMP' : '$1, $2, $3, now()';
  for (const row of ROWS) await connection.query(`INSERT INTO "Subject" ("id", "name", "externalId", "updatedAt") VALUES (${values})`, [row.id, row.name, row.externalId]);
  const report = await applyMigrations(connection, migrationsUpTo(provider, true), provider);
  expect(report.applied).toEqual([MIGRATION]);
  const { rows } = await connection.query<{ id: string; name: string; externalId: string | null }>('SELECT "id", "name", "externalId" FROM "Subject" ORDER BY "id"');
  expect(Object.fromEntries(rows.map(({ id, name, externalId }) => [id, { name, externalId }]))).toEqual(EXPECTED);
}

describe(`migration ${MIGRATION}`, () => {
  it('normalises names and externalIds on SQLite, leaving an externalId whose NFC form is taken', async () => {
    const db = new BetterSqlite3(join(dir, 'gallery.db'));
    try {
      await checkMigration(sqliteConnection(db), 'sqlite');
    } finally {
      db.close();
    }
  });

  it('does the same on PostgreSQL (PGlite)', async () => {
    const client = await PGlite.create();
    try {
      await checkMigration(pgliteConnection(client), 'postgresql');
    } finally {
      await client.close();
    }
  });
});
