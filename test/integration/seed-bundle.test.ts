/**
 * An imported CNN3DMM bundle served beside our own: a synthetic Caffe regressor (input
 * [1, 3, 224, 224], 198 outputs) and a synthetic Basel-like MAT model, imported with the real
 * importers, served by the real server with FACE3D_BUNDLES. An enrolled LFW photo gets one vector
 * per bundle; identify, verify and meshes work per bundle and never compare across bundles.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient, dataOf, errorCodes } from '../../src/api/http-client.js';
import { isFace3dError } from '../../src/core/errors.js';
import { bfmFromMat } from '../../src/import/bfm/bfm-mat.js';
import { attachSeedRegressor, writeImportedBundle } from '../../src/import/bundle-writer.js';
import { convertCaffeModel } from '../../src/import/caffe/convert.js';
import { readMat } from '../../src/import/matlab/mat-reader.js';
import { FaceEncoder } from '../../src/inference/face-encoder.js';
import { readPly } from '../helpers/ply-reader.js';
import { vertexCount } from '../../src/mesh/mesh.js';
import { exportableMesh } from '../../src/gallery/mesh-export.js';
import type { RunningServer } from '../../src/server.js';
import { mulberry32 } from '../../src/training/random.js';
import { uniformBlob, writeCaffemodel, writeMeanBinaryproto, writePrototxt, type SyntheticNet } from '../../tools/import/caffe-synthetic.js';
import { ADMIN_KEY, startTestServer } from '../helpers/api-server.js';
import { LFW_DEV, lfwPeople } from '../helpers/lfw.js';
import { matMatrix, writeMat } from '../helpers/mat-writer.js';

const SEED_ID = 'synthetic-cnn3dmm';
const COMPONENTS = 99;
const GRID = { columns: 20, rows: 15 };
const VERTICES = GRID.columns * GRID.rows;

const people = lfwPeople(2)?.slice(0, 2);
const describeWithLfw = people ? describe : describe.skip;
if (!people) console.warn(`seed-bundle.test.ts: skipped, the LFW photos are not in ${LFW_DEV}`);

/** Global average pooling then one fully connected layer: the seed's input and output shapes, cheaply. */
function syntheticRegressor(): SyntheticNet {
  const random = mulberry32(11);
  return {
    name: 'synthetic-cnn3dmm',
    input: { name: 'data', dims: [3, 224, 224] },
    layers: [
      { name: 'pool', type: 'Pooling', bottom: ['data'], top: ['pool'], params: 'pooling_param { pool: AVE global_pooling: true }' },
      { name: 'fc_ftnew', type: 'InnerProduct', bottom: ['pool'], top: ['fc_ftnew'], params: 'inner_product_param { num_output: 198 }', blobs: [uniformBlob(random, [198, 3], -0.05, 0.05), uniformBlob(random, [198], -1, 1)] },
    ],
  };
}

/** A flat grid of vertices in µm, random bases (column-major, as MATLAB stores them), two triangles per cell, 1-based. */
function syntheticBaselModel(): Uint8Array {
  const random = mulberry32(5);
  const dims = VERTICES * 3;
  const shapeMU: number[] = [];
  for (let r = 0; r < GRID.rows; r++) for (let c = 0; c < GRID.columns; c++) shapeMU.push(c * 5000, r * 5000, 1000 * Math.sin(c / 3));
  const basis = (): number[] => Array.from({ length: dims * COMPONENTS }, () => random() - 0.5);
  const triangles: number[] = [];
  for (let r = 0; r + 1 < GRID.rows; r++) {
    for (let c = 0; c + 1 < GRID.columns; c++) {
      const v = r * GRID.columns + c + 1;
      triangles.push(v, v + 1, v + GRID.columns, v + 1, v + GRID.columns + 1, v + GRID.columns);
    }
  }
  const column = (values: number[]) => ({ kind: 'numeric' as const, class: 'single' as const, dims: [values.length, 1], data: values });
  return writeMat({
    shapeMU: column(shapeMU),
    shapePC: { kind: 'numeric', class: 'single', dims: [dims, COMPONENTS], data: basis() },
    shapeEV: column(Array.from({ length: COMPONENTS }, (_, k) => 3000 / (k + 1))),
    texMU: column(Array.from({ length: dims }, () => 60 + 120 * random())),
    texPC: { kind: 'numeric', class: 'single', dims: [dims, COMPONENTS], data: basis() },
    texEV: column(Array.from({ length: COMPONENTS }, (_, k) => 40 / (k + 1))),
    tl: matMatrix(triangles.length / 3, 3, triangles, 'double'),
  }, { compress: true });
}

