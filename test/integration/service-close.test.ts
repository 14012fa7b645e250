/**
 * Every owner of the service closes what openService opened for it, the mesh pool's threads among
 * them, on a real SQLite file with the real models: openService puts the pool's close on its
 * owner's cleanups, a download made before the close is refused after it, `face3d worker` and the
 * CLI's local gallery close their pool when they close, and a `face3d worker` process told SIGTERM
 * drains and exits by itself with status 0.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childServerEnv, exited, startChildWorker } from '../../bench/child-server.js';
import { LocalGallery } from '../../src/cli/local-gallery.js';
import { Cleanups } from '../../src/core/lifecycle.js';
import { MeshPool } from '../../src/gallery/mesh-pool.js';
import { FaceEncoder } from '../../src/inference/face-encoder.js';
import { openService } from '../../src/service/open-service.js';
import { startWorker } from '../../src/service/worker-process.js';
import { openDatabase } from '../../src/store/database.js';
import { testConfig } from '../helpers/api-server.js';
import { assertCliBuilt, makePeopleFolder } from '../helpers/cli.js';

let dir: string;
let encoder: FaceEncoder;
let photo: Buffer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'face3d-service-close-'));
  encoder = await FaceEncoder.open();
  const people = await makePeopleFolder(join(dir, 'people'), 1, 1);
  const [[name, [file]]] = [...people.people];
  photo = await readFile(join(dir, 'people', name, file));
}, 120_000);

afterAll(async () => {
  await encoder?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

afterEach(() => {
  jest.restoreAllMocks();
});

describe('closing the service', () => {
  it("puts the mesh pool's close on its owner's cleanups: a download that worked before the close is refused after it", async () => {
    const config = testConfig(dir, { FACE3D_WORKERS: '0' });
    const cleanups = new Cleanups();
    const database = await openDatabase(config.databaseUrl);
    cleanups.push(() => database.close());
    const { gallery } = (await openService(config, database, [encoder], () => undefined, cleanups)).services;
    const probe = await gallery.probeImage({ bytes: photo }, null);
    const made = await gallery.meshOfProbe(probe, 'PLY', { expression: false });
    expect(made.files[0].bytes.length).toBeGreaterThan(0);
    await cleanups.run();
    await expect(gallery.meshOfProbe(probe, 'PLY', { expression: false })).rejects.toMatchObject({ code: 'INTERNAL', message: 'the mesh export pool is closed' });
  }, 60_000);

  it('closes the mesh pool of `face3d worker` when the worker closes (what SIGTERM does)', async () => {
    // The real close runs; the spy only counts it.
    const close = jest.spyOn(MeshPool.prototype, 'close');
    const worker = await startWorker({ config: testConfig(dir, { FACE3D_WORKERS: '1' }), encoder, log: () => undefined });
    expect(close).not.toHaveBeenCalled();
    await worker.close();
    expect(close).toHaveBeenCalledTimes(1);
  }, 60_000);

  it.each(['identify', 'enroll'] as const)("closes the mesh pool of the CLI's local gallery opened to %s when it closes", async (mode) => {
    const close = jest.spyOn(MeshPool.prototype, 'close');
    const gallery = await LocalGallery.open(mode, testConfig(dir, { FACE3D_WORKERS: '1' }));
    expect(close).not.toHaveBeenCalled();
    await gallery.close();
    expect(close).toHaveBeenCalledTimes(1);
  }, 120_000);

  it('has a `face3d worker` process drain on SIGTERM and exit by itself with status 0', async () => {
    assertCliBuilt();
    const worker = await startChildWorker(childServerEnv(dir, 0, { FACE3D_WORKERS: '1', LOG_LEVEL: 'info' }));
    worker.child.kill('SIGTERM');
    expect(await exited(worker.child)).toBe(0);
    expect(worker.log()).toContain('face3d worker: SIGTERM: draining, then closing');
  }, 120_000);
});
