/**
 * POST /meshes/probe.<glb|ply> against a real server: the 3D face of a photo that is not enrolled
 * (the Verify page's dropped photos), with the API's key, limits and error codes, storing nothing.
 * Faces are rendered from our own 3DMM (src/morphable/synthetic-people.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateBytes } from 'gltf-validator';
import { ApiClient, dataOf } from '../../src/api/http-client.js';
import { FaceEncoder } from '../../src/inference/face-encoder.js';
import { readGlb } from '../helpers/glb-reader.js';
import { readPly } from '../helpers/ply-reader.js';
import { vertexCount } from '../../src/mesh/mesh.js';
import { exportableMesh } from '../../src/gallery/mesh-export.js';
import type { RunningServer } from '../../src/server.js';
import { faceless, syntheticPeople } from '../../src/morphable/synthetic-people.js';
import { ADMIN_KEY, createKeyThroughApi, startTestServer } from '../helpers/api-server.js';

const MAX_IMAGE_BYTES = 200_000;

let dir: string;
let encoder: FaceEncoder;
let server: RunningServer;
let admin: ApiClient;
let reader: ApiClient;
let face: Buffer;

interface Refusal {
  readonly status: number;
  readonly code: string | undefined;
}

function probeMesh(body: Buffer | ReadableStream<Uint8Array>, options: { client?: ApiClient; extension?: string; query?: string; type?: string } = {}): Promise<Response> {
  const client = options.client ?? reader;
  const headers = client.headers(options.type === undefined ? { 'content-type': 'image/jpeg' } : options.type ? { 'content-type': options.type } : {});
  return fetch(`${server.url}/meshes/probe.${options.extension ?? 'glb'}${options.query ?? ''}`, { method: 'POST', headers, body, duplex: 'half' } as RequestInit);
}

async function refusal(response: Response): Promise<Refusal> {
  const body = (await response.json()) as { errors: { extensions?: { code?: string } }[] };
  return { status: response.status, code: body.errors[0]?.extensions?.code };
}

async function bytesOf(response: Response): Promise<Buffer> {
  expect(response.status).toBe(200);
  return Buffer.from(await response.arrayBuffer());
}

async function counts(): Promise<{ subjects: number; faces: number }> {
  const { subjects } = dataOf(await admin.query<{ subjects: { totalCount: number } }>('{ subjects { totalCount } }'));
  return { subjects: subjects.totalCount, faces: server.gallery.index.faceCount };
}

/** Positions as close as float32 storage and a GLB round trip allow. */
function expectSamePositions(actual: Float32Array, expected: Float32Array): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  expect(worst).toBeLessThan(1e-3);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'face3d-probe-mesh-'));
  encoder = await FaceEncoder.open();
  server = await startTestServer(dir, encoder, { FACE3D_MAX_IMAGE_BYTES: String(MAX_IMAGE_BYTES) });
  admin = new ApiClient(server.url, ADMIN_KEY);
  reader = admin.withKey(await createKeyThroughApi(admin, 'READ', 'probe mesh'));
  [face] = (await syntheticPeople(encoder.bundle, 1, 1))[0].photos;
});