async function buildSeedBundle(bundleDir: string): Promise<void> {
  const net = syntheticRegressor();
  await writeImportedBundle(bundleDir, bfmFromMat(readMat(syntheticBaselModel()), 'synthetic.mat'), { id: SEED_ID });
  const converted = convertCaffeModel({ prototxt: writePrototxt(net), caffemodel: writeCaffemodel(net), mean: writeMeanBinaryproto({ dims: [1, 3, 1, 1], data: Float32Array.of(104, 117, 123) }) });
  await writeFile(join(bundleDir, 'regressor.onnx'), converted.onnx);
  const attached = await attachSeedRegressor(bundleDir, { file: 'regressor.onnx', inputDims: converted.input.dims, outputDim: 198, meanSubtractedInGraph: true });
  expect(attached).toBe(true);
}

const VECTOR = 'vector { bundle shape texture }';
const IDENTIFY = `query($photoId: ID, $image: Upload, $bundle: String) {
  identify(photoId: $photoId, image: $image, bundle: $bundle, topK: 5, mode: PHOTO) { probe { ${VECTOR} } matches { similarity subject { id } face { id } } }
}`;

interface IdentifyResult {
  probe: { vector: { bundle: string; shape: number[]; texture: number[] } };
  matches: { similarity: number; subject: { id: string }; face: { id: string } }[];
}

