/**
 * The photo folder's disk failing under a running server (`face3d serve`, the built CLI): full,
 * then read-only. The folder is a real small tmpfs, mounted in a mount namespace of the server's
 * own (`unshare -rm`), so ENOSPC and EROFS come from the kernel, not from a stand-in. Each upload
 * the disk refuses is a typed error with nothing half-written; what was stored stays downloadable.
 * Runs on every test database (FACE3D_TEST_DATABASE); skipped where unprivileged mount namespaces
 * are not allowed.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHILD_ADMIN_KEY, freePort, startChildServer, stopChildServer, type ChildServer } from '../../bench/child-server.js';
import { ApiClient, dataOf, type GraphQLResponse } from '../../src/api/http-client.js';
import { testDatabaseUrl } from '../helpers/database-backends.js';
import { fromRaw, solid } from '../helpers/images.js';

const TMPFS_BYTES = 256 * 1024;
const namespaces = spawnSync('unshare', ['-rm', 'sh', '-c', `mount -t tmpfs -o size=${TMPFS_BYTES} tmpfs "${tmpdir()}"`]).status === 0;
const describeWithNamespaces = namespaces ? describe : describe.skip;
if (!namespaces) console.warn('storage-faults.test.ts: skipped, `unshare -rm` cannot mount a tmpfs here (needs unprivileged user and mount namespaces)');

const CREATE_SUBJECT = 'mutation { createSubject(input: { name: "Stored" }) { id } }';
const ENROLL = 'mutation($s: ID!, $p: [Upload!]!) { enrollPhotos(subjectId: $s, photos: $p) { photos { id url } } }';
const PHOTO_COUNTS = '{ subjects(first: 100) { edges { node { photoCount } } } }';

/**
 * Mounts a tmpfs of TMPFS_BYTES on FACE3D_DATA_DIR in a namespace of its own, remounts it
 * read-only once READ_ONLY_TRIGGER exists (until the remount succeeds), and execs the server (so the child's pid is node's).
 */
const WRAPPER = [
  'unshare',
  '-rm',
  'sh',
  '-c',
  `mount -t tmpfs -o size=${TMPFS_BYTES} tmpfs "$FACE3D_DATA_DIR" || exit 1
  (while [ ! -e "$READ_ONLY_TRIGGER" ] && kill -0 $$ 2>/dev/null; do sleep 0.05; done
   # A remount meets EBUSY while a file is open for writing (a photo being stored): try again.
   [ -e "$READ_ONLY_TRIGGER" ] && until mount -o remount,ro "$FACE3D_DATA_DIR" 2>/dev/null; do kill -0 $$ 2>/dev/null || break; sleep 0.05; done) &
  exec "$@"`,
  'sh',
];

let dir: string;
let server: ChildServer | undefined;
let client: ApiClient;
let photos: string;
let trigger: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'face3d-storage-faults-'));
});

afterEach(async () => {
  if (server) await stopChildServer(server, 'SIGKILL');
  server = undefined;
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function startOnTmpfs(name: string): Promise<void> {
  photos = join(dir, name, 'photos');
  trigger = join(dir, name, 'read-only-now');
  mkdirSync(photos, { recursive: true });
  const port = await freePort();
  const env = {
    ...process.env,
    DATABASE_URL: testDatabaseUrl(join(dir, name)),
    FACE3D_DATA_DIR: photos,
    READ_ONLY_TRIGGER: trigger,
    HOST: '127.0.0.1',
    PORT: String(port),
    FACE3D_ADMIN_KEY: CHILD_ADMIN_KEY,
    // Nothing here needs a face found: the photos are stored, not enrolled.
    FACE3D_WORKERS: '0',
  };
  server = await startChildServer(env, WRAPPER);
  client = new ApiClient(server.url, CHILD_ADMIN_KEY);
}

/** What the server's namespace sees in the photo folder (the tmpfs is not mounted out here). */
function inFolder(...path: string[]): string[] {
  return readdirSync(join(`/proc/${server!.child.pid}/root`, photos, ...path));
}

async function enroll(bytes: Buffer): Promise<GraphQLResponse<{ enrollPhotos: { photos: { id: string; url: string }[] } }>> {
  const subject = dataOf(await client.query<{ createSubject: { id: string } }>(CREATE_SUBJECT)).createSubject;
  return client.upload(ENROLL, { s: subject.id, p: [null] }, { 'variables.p.0': { bytes, name: 'photo.png', type: 'image/png' } });
}

async function downloadOf(photo: { url: string }): Promise<Buffer> {
  const response = await client.download(photo.url);
  expect(response.status).toBe(200);
  return Buffer.from(await response.arrayBuffer());
}

const small = (seed: number) => solid(40, 30, [seed, 100, 200]).png().toBuffer();
/** Noise does not compress: a PNG larger than the whole tmpfs. */
const larger = () => fromRaw(randomBytes(400 * 300 * 3), 400, 300).png({ compressionLevel: 0 }).toBuffer();

async function photoCount(): Promise<number> {
  const { subjects } = dataOf(await client.query<{ subjects: { edges: { node: { photoCount: number } }[] } }>(PHOTO_COUNTS));
  return subjects.edges.reduce((sum, edge) => sum + edge.node.photoCount, 0);
}

describeWithNamespaces('the photo folder’s disk', () => {
  it('full: the upload is STORAGE_FULL (HTTP 507), no photo recorded, no partial file left; smaller photos still go in', async () => {
    await startOnTmpfs('full');
    const before = await small(1);
    const stored = dataOf(await enroll(before)).enrollPhotos.photos[0];

    const big = await larger();
    expect(big.length).toBeGreaterThan(TMPFS_BYTES);
    const refused = await enroll(big);
    expect([refused.status, refused.errors?.[0].extensions?.code]).toEqual([507, 'STORAGE_FULL']);
    expect(refused.errors?.[0].message).not.toContain(photos);
    expect(await photoCount()).toBe(1);
    expect(inFolder('incoming')).toEqual([]);

    const after = dataOf(await enroll(await small(2))).enrollPhotos.photos[0];
    expect(await photoCount()).toBe(2);
    expect((await downloadOf(stored)).equals(before)).toBe(true);
    expect((await downloadOf(after)).equals(await small(2))).toBe(true);
  });

  it('read-only: the upload is STORAGE_UNAVAILABLE (HTTP 503), nothing recorded; stored photos still download', async () => {
    await startOnTmpfs('read-only');
    const bytes = await small(3);
    const stored = dataOf(await enroll(bytes)).enrollPhotos.photos[0];
    writeFileSync(trigger, '');

    let refused = await enroll(await small(4));
    for (let tries = 0; !refused.errors && tries < 300; tries++) {
      // The remount follows the trigger within 50 ms on a quiet machine (seconds on a loaded one); an upload before it is simply stored.
      await new Promise((resolve) => setTimeout(resolve, 100));
      refused = await enroll(await small(5 + tries));
    }
    expect([refused.status, refused.errors?.[0].extensions?.code]).toEqual([503, 'STORAGE_UNAVAILABLE']);
    expect(refused.errors?.[0].message).not.toContain(photos);
    const recorded = await photoCount();
    expect((await enroll(await small(99))).errors?.[0].extensions?.code).toBe('STORAGE_UNAVAILABLE');
    expect(await photoCount()).toBe(recorded);
    expect((await downloadOf(stored)).equals(bytes)).toBe(true);
  });
});
