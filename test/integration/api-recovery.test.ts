/**
 * `face3d serve` (the built CLI) as a child process, killed with SIGKILL while enrollment jobs run:
 * after a restart every accepted photo ends READY with exactly one face, nothing lost or doubled.
 * Also `face3d keys create`, run against the same database while the server is up.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import BetterSqlite3 from 'better-sqlite3';
import { ApiClient, dataOf, errorCodes } from '../../src/api/http-client.js';
import { LFW_DEV, lfwPeople } from '../helpers/lfw.js';
import { ADMIN_KEY } from '../helpers/api-server.js';

const CLI = join(process.cwd(), 'dist/src/cli/main.js');
const PHOTOS = 6;
const person = lfwPeople(PHOTOS)?.[0];
const describeWithLfw = person ? describe : describe.skip;
if (!person) console.warn(`api-recovery.test.ts: skipped, the LFW photos are not in ${LFW_DEV}`);

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface Served {
  readonly child: ChildProcess;
  /** The start-up line, e.g. "face3d: serving ... jobs requeued 1, failed 0, repaired 0)". */
  readonly banner: string;
}

/** Starts `face3d serve` and waits for its start-up line. */
function serve(env: NodeJS.ProcessEnv): Promise<Served> {
  const child = spawn('node', [CLI, 'serve'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
      const banner = stderr.split('\n').find((line) => line.startsWith('face3d: serving'));
      if (banner) resolve({ child, banner });
    });
    child.once('exit', (code) => reject(new Error(`face3d serve exited with ${code} before serving:\n${stderr}`)));
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

describeWithLfw('face3d serve killed mid-enrollment', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let served: Served | undefined;
  let client: ApiClient;

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build`);
    dir = mkdtempSync(join(tmpdir(), 'face3d-recovery-'));
    const port = await freePort();
    env = { ...process.env, DATABASE_URL: `file:${join(dir, 'face3d.db')}`, HOST: '127.0.0.1', PORT: String(port), FACE3D_ADMIN_KEY: ADMIN_KEY };
    served = await serve(env);
    client = new ApiClient(`http://127.0.0.1:${port}`, ADMIN_KEY);
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

    const db = new BetterSqlite3(join(dir, 'face3d.db'), { readonly: true });
    const unfinished = db.prepare("SELECT COUNT(*) AS n FROM Photo WHERE status IN ('PENDING', 'PROCESSING')").get() as { n: number };
    db.close();
    expect(unfinished.n).toBeGreaterThan(0);

    served = await serve(env);
    expect(served.banner).toMatch(/jobs requeued \d+, failed 0, repaired 0/);
    const deadline = Date.now() + 120_000;
    let statuses: string[] = [];
    while (Date.now() < deadline) {
      statuses = await Promise.all(photos.map(async (photo) => dataOf(await client.query<{ photo: { status: string } }>(status, { id: photo.id })).photo.status));
      if (statuses.every((value) => value === 'READY' || value === 'FAILED')) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(statuses).toEqual(Array(PHOTOS).fill('READY'));

    const check = new BetterSqlite3(join(dir, 'face3d.db'), { readonly: true });
    const perPhoto = check.prepare('SELECT p.id, (SELECT COUNT(*) FROM Face f WHERE f.photoId = p.id) AS faces, (SELECT COUNT(*) FROM FaceVector v JOIN Face f ON v.faceId = f.id WHERE f.photoId = p.id) AS vectors, (SELECT COUNT(*) FROM Job j WHERE j.photoId = p.id) AS jobs FROM Photo p').all();
    const jobStates = check.prepare('SELECT status, COUNT(*) AS n FROM Job GROUP BY status').all();
    check.close();
    expect(perPhoto).toEqual(photos.map(() => ({ id: expect.any(String), faces: 1, vectors: 1, jobs: 1 })));
    expect(jobStates).toEqual([{ status: 'DONE', n: PHOTOS }]);
  });

  it('accepts a key made with `face3d keys create` while it runs, and stops cleanly on SIGTERM', async () => {
    const { stdout } = await promisify(execFile)('node', [CLI, 'keys', 'create', '--role', 'read', '--label', 'from the CLI'], { env });
    const reader = client.withKey(stdout.trim());
    expect(dataOf(await reader.query<{ subjects: { totalCount: number } }>('{ subjects { totalCount } }')).subjects.totalCount).toBe(1);
    expect(errorCodes(await reader.query('mutation { createSubject(input: { name: "x" }) { id } }'))).toEqual(['FORBIDDEN']);

    served!.child.kill('SIGTERM');
    expect(await exited(served!.child)).toBe(0);
    served = undefined;
  });
});