describeWithLfw('an imported CNN3DMM bundle served beside lfw-facemesh-v2', () => {
  let dir: string;
  let encoder: FaceEncoder;
  let server: RunningServer;
  let client: ApiClient;
  const subjectIds: string[] = [];
  const faceIds: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'face3d-seed-bundle-'));
    const bundleDir = join(dir, SEED_ID);
    await buildSeedBundle(bundleDir);
    encoder = await FaceEncoder.open();
    server = await startTestServer(dir, encoder, { FACE3D_BUNDLES: `lfw-facemesh-v2,${bundleDir}` });
    client = new ApiClient(server.url, ADMIN_KEY);
    for (const person of people!) {
      const created = await client.query<{ createSubject: { id: string } }>(`mutation($name: String!) { createSubject(input: { name: $name }) { id } }`, { name: person.name });
      const subjectId = dataOf(created).createSubject.id;
      const enroll = `mutation($subjectId: ID!, $photos: [Upload!]!) { enrollPhotos(subjectId: $subjectId, photos: $photos) { photos { id } } }`;
      const path = person.photos[0];
      dataOf(await client.upload(enroll, { subjectId, photos: [null] }, { 'variables.photos.0': { bytes: await readFile(path), name: 'a.jpg' } }));
      subjectIds.push(subjectId);
    }
    await server.worker.idle();
    for (const subjectId of subjectIds) {
      const [faces] = await server.gallery.photos.faceVectorsOfSubjects([subjectId], 'lfw-facemesh-v2');
      faceIds.push(faces[0].faceId);
    }
  }, 300_000);

  afterAll(async () => {
    await server?.close();
    await encoder?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('lists both bundles, the first as the default', async () => {
    const info = dataOf(await client.query<{ serverInfo: { bundle: string; bundles: string[] } }>('{ serverInfo { bundle bundles } }'));
    expect(info.serverInfo).toEqual({ bundle: 'lfw-facemesh-v2', bundles: ['lfw-facemesh-v2', SEED_ID] });
  });

  it('stores one vector per bundle for each enrolled face', async () => {
    const { photos } = server.gallery;
    const [ours] = await photos.vectorsByFaceIds([faceIds[0]], 'lfw-facemesh-v2');
    const [seed] = await photos.vectorsByFaceIds([faceIds[0]], SEED_ID);
    expect(ours?.shape.length).toBe(encoder.bundle.manifest.shape.components);
    expect(seed?.shape.length).toBe(COMPONENTS);
    expect(seed?.texture.length).toBe(COMPONENTS);
    expect(seed!.shape.every(Number.isFinite)).toBe(true);
  });

  it('identifies within the named bundle only: the probe and every match are that bundle\'s vectors', async () => {
    const [photo] = await server.gallery.photos.facesByIds([faceIds[0]]);
    const seedAnswer = dataOf(await client.query<{ identify: IdentifyResult }>(IDENTIFY, { photoId: photo!.photoId, bundle: SEED_ID })).identify;
    const [stored] = await server.gallery.photos.vectorsByFaceIds([faceIds[0]], SEED_ID);
    expect(seedAnswer.probe.vector.bundle).toBe(SEED_ID);
    expect(seedAnswer.probe.vector.shape).toEqual(Array.from(stored!.shape));
    expect(seedAnswer.matches.map((match) => match.face.id).sort()).toEqual([...faceIds].sort());
    expect(seedAnswer.matches[0]).toMatchObject({ subject: { id: subjectIds[0] }, face: { id: faceIds[0] } });
    expect(seedAnswer.matches[0].similarity).toBeCloseTo(1, 5);

    const upload = await client.upload<{ identify: IdentifyResult }>(IDENTIFY, { image: null, bundle: SEED_ID }, { 'variables.image': { bytes: await readFile(people![0].photos[0]), name: 'probe.jpg' } });
    expect(dataOf(upload).identify.probe.vector.shape).toHaveLength(COMPONENTS);

    const ours = dataOf(await client.query<{ identify: IdentifyResult }>(IDENTIFY, { photoId: photo!.photoId })).identify;
    expect(ours.probe.vector.bundle).toBe('lfw-facemesh-v2');
    expect(ours.probe.vector.shape).toHaveLength(encoder.bundle.manifest.shape.components);
  });

  it('never compares vectors of different bundles', async () => {
    const ours = await server.gallery.probeSubject(subjectIds[0]);
    const seed = await server.gallery.probeSubject(subjectIds[0], SEED_ID);
    const codeOf = (run: () => unknown): string | undefined => {
      try {
        run();
      } catch (error) {
        return isFace3dError(error) ? error.code : 'not a Face3dError';
      }
      return undefined;
    };
    expect(codeOf(() => server.gallery.verify(ours, seed))).toBe('BAD_USER_INPUT');
    expect(() => server.gallery.served(SEED_ID).index.search(ours, 5, 'PHOTO')).toThrow(/cannot be compared/);
    const verify = `query($a: FaceRef!, $b: FaceRef!, $bundle: String) { verify(a: $a, b: $b, bundle: $bundle) { similarity a { vector { bundle } } b { vector { bundle } } } }`;
    const answer = dataOf(await client.query<{ verify: { similarity: number; a: { vector: { bundle: string } }; b: { vector: { bundle: string } } } }>(verify, { a: { subjectId: subjectIds[0] }, b: { subjectId: subjectIds[1] }, bundle: SEED_ID })).verify;
    expect([answer.a.vector.bundle, answer.b.vector.bundle]).toEqual([SEED_ID, SEED_ID]);
    expect(errorCodes(await client.query(IDENTIFY, { photoId: 'x', bundle: 'no-such-bundle' }))).toEqual(['BAD_USER_INPUT']);
  });

  it('reconstructs meshes with the chosen bundle: the synthetic model\'s vertices and per-vertex colours', async () => {
    const query = `query($id: ID!, $bundle: String) { subject(id: $id) { mesh(format: PLY, bundle: $bundle) { url vertices triangles } } }`;
    const seedMesh = dataOf(await client.query<{ subject: { mesh: { url: string; vertices: number; triangles: number } } }>(query, { id: subjectIds[0], bundle: SEED_ID })).subject.mesh;
    expect(seedMesh.vertices).toBe(VERTICES);
    expect(seedMesh.triangles).toBe(2 * (GRID.rows - 1) * (GRID.columns - 1));
    const response = await client.download(seedMesh.url);
    expect(response.status).toBe(200);
    const mesh = readPly(Buffer.from(await response.arrayBuffer()));
    expect(mesh.positions.length / 3).toBe(VERTICES);
    expect(mesh.colors?.length).toBe(VERTICES * 3);
    const ourMesh = dataOf(await client.query<{ subject: { mesh: { vertices: number } } }>(query, { id: subjectIds[0] })).subject.mesh;
    expect(ourMesh.vertices).toBe(vertexCount(await exportableMesh(encoder.bundle, { shape: [], texture: [] })));
  });
});
