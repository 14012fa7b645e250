/**
 * `face3d serve` (the built CLI) as a child process, killed with SIGKILL while enrollment jobs run:
 * after a restart every accepted photo ends READY with exactly one face, nothing lost or doubled.
 * Also `face3d keys create`, run against the same database while the server is up. Runs on every
 * test database (FACE3D_TEST_DATABASE).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ApiClient, dataOf, errorCodes } from '../../src/api/http-client.js';
import { CHILD_ADMIN_KEY, CLI_PATH, exited, freePort, startChildServer, type ChildServer } from '../../bench/child-server.js';
import { openDatabase } from '../../src/store/database.js';
import type { PrismaClient } from '../../src/generated/prisma/client.js';
import { testBackend, testDatabaseUrl } from '../helpers/database-backends.js';
import { LFW_DEV, lfwPeople } from '../helpers/lfw.js';

const PHOTOS = 6;
const person = lfwPeople(PHOTOS)?.[0];
const describeWithLfw = person ? describe : describe.skip;
if (!person) console.warn(`api-recovery.test.ts: skipped, the LFW photos are not in ${LFW_DEV}`);

describeWithLfw('face3d serve killed mid-enrollment', () => {
  /** Only while no server runs on the database (PGlite allows one process). */
  async function withDatabase<T>(read: (db: PrismaClient) => Promise<T>): Promise<T> {
    const database = await openDatabase(env.DATABASE_URL);
    try {
      return await read(database.prisma);
    } finally {
      await database.close();
    }
  }

  let dir: string;
  let env: NodeJS.ProcessEnv;
  let served: ChildServer | undefined;
  let client: ApiClient;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'face3d-recovery-'));
    const port = await freePort();
    env = { ...process.env, DATABASE_URL: testDatabaseUrl(dir), HOST: '127.0.0.1', PORT: String(port), FACE3D_ADMIN_KEY: CHILD_ADMIN_KEY };
    served = await startChildServer(env);
    client = new ApiClient(`http://127.0.0.1:${port}`, CHILD_ADMIN_KEY);
  });

  afterAll(async () => {
    served?.child.kill('SIGKILL');
    if (served) await exited(served.child);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('finishes every accepted photo after a restart, each with exactly one face', async () => {
    const subject = dataOf(await client.query<{ createSubject: { id: string } }>('mutation { createSubject(input: { name: "Recovered" }) { id } }')).createSubject;
    const files = Object.fromEntries(
      await Promise.all(person!.photos.slice(0, PHOTOS).map(async (path, i) => [`variables.p.${i}`, { bytes: await readFile(path), name: `${i}.jpg` }] as const)),
    );
    const enroll = 'mutation($s: ID!, $p: [Upload!]!) { enrollPhotos(subjectId: $s, photos: $p) { photos { id status } } }';
    const photos = dataOf(await client.upload<{ enrollPhotos: { photos: { id: string }[] } }>(enroll, { s: subject.id, p: Array(PHOTOS).fill(null) }, files)).enrollPhotos.photos;

    // Kill as soon as the first photo is done: the rest are queued or being processed.
    const status = 'query($id: ID!) { photo(id: $id) { status } }';
    for (;;) {
      const first = dataOf(await client.query<{ photo: { status: string } }>(status, { id: photos[0].id })).photo;
      if (first.status === 'READY') break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    served!.child.kill('SIGKILL');
    await exited(served!.child);

    expect(await withDatabase((db) => db.photo.count({ where: { status: { in: ['PENDING', 'PROCESSING'] } } }))).toBeGreaterThan(0);

    served = await startChildServer(env);
    expect(served.banner).toMatch(/jobs requeued \d+, failed 0, repaired 0/);
    const deadline = Date.now() + 120_000;
    let statuses: string[] = [];
    while (Date.now() < deadline) {
      statuses = await Promise.all(photos.map(async (photo) => dataOf(await client.query<{ photo: { status: string } }>(status, { id: photo.id })).photo.status));
      if (statuses.every((value) => value === 'READY' || value === 'FAILED')) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(statuses).toEqual(Array(PHOTOS).fill('READY'));
  });

  // PGlite's folder belongs to the one process that opened it: no second process while the server runs.
  (testBackend() === 'pglite' ? it.skip : it)('accepts a key made with `face3d keys create` while it runs', async () => {
    const { stdout } = await promisify(execFile)('node', [CLI_PATH, 'keys', 'create', '--role', 'read', '--label', 'from the CLI'], { env });
    const reader = client.withKey(stdout.trim());
    expect(dataOf(await reader.query<{ subjects: { totalCount: number } }>('{ subjects { totalCount } }')).subjects.totalCount).toBe(1);
    expect(errorCodes(await reader.query('mutation { createSubject(input: { name: "x" }) { id } }'))).toEqual(['FORBIDDEN']);
  });

  it('stops cleanly on SIGTERM, leaving each photo with exactly one face, one vector and one finished job', async () => {
    served!.child.kill('SIGTERM');
    expect(await exited(served!.child)).toBe(0);
    served = undefined;
    const photos = await withDatabase((db) => db.photo.findMany({ include: { face: { include: { vectors: true } }, jobs: true } }));
    expect(photos).toHaveLength(PHOTOS);
    for (const photo of photos) {
      expect(photo.face?.vectors).toHaveLength(1);
      expect(photo.jobs.map((job) => job.status)).toEqual(['DONE']);
    }
  });
});