afterAll(async () => {
  await server?.close();
  await encoder?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('POST /meshes/probe.glb', () => {
  it('answers a read key with a valid GLB of the whole model, storing nothing', async () => {
    const before = await counts();
    const response = await probeMesh(face);
    expect(response.headers.get('content-type')).toBe('model/gltf-binary');
    expect(response.headers.get('content-disposition')).toContain('probe.glb');
    expect(response.headers.get('cache-control')).toBe('no-store');
    const glb = await bytesOf(response);
    expect(glb.subarray(0, 4).toString('latin1')).toBe('glTF');
    const report = await validateBytes(new Uint8Array(glb), { format: 'glb', writeTimestamp: false });
    expect(report.issues.messages.filter((message) => message.severity === 0)).toEqual([]);
    const mesh = await readGlb(glb);
    // The model's face, subdivided as every download is (mesh-export.ts).
    expect(mesh.positions.length / 3).toBe(vertexCount(await exportableMesh(encoder.bundle, { shape: [], texture: [] })));
    expect(mesh.texture).toBeDefined();
    expect(await counts()).toEqual(before);
  });

  it('is the same face that enrolling the photo gives, neutral unless expression is asked for', async () => {
    const neutral = await readGlb(await bytesOf(await probeMesh(face)));
    const withExpression = await readGlb(await bytesOf(await probeMesh(face, { query: '?expression=1' })));
    expect(Buffer.from(withExpression.positions.buffer).equals(Buffer.from(neutral.positions.buffer))).toBe(false);

    const { createSubject } = dataOf(await admin.query<{ createSubject: { id: string } }>('mutation { createSubject(input: { name: "Probe" }) { id } }'));
    const enrolled = await admin.upload<{ enrollPhotos: { photos: { id: string }[] } }>(
      'mutation($s: ID!, $photos: [Upload!]!) { enrollPhotos(subjectId: $s, photos: $photos) { photos { id } } }',
      { s: createSubject.id, photos: [null] },
      { 'variables.photos.0': { bytes: face, name: 'face.jpg' } },
    );
    const photoId = dataOf(enrolled).enrollPhotos.photos[0].id;
    type PhotoMesh = { photo: { status: string; face: { mesh: { url: string } } | null } };
    let photo: PhotoMesh['photo'];
    do {
      await new Promise((resolve) => setTimeout(resolve, 100));
      photo = dataOf(await admin.query<PhotoMesh>('query($id: ID!) { photo(id: $id) { status face { mesh(format: GLB) { url } } } }', { id: photoId })).photo;
    } while (photo.status === 'PENDING' || photo.status === 'PROCESSING');
    expect(photo.status).toBe('READY');
    const stored = await readGlb(await bytesOf(await reader.download(photo.face!.mesh.url)));
    // A stored face's download carries the type its Mesh.files entry names (PLY's included).
    type PlyMesh = { photo: { face: { mesh: { url: string; files: { contentType: string }[] } } } };
    const ply = dataOf(await admin.query<PlyMesh>('query($id: ID!) { photo(id: $id) { face { mesh(format: PLY) { url files { contentType } } } } }', { id: photoId })).photo.face.mesh;
    expect((await reader.download(ply.url)).headers.get('content-type')).toBe(ply.files[0].contentType);
    expectSamePositions(neutral.positions, stored.positions);
    // Both textures are unwrapped from the photo itself, at 256², not the model's 64² alone.
    expect(stored.texture!.width).toBeGreaterThanOrEqual(256);
    expect(Buffer.from(stored.texture!.data).equals(Buffer.from(neutral.texture!.data))).toBe(true);
    // Sharper than the model's texture resampled: more change from one texel to the next.
    const modelOnly = (await exportableMesh(encoder.bundle, { shape: [], texture: [] })).texture!;
    const detail = (image: { data: Uint8Array; width: number }) => {
      let sum = 0;
      for (let i = 3; i < image.data.length; i++) sum += Math.abs(image.data[i] - image.data[i - 3]);
      return sum / image.data.length;
    };
    expect(detail(stored.texture!)).toBeGreaterThan(1.5 * detail(modelOnly));
  });

  it('answers probe.ply as binary PLY, or ASCII with ascii=1, with the same vertices', async () => {
    const response = await probeMesh(face, { extension: 'ply' });
    // The type GraphQL's Mesh.files names for PLY, not the octet-stream its extension would give.
    expect(response.headers.get('content-type')).toBe('application/x-ply');
    expect(response.headers.get('content-disposition')).toContain('probe.ply');
    const binary = await bytesOf(response);
    expect(binary.subarray(0, 32).toString('latin1')).toMatch(/^ply\nformat binary_little_endian/);
    const ascii = await bytesOf(await probeMesh(face, { extension: 'ply', query: '?ascii=1' }));
    expect(ascii.subarray(0, 16).toString('latin1')).toBe('ply\nformat ascii');
    const glb = await readGlb(await bytesOf(await probeMesh(face)));
    expectSamePositions(readPly(binary).positions, glb.positions);
    expect(readPly(ascii).positions.length).toBe(glb.positions.length);
  });

  it('refuses without a valid key, before reading the image', async () => {
    expect(await refusal(await probeMesh(face, { client: reader.withKey(undefined) }))).toEqual({ status: 401, code: 'UNAUTHENTICATED' });
    expect(await refusal(await probeMesh(face, { client: reader.withKey('f3d_not_a_key') }))).toEqual({ status: 401, code: 'UNAUTHENTICATED' });
  });

  it('refuses bodies that are not an image/* type, such as what an HTML form can send (CSRF)', async () => {
    for (const type of ['application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'text/plain', 'application/octet-stream', '']) {
      expect(await refusal(await probeMesh(face, { type }))).toEqual({ status: 415, code: 'BAD_USER_INPUT' });
    }
  });

  it('answers NO_FACE, CORRUPT_IMAGE and UNSUPPORTED_IMAGE as the GraphQL API does', async () => {
    expect(await refusal(await probeMesh(await faceless()))).toEqual({ status: 422, code: 'NO_FACE' });
    expect(await refusal(await probeMesh(face.subarray(0, face.length / 2)))).toEqual({ status: 422, code: 'CORRUPT_IMAGE' });
    expect(await refusal(await probeMesh(Buffer.from('this is not an image at all, only text')))).toEqual({ status: 415, code: 'UNSUPPORTED_IMAGE' });
    expect(await refusal(await probeMesh(Buffer.alloc(0)))).toEqual({ status: 415, code: 'UNSUPPORTED_IMAGE' });
  });

  it('refuses an image over FACE3D_MAX_IMAGE_BYTES, whether its length is declared or streamed', async () => {
    const oversized = Buffer.concat([face, Buffer.alloc(MAX_IMAGE_BYTES + 1 - face.length)]);
    expect(await refusal(await probeMesh(oversized))).toEqual({ status: 413, code: 'IMAGE_TOO_LARGE' });
    const streamed = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let offset = 0; offset < oversized.length; offset += 16_384) controller.enqueue(oversized.subarray(offset, offset + 16_384));
        controller.close();
      },
    });
    expect(await refusal(await probeMesh(streamed))).toEqual({ status: 413, code: 'IMAGE_TOO_LARGE' });
    // The connection still serves the next request.
    expect((await probeMesh(face)).status).toBe(200);
  });

  it('answers NOT_FOUND for formats it cannot give as one file, and BAD_USER_INPUT for an unknown bundle', async () => {
    expect(await refusal(await probeMesh(face, { extension: 'obj' }))).toEqual({ status: 404, code: 'NOT_FOUND' });
    expect(await refusal(await probeMesh(face, { query: '?bundle=no-such-bundle' }))).toEqual({ status: 400, code: 'BAD_USER_INPUT' });
  });
});
