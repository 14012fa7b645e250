/**
 * `face3d serve` (the built CLI, a child process) killed with SIGKILL ten times at seeded random
 * moments while batches of enrollments are uploaded and processed, and restarted each time. After
 * the last restart the queue drains completely, the database passes its integrity check (SQLite's
 * `PRAGMA integrity_check`; on PostgreSQL, amcheck over every B-tree index), and vectors, faces,
 * READY photos and the server's index agree. Runs on SQLite, and on PostgreSQL with
 * FACE3D_TEST_DATABASE=postgres (`npm run test:postgres`).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient, dataOf, type FilePart } from '../../src/api/http-client.js';
import { mulberry32 } from '../../src/training/random.js';
import { createSubject, ENROLL_PHOTOS, readPhoto, type EnrollPhotosData } from '../../bench/api-helpers.js';
import { CHILD_ADMIN_KEY, childServerEnv, freePort, startChildServer, stopChildServer, type ChildServer } from '../../bench/child-server.js';
import { galleryCounts, unfinishedPhotoCount, waitForDrain } from '../helpers/gallery-db.js';
import { testBackend, testDatabaseUrl } from '../helpers/database-backends.js';
import { LFW_DEV, lfwPeople } from '../helpers/lfw.js';

const KILLS = 10;
const REQUESTS_PER_BATCH = 3;
const PHOTOS_PER_REQUEST = 2;
const PHOTOS_PER_BATCH = REQUESTS_PER_BATCH * PHOTOS_PER_REQUEST;
/** A batch takes a second or two to process on two cores: kills land in uploads, in processing and after. */
const MAX_KILL_DELAY_MS = 1500;
const people = lfwPeople(PHOTOS_PER_BATCH)?.slice(0, KILLS);
const multiProcess = testBackend() !== 'pglite';
const describeWithLfw = people && people.length === KILLS && multiProcess ? describe : describe.skip;
if (!people || people.length < KILLS) console.warn(`crash.test.ts: skipped, the LFW photos are not in ${LFW_DEV}`);
if (!multiProcess) console.warn('crash.test.ts: skipped on PGlite, which the test process cannot read beside the server');

describeWithLfw('face3d serve killed ten times during enrollment', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let server: ChildServer | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'face3d-crash-'));
    env = childServerEnv(dir, await freePort(), { DATABASE_URL: testDatabaseUrl(dir) });
  });

  afterAll(async () => {
    if (server) await stopChildServer(server, 'SIGKILL');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('recovers to a consistent gallery with every photo finished', async () => {
    const random = mulberry32(20261125);
    const accepted = new Set<string>();
    const killDelays: number[] = [];
    /** Photos PENDING or PROCESSING right after each kill: the work the restarts had to recover. */
    const interrupted: number[] = [];
    const url = env.DATABASE_URL!;
    const database = url.startsWith('file:') ? url.slice('file:'.length) : url;
    for (const person of people!) {
      server = await startChildServer(env);
      const client = new ApiClient(server.url, CHILD_ADMIN_KEY);
      const subjectId = await createSubject(client, person.name);
      const files = await Promise.all(person.photos.slice(0, PHOTOS_PER_BATCH).map(readPhoto));
      const uploads = Array.from({ length: REQUESTS_PER_BATCH }, (_, r) => enroll(client, subjectId, files.slice(r * PHOTOS_PER_REQUEST, (r + 1) * PHOTOS_PER_REQUEST)));
      const delay = Math.floor(random() * MAX_KILL_DELAY_MS);
      killDelays.push(delay);
      await new Promise((resolve) => setTimeout(resolve, delay));
      await stopChildServer(server, 'SIGKILL');
      interrupted.push(await unfinishedPhotoCount(database));
      // A request the kill cut off may or may not have been accepted: the final check counts every row.
      for (const ids of await Promise.all(uploads)) for (const id of ids) accepted.add(id);
    }

    server = await startChildServer(env);
    const client = new ApiClient(server.url, CHILD_ADMIN_KEY);
    await waitForDrain(database, 120_000);
    const info = dataOf(await client.query<{ serverInfo: { bundle: string; enrolledFaces: number } }>('{ serverInfo { bundle enrolledFaces } }')).serverInfo;
    const counts = await galleryCounts(database, info.bundle, env.FACE3D_DATA_DIR!);
    console.log(`crash.test.ts: kills after ${killDelays.join(', ')} ms left ${interrupted.join(', ')} photos unfinished; ${accepted.size} photos acknowledged; ${JSON.stringify(counts)}; ${server.banner}`);

    expect(accepted.size).toBeGreaterThan(0);
    expect(Math.max(...interrupted)).toBeGreaterThan(0);
    expect(counts.integrity).toBe('ok');
    expect(counts.photosByStatus.PENDING ?? 0).toBe(0);
    expect(counts.photosByStatus.PROCESSING ?? 0).toBe(0);
    expect(counts.unfinishedJobs).toBe(0);
    expect(counts.failedWithoutCode).toBe(0);
    expect(counts.readyFaces).toBe(counts.photosByStatus.READY);
    expect(counts.strayFaces).toBe(0);
    expect(counts.vectors).toBe(counts.readyFaces);
    expect(info.enrolledFaces).toBe(counts.readyFaces);
    expect(counts.readyWithoutFile).toBe(0);
    // Every acknowledged photo is still there and finished.
    const statuses = await photoStatuses(client, [...accepted]);
    expect(statuses.filter((status) => status !== 'READY' && status !== 'FAILED')).toEqual([]);
  });
});

/** The ids of the photos an enrollment request got back; none when the kill cut it off (no response at all). */
async function enroll(client: ApiClient, subjectId: string, files: readonly FilePart[]): Promise<string[]> {
  const parts = Object.fromEntries(files.map((file, i) => [`variables.p.${i}`, file]));
  let response;
  try {
    response = await client.upload<EnrollPhotosData>(ENROLL_PHOTOS, { s: subjectId, p: files.map(() => null) }, parts);
  } catch {
    return [];
  }
  return dataOf(response).enrollPhotos.photos.map((photo) => photo.id);
}

async function photoStatuses(client: ApiClient, ids: readonly string[]): Promise<(string | undefined)[]> {
  const query = 'query($id: ID!) { photo(id: $id) { status } }';
  return Promise.all(ids.map(async (id) => dataOf(await client.query<{ photo: { status: string } | null }>(query, { id })).photo?.status));
}
