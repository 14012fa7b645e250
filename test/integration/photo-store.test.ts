/**
 * A gallery never loses a photo to another gallery, to a second server, to a damaged file or to a
 * locked database: each case through the real server (real database, real photo folder, HTTP).
 * Runs on every test database (FACE3D_TEST_DATABASE) where the case applies: two databases in one
 * folder need database files (SQLite, PGlite), a locked file is SQLite's, and PGlite has one process.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, readFile, rm, truncate, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient, dataOf, type GraphQLResponse } from '../../src/api/http-client.js';
import { findPackageRoot, type Env } from '../../src/core/config.js';
import { renderStorageFaultTable } from '../helpers/storage-fault-table.js';
import { BlobStore, sha256Hex, storagePathFor } from '../../src/store/blob-store.js';
import { defaultPhotosDir, legacyPhotosDir, MARKER_FILE } from '../../src/store/photo-folder.js';
import { FaceEncoder } from '../../src/inference/face-encoder.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { ADMIN_KEY, testConfig } from '../helpers/api-server.js';
import { assertCliBuilt, renderedPeopleFolder, runCli } from '../helpers/cli.js';
import { testBackend, testDatabaseUrl } from '../helpers/database-backends.js';
import { solid } from '../helpers/images.js';

const backend = testBackend();
/** Two databases side by side in one folder: only where a database is a file or folder. */
const itWithDatabaseFiles = backend === 'postgres' ? it.skip : it;
/** A second process on the same database: PGlite's folder is one process's. */
const itWithSecondProcess = backend === 'pglite' ? it.skip : it;
const itOnSqlite = backend === 'sqlite' ? it : it.skip;

const CREATE_SUBJECT = 'mutation($name: String!) { createSubject(input: { name: $name }) { id } }';
const ENROLL = 'mutation($s: ID!, $p: [Upload!]!) { enrollPhotos(subjectId: $s, photos: $p) { photos { id url } } }';
const PHOTO = 'query($id: ID!) { photo(id: $id) { status error { code message } } }';

interface Enrolled {
  readonly id: string;
  readonly url: string;
  readonly bytes: Buffer;
}

let root: string;
let encoder: FaceEncoder;
const logs: string[] = [];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'face3d-photo-store-'));
  encoder = await FaceEncoder.open();
});

