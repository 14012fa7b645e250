import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { runMeshExport, type MeshExportJob, type MeshFormat } from '../../../src/gallery/mesh-export.js';
import { MeshPool } from '../../../src/gallery/mesh-pool.js';
import { defaultBundleDir } from '../../../src/inference/face-encoder.js';
import type { FacePhoto } from '../../../src/inference/face-texture.js';
import { loadBundle } from '../../../src/morphable/bundle.js';
import { reconstructMesh } from '../../../src/morphable/reconstruct.js';
import { mulberry32 } from '../../../src/training/random.js';
import { faceWithDepth, photographShaded, randomDepthDeviation } from '../../../tools/depth/shading-synthetic.js';

let job: (format: MeshFormat, photoCount?: number) => MeshExportJob;
const pools: MeshPool[] = [];

function openPool(options: ConstructorParameters<typeof MeshPool>[0] = {}): MeshPool {
  const pool = new MeshPool(options);
  // From the sources the pool runs the compiled worker; without a build it would quietly work in this thread.
  if (!pool.offThread) throw new Error('dist/src/gallery/mesh-worker.js is missing: run npx tsc -p tsconfig.build.json');
  pools.push(pool);
  return pool;
}

beforeAll(async () => {
  const bundle = await loadBundle(defaultBundleDir());
  const coefficients = { shape: [0.5, -1], texture: [1] };
  const random = mulberry32(7);
  const truth = faceWithDepth(reconstructMesh(bundle, coefficients).positions, randomDepthDeviation(bundle.shape.basis, 2.5, random));
  const photos: FacePhoto[] = Array.from({ length: 3 }, () => {
    const photo = photographShaded(truth, { light: 'point', landmarkNoisePx: 0.7, pixelNoise: 0.01, albedoNoise: 0.08 }, random);
    return { image: photo.rgb, landmarks: photo.landmarks };
  });
  // Fresh pixels per job: a transferring run takes them away from the caller.
  job = (format, photoCount = photos.length) => ({
    reconstructed: reconstructMesh(bundle, coefficients),
    sharpen: true,
    photos: photos.slice(0, photoCount).map((photo) => ({ ...photo, image: { ...photo.image, data: photo.image.data.slice() } })),
    format,
    options: { stem: 'face' },
  });
});

afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.close()));
});

describe('the mesh export pool', () => {
  it.each(['GLB', 'OBJ', 'PLY'] as const)('makes the same %s files in its thread as the export does in this one', async (format) => {
    const pool = openPool();
    const [here, there] = await Promise.all([runMeshExport(job(format)), pool.run(job(format))]);
    expect(there.vertices).toBe(here.vertices);
    expect(there.files.map((file) => [file.name, file.contentType])).toEqual(here.files.map((file) => [file.name, file.contentType]));
    for (const [at, file] of there.files.entries()) {
      expect(Buffer.isBuffer(file.bytes)).toBe(true);
      expect(file.bytes.equals(here.files[at].bytes)).toBe(true);
    }
  });

  it("moves the photos' pixels to its thread when told they are the download's own, and copies them otherwise", async () => {
    const pool = openPool();
    const moved = job('PLY');
    const copied = job('PLY');
    await Promise.all([pool.run(moved, { transferPhotos: true }), pool.run(copied)]);
    expect(moved.photos.map((photo) => photo.image.data.byteLength)).toEqual([0, 0, 0]);
    expect(copied.photos.every((photo) => photo.image.data.byteLength === photo.image.width * photo.image.height * 3)).toBe(true);
  });

  it('makes downloads in the caller’s thread when told 0 threads (FACE3D_MESH_THREADS=0)', async () => {
    const pool = new MeshPool({ threads: 0 });
    pools.push(pool);
    expect(pool.offThread).toBe(false);
    const moved = job('PLY', 1);
    const made = await pool.run(moved, { transferPhotos: true });
    // Nothing crossed threads: the photo is still the caller's.
    expect(moved.photos[0].image.data.byteLength).toBeGreaterThan(0);
    expect(made.files[0].bytes.equals((await runMeshExport(job('PLY', 1))).files[0].bytes)).toBe(true);
  });

  it('fails the download of a thread that dies with INTERNAL, and makes the next one in a fresh thread', async () => {
    const pool = openPool();
    // No writer answers this format: the thread's reply throws outside any handler and the thread dies.
    await expect(pool.run(job('STL' as MeshFormat, 0))).rejects.toMatchObject({ code: 'INTERNAL', message: expect.stringMatching(/thread died/) });
    const next = await pool.run(job('PLY', 1));
    expect(next.files[0].bytes.equals((await runMeshExport(job('PLY', 1))).files[0].bytes)).toBe(true);
  });

  it('with no place to wait (FACE3D_MESH_QUEUE=0) makes a download while a thread is free, and refuses one only while none is', async () => {
    const pool = openPool({ threads: 1, maxQueued: 0 });
    const outcome = (promise: Promise<unknown>) => promise.then(() => 'made', (error: { code?: string }) => error.code);
    const [first, second] = [pool.run(job('PLY', 1)), pool.run(job('PLY', 1))].map(outcome);
    expect([await first, await second]).toEqual(['made', 'RATE_LIMITED']);
    expect(await outcome(pool.run(job('PLY', 1)))).toBe('made');
  });

  it('refuses a download beyond its queue with RATE_LIMITED, and fails what it has not made when closed', async () => {
    const pool = openPool({ threads: 1, maxQueued: 1 });
    const outcome = (promise: Promise<unknown>) => promise.then(() => 'made', (error: { code?: string }) => error.code);
    const [first, second, third] = [pool.run(job('PLY', 1)), pool.run(job('PLY', 1)), pool.run(job('PLY', 1))].map(outcome);
    expect(await third).toBe('RATE_LIMITED');
    expect(await first).toBe('made');
    // The second is being made now; a fourth waits for it.
    const fourth = outcome(pool.run(job('PLY', 1)));
    await pool.close();
    expect([await second, await fourth]).toEqual(['INTERNAL', 'INTERNAL']);
    expect(await outcome(pool.run(job('PLY', 1)))).toBe('INTERNAL');
  });
});
