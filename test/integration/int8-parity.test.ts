/**
 * The int8 networks `npm run models:build` quantises (tools/quantize), run in real ONNX Runtime
 * sessions on generated photos (made-up people rendered from our 3DMM), against the float ones:
 * the identity networks FACE3D_PRECISION=int8 runs keep the embedding, and the service opens the
 * int8 files exactly when asked to.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { decodeImage } from '../../src/inference/decode.js';
import { defaultBundleDir } from '../../src/inference/face-encoder.js';
import { FEATURE_NETWORKS, featureModelPath } from '../../src/inference/feature-networks.js';
import { convertedModelPath, INT8_NETWORKS } from '../../src/inference/networks.js';
import { DEFAULT_INFERENCE_SETTINGS, type InferenceSettings } from '../../src/inference/inference-settings.js';
import { loadBundle } from '../../src/morphable/bundle.js';
import { syntheticPeople } from '../../src/morphable/synthetic-people.js';
import { closeParityNetworks, openParityNetworks, PARITY_BARS, photoParity, type ParityNetworks, type PhotoParity } from '../../tools/quantize/parity.js';

const specs = Object.values(FEATURE_NETWORKS).filter((spec, i, all) => INT8_NETWORKS.has(spec.model) && all.findIndex((other) => other.model === spec.model) === i);
let networks: ParityNetworks;
const results: PhotoParity[] = [];

beforeAll(async () => {
  networks = await openParityNetworks(specs);
  const people = await syntheticPeople(await loadBundle(defaultBundleDir()), 4, 2);
  for (const photo of people.flatMap((person) => person.photos)) {
    const parity = await photoParity(networks, await decodeImage(photo));
    if (parity) results.push(parity);
  }
}, 120_000);

afterAll(() => closeParityNetworks(networks));

describe('int8 networks against float on generated faces', () => {
  it('finds a face in every generated photo with the float detector', () => {
    expect(results).toHaveLength(8);
  });

  it.each(specs.map((spec) => [spec.name]))('%s int8 embeddings keep the float direction (cosine ≥ 0.995 on every face)', (name) => {
    const cosines = results.map((r) => r.cosine[name]);
    for (const cosine of cosines) expect(cosine).toBeGreaterThanOrEqual(PARITY_BARS.cosine);
    // Quantised, not a copy of the float file: the embeddings differ a little.
    expect(Math.min(...cosines)).toBeLessThan(1 - 1e-6);
  });
});

describe('FACE3D_PRECISION picks the files', () => {
  it('int8 opens <name>.int8.onnx for the networks int8 makes faster, and the float file for the others', () => {
    const int8: InferenceSettings = { ...DEFAULT_INFERENCE_SETTINGS, precision: 'int8' };
    const fp32: InferenceSettings = { ...DEFAULT_INFERENCE_SETTINGS, precision: 'fp32' };
    for (const spec of specs) {
      expect(basename(featureModelPath(spec, int8))).toBe(`${spec.model}.int8.onnx`);
      expect(existsSync(featureModelPath(spec, int8))).toBe(true);
      expect(basename(featureModelPath(spec, fp32))).toBe(`${spec.model}.onnx`);
    }
    expect(basename(convertedModelPath('blazeface', int8))).toBe('blazeface.onnx');
    expect(basename(convertedModelPath('facemesh', int8))).toBe('facemesh.onnx');
  });
});
