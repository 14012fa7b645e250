/**
 * The mesh pool's bounded queue over a real HTTP server on a real SQLite file: with one thread
 * (FACE3D_MESH_THREADS=1) and one place to wait (FACE3D_MESH_QUEUE=1), a burst of concurrent mesh
 * downloads and GraphQL mesh fields gets what the pool can take made, and the rest refused with a
 * typed RATE_LIMITED (HTTP 429 with Retry-After on the download path, `extensions.code` in
 * GraphQL); the server keeps answering, and downloads asked for afterwards are made, the same bytes.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient, dataOf } from '../../src/api/http-client.js';
import { FaceEncoder } from '../../src/inference/face-encoder.js';
import type { RunningServer } from '../../src/server.js';
import { ADMIN_KEY, startTestServer } from '../helpers/api-server.js';
import { makePeopleFolder } from '../helpers/cli.js';

const PHOTOS = 3;
/** Each kind of request, at once: one is made, one waits, the others find the queue full. */
const BURST = 4;
const ENROLL = 'mutation($s: ID!, $p: [Upload!]!) { enrollPhotos(subjectId: $s, photos: $p) { photos { id } } }';
const MESH_VERTICES = 'query($id: ID!) { subject(id: $id) { mesh(format: PLY) { vertices } } }';

let dir: string;
let encoder: FaceEncoder;
let server: RunningServer;
let admin: ApiClient;
let subjectId: string;
let meshUrl: string;

interface Download {
  readonly status: number;
  readonly retryAfter: string | null;
  readonly code?: string;
  readonly bytes?: Buffer;
}

async function download(url: string): Promise<Download> {
  const response = await fetch(url, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  const retryAfter = response.headers.get('retry-after');
  if (response.status === 200) return { status: 200, retryAfter, bytes: Buffer.from(await response.arrayBuffer()) };
  const body = (await response.json()) as { errors: { extensions: { code: string } }[] };
  return { status: response.status, retryAfter, code: body.errors[0].extensions.code };
}

/** The vertex count, or the first error's code. */
async function meshVertices(): Promise<number | string> {
  const response = await admin.query<{ subject: { mesh: { vertices: number } } }>(MESH_VERTICES, { id: subjectId });
  const code = response.errors?.[0]?.extensions?.code;
  return typeof code === 'string' ? code : dataOf(response).subject.mesh.vertices;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'face3d-mesh-queue-'));
  encoder = await FaceEncoder.open();
  server = await startTestServer(dir, encoder, { FACE3D_MESH_THREADS: '1', FACE3D_MESH_QUEUE: '1', FACE3D_WORKERS: '1' });
  admin = new ApiClient(server.url, ADMIN_KEY);
  const people = await makePeopleFolder(join(dir, 'people'), 1, PHOTOS);
  const [[name, files]] = [...people.people];
  subjectId = dataOf(await admin.query<{ createSubject: { id: string } }>('mutation($n: String!) { createSubject(input: { name: $n }) { id } }', { n: name })).createSubject.id;
  const parts = Object.fromEntries(await Promise.all(files.map(async (file, i) => [`variables.p.${i}`, { bytes: await readFile(join(dir, 'people', name, file)), name: file }] as const)));
  dataOf(await admin.upload(ENROLL, { s: subjectId, p: files.map(() => null) }, parts));
  await server.worker.idle();
  meshUrl = dataOf(await admin.query<{ subject: { mesh: { url: string } } }>('query($id: ID!) { subject(id: $id) { mesh(format: GLB) { url } } }', { id: subjectId })).subject.mesh.url;
}, 300_000);

afterAll(async () => {
  await server?.close();
  await encoder?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('mesh downloads beyond the queue', () => {
  it('are refused with RATE_LIMITED (HTTP 429 and Retry-After, or extensions.code), the server keeps serving, and later downloads are made', async () => {
    const [downloads, fields] = await Promise.all([
      Promise.all(Array.from({ length: BURST }, () => download(meshUrl))),
      Promise.all(Array.from({ length: BURST }, () => meshVertices())),
    ]);
    // One thread and one place: two of the eight are taken, more only if one was made before the others came.
    const made = downloads.filter((answer) => answer.status === 200);
    const refused = downloads.filter((answer) => answer.status !== 200);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused).toEqual(refused.map(() => ({ status: 429, retryAfter: '1', code: 'RATE_LIMITED' })));
    const vertexCounts = fields.filter((field) => typeof field === 'number');
    expect(fields.filter((field) => typeof field === 'string')).toEqual(Array(BURST - vertexCounts.length).fill('RATE_LIMITED'));
    expect(vertexCounts.length).toBeLessThan(BURST);
    expect(made.length + vertexCounts.length).toBeGreaterThan(0);

    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    // One at a time, each is made: the queue has emptied.
    const later = [await download(meshUrl), await download(meshUrl)];
    expect(later.map((answer) => answer.status)).toEqual([200, 200]);
    for (const answer of [...made, later[1]]) expect(answer.bytes!.equals(later[0].bytes!)).toBe(true);
    expect(typeof (await meshVertices())).toBe('number');
  }, 120_000);
});
