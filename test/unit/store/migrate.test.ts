import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import ts from 'typescript';
import { findPackageRoot } from '../../../src/core/config.js';
import { applyMigrations, MigrationError, sqliteConnection, type MigrationReport } from '../../../src/store/migrate.js';

let workDir: string;
let migrationsDir: string;
let dbFile: string;

function writeMigration(name: string, sql: string): void {
  mkdirSync(join(migrationsDir, name), { recursive: true });
  writeFileSync(join(migrationsDir, name, 'migration.sql'), sql);
}

function withDb<T>(use: (db: BetterSqlite3.Database) => T): T {
  const db = new BetterSqlite3(dbFile, { timeout: 10_000 });
  try {
    return use(db);
  } finally {
    db.close();
  }
}

async function migrate(): Promise<MigrationReport> {
  const db = new BetterSqlite3(dbFile, { timeout: 10_000 });
  try {
    return await applyMigrations(sqliteConnection(db), migrationsDir, 'sqlite');
  } finally {
    db.close();
  }
}

function tables(): string[] {
  return withDb((db) =>
    (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map(
      (row) => row.name,
    ),
  );
}

interface HistoryRow {
  id: string;
  checksum: string;
  finished_at: number | null;
  migration_name: string;
  logs: string | null;
  rolled_back_at: number | null;
  started_at: number;
  applied_steps_count: number;
}

function history(): HistoryRow[] {
  return withDb((db) => db.prepare('SELECT * FROM "_prisma_migrations" ORDER BY migration_name').all() as HistoryRow[]);
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

interface MigratingChild {
  /** Resolves once the process has opened the database and waits for `go()`. */
  readonly ready: Promise<void>;
  go(): void;
  readonly report: Promise<MigrationReport>;
}

/** A separate node process running the runner on the test database when told to. */
function startMigratingChild(): MigratingChild {
  const runnerFile = join(workDir, 'migrate.mjs');
  if (!existsSync(runnerFile)) {
    // The runner imports only node builtins, so its transpiled text runs alone.
    const source = readFileSync(join(findPackageRoot(), 'src/store/migrate.ts'), 'utf8');
    const options = { compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 } };
    writeFileSync(runnerFile, ts.transpileModule(source, options).outputText);
  }
  const script = `
import { createRequire } from 'node:module';
import { applyMigrations, sqliteConnection } from ${JSON.stringify(pathToFileURL(runnerFile).href)};
const [packageJson, dbFile, migrationsDir] = process.argv.slice(1);
const Database = createRequire(packageJson)('better-sqlite3');
const db = new Database(dbFile, { timeout: 60000 });
process.stdout.write('ready\\n');
process.stdin.once('data', async () => {
  db.pragma('journal_mode = WAL');
  process.stdout.write(JSON.stringify(await applyMigrations(sqliteConnection(db), migrationsDir, 'sqlite')));
  db.close();
});
`;
  const child = spawn(
    process.execPath,
    ['--input-type=module', '-e', script, join(findPackageRoot(), 'package.json'), dbFile, migrationsDir],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    if (stdout.startsWith('ready\n')) markReady();
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const report = new Promise<MigrationReport>((resolve, reject) => {
    child.on('exit', (code) => {
      if (code === 0) resolve(JSON.parse(stdout.slice('ready\n'.length)) as MigrationReport);
      else reject(new Error(`migrating process exited with ${code}: ${stderr}`));
    });
  });
  return { ready, go: () => child.stdin.end('go\n'), report };
}

const CREATE_A = 'CREATE TABLE "A" ("id" INTEGER NOT NULL PRIMARY KEY);\n';
const CREATE_B = 'CREATE TABLE "B" ("id" INTEGER NOT NULL PRIMARY KEY, "aId" INTEGER REFERENCES "A" ("id"));\n';

beforeEach(() => {
  workDir = mkdtempSync(join(tmpdir(), 'face3d-migrations-'));
  migrationsDir = join(workDir, 'migrations');
  dbFile = join(workDir, 'test.db');
  mkdirSync(migrationsDir);
  writeFileSync(join(migrationsDir, 'migration_lock.toml'), 'provider = "sqlite"\n');
});

afterEach(() => {
  rmSync(workDir, { recursive: true, force: true });
});

describe('applyMigrations', () => {
  it('applies folders in name order and records them in Prisma’s _prisma_migrations layout', async () => {
    writeMigration('20240102000000_b', CREATE_B);
    writeMigration('20240101000000_a', CREATE_A);

    const report = await migrate();

    expect(report).toEqual({ applied: ['20240101000000_a', '20240102000000_b'], alreadyApplied: [] });
    expect(tables()).toEqual(['A', 'B', '_prisma_migrations']);
    const columns = withDb((db) => (db.pragma('table_info("_prisma_migrations")') as { name: string }[]).map((c) => c.name));
    expect(columns).toEqual([
      'id',
      'checksum',
      'finished_at',
      'migration_name',
      'logs',
      'rolled_back_at',
      'started_at',
      'applied_steps_count',
    ]);
    const rows = history();
    expect(rows.map((row) => [row.migration_name, row.checksum, row.applied_steps_count, row.logs])).toEqual([
      ['20240101000000_a', sha256(CREATE_A), 1, null],
      ['20240102000000_b', sha256(CREATE_B), 1, null],
    ]);
    for (const row of rows) {
      expect(row.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(row.finished_at).toBeGreaterThanOrEqual(row.started_at);
      expect(row.rolled_back_at).toBeNull();
    }
  });

  it('is idempotent: a second run applies nothing and records nothing', async () => {
    writeMigration('20240101000000_a', CREATE_A);
    await migrate();
    const before = history();

    const report = await migrate();

    expect(report).toEqual({ applied: [], alreadyApplied: ['20240101000000_a'] });
    expect(history()).toEqual(before);
  });

  it('applies only the migrations added since the last run', async () => {
    writeMigration('20240101000000_a', CREATE_A);
    await migrate();
    writeMigration('20240102000000_b', CREATE_B);

    expect(await migrate()).toEqual({ applied: ['20240102000000_b'], alreadyApplied: ['20240101000000_a'] });
    expect(tables()).toContain('B');
  });

  it('refuses to run when an applied migration was edited, and applies nothing after it', async () => {
    writeMigration('20240101000000_a', CREATE_A);
    await migrate();
    writeMigration('20240101000000_a', `${CREATE_A}-- edited\n`);
    writeMigration('20240102000000_b', CREATE_B);

    await expect(migrate()).rejects.toThrow(MigrationError);
    await expect(migrate()).rejects.toThrow(/20240101000000_a was modified after it was applied/);
    expect(tables()).not.toContain('B');
    expect(history().map((row) => row.migration_name)).toEqual(['20240101000000_a']);
  });

  it('accepts a migration whose only change is CRLF line endings from a checkout', async () => {
    writeMigration('20240101000000_a', CREATE_A);
    await migrate();
    writeMigration('20240101000000_a', CREATE_A.replaceAll('\n', '\r\n'));

    expect((await migrate()).alreadyApplied).toEqual(['20240101000000_a']);
  });

  it('rolls a failing migration back completely and keeps the earlier ones', async () => {
    writeMigration('20240101000000_a', CREATE_A);
    writeMigration('20240102000000_broken', 'CREATE TABLE "C" ("id" INTEGER);\nINSERT INTO "Missing" VALUES (1);\n');

    let error: unknown;
    try {
      await migrate();
    } catch (caught) {
      error = caught;
    }

    expect(error).toBeInstanceOf(MigrationError);
    expect((error as MigrationError).migrationName).toBe('20240102000000_broken');
    expect((error as Error).message).toMatch(/no such table: Missing/);
    expect(tables()).toEqual(['A', '_prisma_migrations']);
    expect(history().map((row) => row.migration_name)).toEqual(['20240101000000_a']);

    writeMigration('20240102000000_broken', 'CREATE TABLE "C" ("id" INTEGER);\n');
    expect((await migrate()).applied).toEqual(['20240102000000_broken']);
  });

  it('rejects a migration that leaves rows violating a foreign key', async () => {
    writeMigration('20240101000000_a', `${CREATE_A}${CREATE_B}`);
    writeMigration('20240102000000_orphan', 'INSERT INTO "B" ("id", "aId") VALUES (1, 42);\n');

    await expect(migrate()).rejects.toThrow(/20240102000000_orphan leaves 1 rows violating foreign keys/);
    expect(withDb((db) => db.prepare('SELECT COUNT(*) AS n FROM "B"').get())).toEqual({ n: 0 });
  });

  it('refuses a history row that Prisma left unfinished', async () => {
    writeMigration('20240101000000_a', CREATE_A);
    await migrate();
    withDb((db) => db.prepare('UPDATE "_prisma_migrations" SET finished_at = NULL').run());

    await expect(migrate()).rejects.toThrow(/20240101000000_a was started but never finished/);
  });

  it('ignores a migration that was rolled back and applies it again', async () => {
    writeMigration('20240101000000_a', CREATE_A);
    await migrate();
    withDb((db) => {
      db.exec('DROP TABLE "A"');
      db.prepare('UPDATE "_prisma_migrations" SET rolled_back_at = ?').run(Date.now());
    });

    expect((await migrate()).applied).toEqual(['20240101000000_a']);
    expect(tables()).toContain('A');
  });

  it('refuses migrations locked to another provider', async () => {
    writeFileSync(join(migrationsDir, 'migration_lock.toml'), 'provider = "postgresql"\n');
    writeMigration('20240101000000_a', CREATE_A);

    await expect(migrate()).rejects.toThrow(/provider "postgresql", not "sqlite"/);
  });

  it('reads the history only once it holds the write lock, so it never redoes another process’s migration', async () => {
    writeMigration('20240101000000_a', CREATE_A);
    await migrate();
    writeMigration('20240102000000_b', CREATE_B);
    const other = new BetterSqlite3(dbFile);
    other.pragma('journal_mode = WAL');
    // Another process has applied the new migration but not yet committed.
    other.prepare('BEGIN IMMEDIATE').run();
    other.exec(CREATE_B);
    other
      .prepare('INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, finished_at, applied_steps_count) VALUES (?, ?, ?, ?, ?, 1)')
      .run('other-process', sha256(CREATE_B), '20240102000000_b', Date.now(), Date.now());
    const child = startMigratingChild();
    await child.ready;
    child.go();
    // Give the child time to reach its transaction; it must wait for the commit, not read past it.
    await new Promise((resolve) => setTimeout(resolve, 300));
    other.prepare('COMMIT').run();
    other.close();

    const report = await child.report;

    expect(report).toEqual({ applied: [], alreadyApplied: ['20240101000000_a', '20240102000000_b'] });
    expect(history().map((row) => row.migration_name)).toEqual(['20240101000000_a', '20240102000000_b']);
  });

  it('applies each migration exactly once when several processes start together', async () => {
    // A migration slow enough that the processes, released at one instant, overlap while it runs.
    writeMigration(
      '20240101000000_slow',
      `${CREATE_A}INSERT INTO "A" ("id") WITH RECURSIVE n(i) AS ` +
        '(SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200000) SELECT i FROM n;\n',
    );
    writeMigration('20240102000000_b', CREATE_B);
    const children = [1, 2, 3].map(() => startMigratingChild());
    await Promise.all(children.map((child) => child.ready));
    for (const child of children) child.go();

    const reports = await Promise.all(children.map((child) => child.report));

    expect(reports.flatMap((report) => report.applied).sort()).toEqual(['20240101000000_slow', '20240102000000_b']);
    expect(history().map((row) => row.migration_name)).toEqual(['20240101000000_slow', '20240102000000_b']);
    expect(withDb((db) => db.prepare('SELECT COUNT(*) AS n FROM "A"').get())).toEqual({ n: 200000 });
  });
});
