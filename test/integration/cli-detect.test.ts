import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it, beforeAll } from '@jest/globals';
import sharp from 'sharp';
import { loadConfig } from '../../src/core/config.js';
import { bundleDirOf } from '../../src/inference/open-encoder.js';
import { readBundleManifest } from '../../src/morphable/bundle.js';

const run = promisify(execFile);
const CLI = join(process.cwd(), 'dist/src/cli/main.js');
const LFW_PHOTO = join(process.cwd(), '../shared/datasets/lfw/dev/AJ_Lamas/AJ_Lamas_0001.jpg');

async function face3d(...args: string[]): Promise<{ stdout: string; code: number }> {
  return face3dWith({}, ...args);
}

async function face3dWith(env: NodeJS.ProcessEnv, ...args: string[]): Promise<{ stdout: string; code: number }> {
  try {
    const { stdout } = await run('node', [CLI, ...args], { env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 });
    return { stdout, code: 0 };
  } catch (error) {
    const e = error as { stdout: string; code: number };
    return { stdout: e.stdout, code: e.code };
  }
}

describe('face3d detect (the built CLI)', () => {
  let dir: string;
  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build`);
    dir = await mkdtemp(join(tmpdir(), 'face3d-cli-'));
  });

  it('reports a typed error for each bad file, goes on to the next, and exits 1 when any file failed', async () => {
    const jpeg = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#808080' } }).jpeg().toBuffer();
    const files: Record<string, Buffer> = {
      'empty.jpg': Buffer.alloc(0),
      'text.jpg': Buffer.from('hello, not an image'),
      'truncated.jpg': jpeg.subarray(0, Math.floor(jpeg.length / 2)),
      'plain.jpg': jpeg,
    };
    for (const [name, bytes] of Object.entries(files)) await writeFile(join(dir, name), bytes);
    const paths = ['empty.jpg', 'text.jpg', 'truncated.jpg', 'missing.jpg', 'plain.jpg'].map((f) => join(dir, f));
    const { stdout, code } = await face3d('detect', '--json', ...paths);
    expect(code).toBe(1);
    const records = stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(records.map((r) => r.image)).toEqual(paths);
    expect(records.map((r) => r.error?.code)).toEqual(['UNSUPPORTED_IMAGE', 'UNSUPPORTED_IMAGE', 'CORRUPT_IMAGE', 'NOT_FOUND', undefined]);
    expect(records[4]).toMatchObject({ width: 64, height: 48, faces: [] });
    expect(await face3d('detect', '--json', join(dir, 'plain.jpg'))).toEqual({ code: 0, stdout: expect.stringContaining('"faces":[]') });
  });

  it('refuses an oversized image before decoding it', async () => {
    const big = await sharp({ create: { width: 3000, height: 3000, channels: 3, background: '#000' } }).png().toBuffer();
    await writeFile(join(dir, 'big.png'), big);
    const { stdout, code } = await face3dWith({ FACE3D_MAX_IMAGE_PIXELS: '1000000' }, 'detect', '--json', join(dir, 'big.png'));
    expect(JSON.parse(stdout).error.code).toBe('IMAGE_TOO_LARGE');
    expect(code).toBe(1);
  });

  it('exits non-zero when misused', async () => {
    expect((await face3d('detect')).code).not.toBe(0);
    expect((await face3d('no-such-command')).code).not.toBe(0);
  });

  const lfw = existsSync(LFW_PHOTO) ? it : it.skip;
  if (!existsSync(LFW_PHOTO)) console.warn(`skipping the LFW detection check: ${LFW_PHOTO} is absent (../shared/datasets/lfw)`);
  lfw('finds the centred face of an LFW photo', async () => {
    const { stdout } = await face3d('detect', '--json', LFW_PHOTO);
    const record = JSON.parse(stdout);
    expect(record).toMatchObject({ width: 250, height: 250 });
    expect(record.faces.length).toBeGreaterThanOrEqual(1);
    const [face] = record.faces;
    const cx = face.box.x + face.box.width / 2;
    const cy = face.box.y + face.box.height / 2;
    expect(Math.hypot(cx - 125, cy - 125)).toBeLessThan(40);
    expect(face.score).toBeGreaterThan(0.5);
  });
});

describe('face3d embed (the built CLI)', () => {
  it("gives the default bundle's identity features: as many as its regressor reads, from the network its manifest names", async () => {
    const settings = loadConfig({});
    const manifest = await readBundleManifest(bundleDirOf(settings.bundles[0], settings.modelsDir));
    const dir = await mkdtemp(join(tmpdir(), 'face3d-embed-'));
    expect((await face3d('sample-photos', dir, '--people', '1', '--photos', '1')).code).toBe(0);
    const [person] = await readdir(dir);
    const [photo] = await readdir(join(dir, person));
    const path = join(dir, person, photo);

    const { stdout, code } = await face3d('embed', '--json', path);
    expect(code).toBe(0);
    const record = JSON.parse(stdout) as { network: string; faces: { features: number[] }[] };
    expect(record.network).toBe(manifest.preprocessing.featureNetwork);
    expect(record.faces).toHaveLength(1);
    expect(record.faces[0].features).toHaveLength(manifest.regressor!.inputDim);
    // The text says the same, not a network the bundle does not use.
    expect((await face3d('embed', path)).stdout.trim()).toBe(`${path}: ${manifest.regressor!.inputDim}-d features (${record.network})`);
    await rm(dir, { recursive: true, force: true });
  });
});
