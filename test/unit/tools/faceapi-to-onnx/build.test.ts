import { afterEach, describe, expect, it } from '@jest/globals';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { RECOGNITION_MODEL, buildFaceapiModels } from '../../../../tools/faceapi-to-onnx/build.js';
import { sha256 } from '../../../../tools/tfjs-to-onnx/fingerprint.js';
import { readManifest, writeManifest, type ManifestEntry } from '../../../../tools/tfjs-to-onnx/manifest.js';
import { scratchDir } from '../../../helpers/onnx-model.js';

describe('buildFaceapiModels', () => {
  let scratch: Awaited<ReturnType<typeof scratchDir>> | undefined;

  afterEach(async () => {
    await scratch?.remove();
  });

  it('writes the model and its manifest entry once, keeping other entries, and rebuilds a damaged file', async () => {
    scratch = await scratchDir();
    const outDir = scratch.path;
    const other = { name: 'blazeface', file: 'blazeface.onnx' } as ManifestEntry;
    await writeManifest(outDir, { formatVersion: 1, models: [other] });

    const [first] = await buildFaceapiModels({ outDir });
    expect(first).toEqual({ name: RECOGNITION_MODEL, status: 'converted', file: path.join(outDir, 'faceapi-recognition.onnx') });
    const { models } = await readManifest(outDir);
    expect(models.map((m) => m.name)).toEqual(['blazeface', RECOGNITION_MODEL]);
    const entry = models[1];
    expect(entry).toMatchObject({
      file: 'faceapi-recognition.onnx',
      layout: 'NHWC',
      source: { package: '@vladmandic/face-api', files: ['model/face_recognition_model-weights_manifest.json', 'model/face_recognition_model.bin'] },
      input: { name: 'input', shape: ['batch', 150, 150, 3], range: [0, 255] },
      outputs: [{ name: 'embedding', shape: ['batch', 128] }],
    });
    expect(entry.onnxSha256).toBe(sha256([await readFile(first.file)]));

    expect((await buildFaceapiModels({ outDir }))[0].status).toBe('up to date');
    await writeFile(first.file, 'damaged');
    expect((await buildFaceapiModels({ outDir }))[0].status).toBe('converted');
    expect((await readManifest(outDir)).models.map((m) => m.name)).toEqual(['blazeface', RECOGNITION_MODEL]);
  });
});