afterAll(async () => {
  await encoder?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

/** A server on `databaseUrl`; `dataDir` undefined: the default photo folder. */
function start(databaseUrl: string, dataDir: string | undefined, env: Env = {}): Promise<RunningServer> {
  return startServer({ config: testConfig(root, { DATABASE_URL: databaseUrl, FACE3D_DATA_DIR: dataDir ?? '', ...env }), encoder, log: (line) => logs.push(line) });
}

async function withServer<T>(databaseUrl: string, dataDir: string | undefined, work: (client: ApiClient, server: RunningServer) => Promise<T>, env: Env = {}): Promise<T> {
  const server = await start(databaseUrl, dataDir, env);
  try {
    return await work(new ApiClient(server.url, ADMIN_KEY), server);
  } finally {
    await server.close();
  }
}

/** A small image no other test's looks like (its colour from `seed`). */
function photoBytes(seed: number): Promise<Buffer> {
  return solid(64, 48, [seed % 256, (seed * 7) % 256, (seed * 13) % 256]).png().toBuffer();
}

async function enroll(client: ApiClient, bytes: Buffer, name = 'Someone'): Promise<Enrolled> {
  const subject = dataOf(await client.query<{ createSubject: { id: string } }>(CREATE_SUBJECT, { name })).createSubject;
  const upload = await client.upload<{ enrollPhotos: { photos: { id: string; url: string }[] } }>(ENROLL, { s: subject.id, p: [null] }, { 'variables.p.0': { bytes, name: 'photo.png', type: 'image/png' } });
  const [photo] = dataOf(upload).enrollPhotos.photos;
  return { ...photo, bytes };
}

/** The photo's original through the server: its bytes, or the typed error and status. */
async function download(client: ApiClient, photo: Enrolled): Promise<{ status: number; bytes?: Buffer; code?: string; message?: string }> {
  const response = await client.download(photo.url.replace(/^http:\/\/[^/]+/, client.url));
  if (response.ok) return { status: response.status, bytes: Buffer.from(await response.arrayBuffer()) };
  const body = (await response.json()) as GraphQLResponse;
  return { status: response.status, code: body.errors?.[0].extensions?.code, message: body.errors?.[0].message };
}

async function expectIntact(client: ApiClient, photo: Enrolled): Promise<void> {
  const got = await download(client, photo);
  expect(got.status).toBe(200);
  expect(got.bytes!.equals(photo.bytes)).toBe(true);
}

/** A database URL of the test backend for gallery `name` inside `dir`: side by side in one folder where the backend has files. */
function databaseBeside(dir: string, name: string): string {
  if (backend === 'sqlite') return `file:${join(dir, `${name}.db`)}`;
  if (backend === 'pglite') return `pglite:${join(dir, name)}`;
  return testDatabaseUrl(join(dir, name));
}

describe('two galleries, one folder', () => {
  itWithDatabaseFiles('keep their photos apart by default: B starting beside A deletes nothing of A’s', async () => {
    const dir = join(root, 'side-by-side');
    const [a, b] = [databaseBeside(dir, 'a'), databaseBeside(dir, 'b')];
    const photoA = await withServer(a, undefined, async (client) => enroll(client, await photoBytes(1)));
    const photoB = await withServer(b, undefined, async (client) => enroll(client, await photoBytes(2)));
    await withServer(a, undefined, (client) => expectIntact(client, photoA));
    await withServer(b, undefined, (client) => expectIntact(client, photoB));
    expect(defaultPhotosDir(a)).not.toBe(defaultPhotosDir(b));
    expect(existsSync(join(defaultPhotosDir(a), MARKER_FILE))).toBe(true);
  });

  itWithDatabaseFiles('the case of issue 12: a gallery whose photos are in the old shared `photos` folder keeps finding them', async () => {
    const dir = join(root, 'before-markers');
    const [a, b] = [databaseBeside(dir, 'a'), databaseBeside(dir, 'b')];
    const legacy = legacyPhotosDir(a);
    // What a face3d of before this change left: A's photos in <dir>/photos, no marker.
    const photoA = await withServer(a, legacy, async (client) => enroll(client, await photoBytes(3)));
    await rm(join(legacy, MARKER_FILE));

    // B, a new empty gallery beside it, starts, enrolls and stops: it has a folder of its own.
    const photoB = await withServer(b, undefined, async (client) => enroll(client, await photoBytes(4)));
    expect(existsSync(join(legacy, fileOf(photoA)))).toBe(true);

    await withServer(a, undefined, async (client, server) => {
      expect(server.photoFiles).toEqual({ folder: legacy, missing: [] });
      await expectIntact(client, photoA);
    });
    expect(JSON.parse(await readFile(join(legacy, MARKER_FILE), 'utf8'))).toMatchObject({ format: 'face3d-photo-folder' });
    await withServer(b, undefined, (client) => expectIntact(client, photoB));
  });

  it('refuse a folder another gallery marked, with PHOTO_FOLDER_CONFLICT, and the owner’s photos stay', async () => {
    const dir = join(root, 'named-folder');
    const shared = join(dir, 'photos');
    const [owner, intruder] = [databaseBeside(dir, 'owner'), databaseBeside(dir, 'intruder')];
    const photo = await withServer(owner, shared, async (client) => enroll(client, await photoBytes(5)));
    await expect(start(intruder, shared)).rejects.toMatchObject({ code: 'PHOTO_FOLDER_CONFLICT', message: expect.stringContaining(shared) });
    await withServer(owner, shared, (client) => expectIntact(client, photo));
  });
});

describe('a second server on the same database', () => {
  itWithSecondProcess('shares the gallery and its folder, and its start-up sweep spares a photo another server is still storing', async () => {
    const dir = join(root, 'two-servers');
    const url = databaseBeside(dir, 'gallery');
    const folder = backend === 'postgres' ? join(dir, 'photos') : undefined;
    const first = await start(url, folder);
    try {
      const one = new ApiClient(first.url, ADMIN_KEY);
      const photo1 = await enroll(one, await photoBytes(6));
      // An upload of the first server between storing its bytes and recording its photo:
      const inFlight = await new BlobStore(folder ?? defaultPhotosDir(url)).put(await photoBytes(7));
      await withServer(url, folder, async (two) => {
        expect(existsSync(join(folder ?? defaultPhotosDir(url), inFlight.storagePath))).toBe(true);
        await expectIntact(two, photo1);
        const photo2 = await enroll(two, await photoBytes(8));
        await expectIntact(one, photo2);
      });
      await expectIntact(one, photo1);
    } finally {
      await first.close();
    }
  });
});

describe('photo files damaged or lost on disk', () => {
  it('are found by face3d check and the start-up check; downloads give PHOTO_CORRUPT or PHOTO_MISSING (410), no bytes, no path', async () => {
    assertCliBuilt();
    const dir = join(root, 'damaged');
    const url = databaseBeside(dir, 'gallery');
    const photos = join(dir, 'photos');
    const faces = await renderedPeopleFolder(join(dir, 'faces'), 1, 2);
    const [name, files] = [...faces.people][0];
    const face = async (i: number) => readFile(join(dir, 'faces', name, files[i]));
    const [damaged, lost] = await withServer(url, photos, async (client) => {
      const enrolled = [await enroll(client, await face(0)), await enroll(client, await face(1))];
      for (;;) {
        const statuses = await Promise.all(enrolled.map(async (photo) => dataOf(await client.query<{ photo: { status: string } }>(PHOTO, { id: photo.id })).photo.status));
        if (statuses.every((status) => status === 'READY')) return enrolled;
        if (statuses.includes('FAILED')) throw new Error(`enrollment failed: ${statuses}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    });
    await truncate(join(photos, fileOf(damaged)), 100);
    await rm(join(photos, fileOf(lost)));

    const env = { DATABASE_URL: url, FACE3D_DATA_DIR: photos };
    const checked = await runCli(['check', '--json'], env);
    expect(checked.code).toBe(1);
    const report = JSON.parse(checked.stdout) as { photos: { missing: string[]; corrupt: string[] }; problems: string[]; database: { integrity: { result: string } } };
    expect(report.photos).toMatchObject({ missing: [lost.id], corrupt: [damaged.id] });
    expect(report.database.integrity.result).toBe('ok');
    const human = await runCli(['check'], env);
    expect(human.stdout).toContain(`PROBLEM: 1 photo(s) have no file`);
    expect(human.stdout).toContain(lost.id);

    // What an upload a crash interrupted two hours ago left behind, which --repair removes:
    const leftover = join(photos, 'incoming', 'interrupted-upload');
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    await mkdir(join(photos, 'incoming'), { recursive: true });
    await writeFile(leftover, 'half a photo');
    await utimes(leftover, twoHoursAgo, twoHoursAgo);
    const repaired = await runCli(['check', '--repair', '--json'], env);
    expect(repaired.code).toBe(1);
    expect(JSON.parse(repaired.stdout)).toMatchObject({ repaired: { marked: 2, cleared: 0 } });
    expect(existsSync(leftover)).toBe(false);

    await withServer(url, photos, async (client, server) => {
      expect(server.photoFiles.missing).toEqual([lost.id]);
      expect(logs.some((line) => line.includes(`1 READY photo(s) have no file`) && line.includes(lost.id))).toBe(true);
      const corrupt = await download(client, damaged);
      expect(corrupt).toMatchObject({ status: 410, code: 'PHOTO_CORRUPT' });
      const missing = await download(client, lost);
      expect(missing).toMatchObject({ status: 410, code: 'PHOTO_MISSING' });
      for (const answer of [corrupt, missing]) expect(answer.message).not.toContain(dir);
      const state = dataOf(await client.query<{ photo: { status: string; error: { code: string } } }>(PHOTO, { id: lost.id })).photo;
      expect(state).toMatchObject({ status: 'READY', error: { code: 'PHOTO_MISSING' } });
    });

    // The lost file put back from a backup: its mark goes; the damaged one stays reported.
    await writeFile(join(photos, fileOf(lost)), lost.bytes);
    const restored = await runCli(['check', '--repair', '--json'], env);
    expect(JSON.parse(restored.stdout)).toMatchObject({ photos: { missing: [], corrupt: [damaged.id] }, repaired: { cleared: 1 } });
  });
});

describe('docs/bad-input.md', () => {
  it('shows exactly the table of storage faults these tests and storage-faults.test.ts make happen', () => {
    const doc = readFileSync(join(findPackageRoot(), 'docs/bad-input.md'), 'utf8');
    expect(/<!-- storage-table:start -->\n([\s\S]*?)\n<!-- storage-table:end -->/.exec(doc)?.[1]).toBe(renderStorageFaultTable());
  });
});

describe('a database locked by another process past the busy timeout', () => {
  let holder: ChildProcess | undefined;

  afterAll(() => {
    holder?.kill('SIGKILL');
  });

  itOnSqlite('answers writes DATABASE_BUSY (503, Retry-After) and reads as usual, then works once the lock is gone', async () => {
    const dir = join(root, 'locked');
    const url = databaseBeside(dir, 'gallery');
    await withServer(
      url,
      undefined,
      async (client) => {
        const photo = await enroll(client, await photoBytes(9));
        holder = spawn(process.execPath, ['-e', LOCK_HOLDER, url.slice('file:'.length)], { cwd: process.cwd(), stdio: ['pipe', 'pipe', 'inherit'] });
        await new Promise((resolve) => holder!.stdout!.once('data', resolve));

        const response = await fetch(`${client.url}/graphql`, {
          method: 'POST',
          headers: client.headers({ 'content-type': 'application/json' }),
          body: JSON.stringify({ query: CREATE_SUBJECT, variables: { name: 'While locked' } }),
        });
        const body = (await response.json()) as GraphQLResponse;
        expect([response.status, response.headers.get('retry-after'), body.errors?.[0].extensions?.code]).toEqual([503, '5', 'DATABASE_BUSY']);
        expect(dataOf(await client.query<{ subjects: { totalCount: number } }>('{ subjects { totalCount } }')).subjects.totalCount).toBe(1);
        await expectIntact(client, photo);

        holder.stdin!.end();
        await new Promise((resolve) => holder!.once('exit', resolve));
        dataOf(await client.query(CREATE_SUBJECT, { name: 'After the lock' }));
        expect(dataOf(await client.query<{ subjects: { totalCount: number } }>('{ subjects { totalCount } }')).subjects.totalCount).toBe(2);
      },
      { FACE3D_BUSY_TIMEOUT_MS: '300', FACE3D_WORKERS: '0' },
    );
  });
});

/** Holds the SQLite file's write lock (argv[1]) until its stdin closes; says "locked" once it has it. */
const LOCK_HOLDER = `
const Database = require('better-sqlite3');
const db = new Database(process.argv[1]);
db.exec('BEGIN IMMEDIATE');
process.stdout.write('locked\\n');
process.stdin.resume();
process.stdin.on('end', () => { db.exec('COMMIT'); db.close(); process.exit(0); });
`;

/** Where the photo's bytes are stored, relative to its folder. */
function fileOf(photo: Enrolled): string {
  return storagePathFor(sha256Hex(photo.bytes));
}
