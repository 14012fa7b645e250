/**
 * The int8 networks `npm run models:build` quantises (tools/quantize), run in real ONNX Runtime
 * sessions on generated photos (made-up people rendered from our 3DMM), against the float ones:
 * each identity network's int8 file keeps the embedding (served int8 or not: fr-feature's is built
 * and measured, docs/BENCHMARKS.md §41), and the service opens the int8 files exactly when asked to.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { decodeImage } from '../../src/inference/decode.js';
import { defaultBundleDir } from '../../src/inference/face-encoder.js';
import { FEATURE_NETWORKS, featureModelPath } from '../../src/inference/feature-networks.js';
import { convertedModelPath } from '../../src/inference/networks.js';
import { DEFAULT_INFERENCE_SETTINGS, type InferenceSettings } from '../../src/inference/inference-settings.js';
import { loadBundle } from '../../src/morphable/bundle.js';
import { syntheticPeople } from '../../src/morphable/synthetic-people.js';
import { closeParityNetworks, int8IdentitySpecs, openParityNetworks, PARITY_BARS, photoParity, type ParityNetworks, type PhotoParity } from '../../tools/quantize/parity.js';

const specs = await int8IdentitySpecs();
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

  it('measures both identity networks with an int8 file', () => {
    expect(specs.map((spec) => spec.model).sort()).toEqual(['faceres', 'fr-feature']);
  });

  it.each(specs.map((spec) => [spec.name]))('%s int8 embeddings keep the float direction (cosine ≥ 0.995 on every face)', (name) => {
    const cosines = results.map((r) => r.cosine[name]);
    for (const cosine of cosines) expect(cosine).toBeGreaterThanOrEqual(PARITY_BARS.cosine);
    // Quantised, not a copy of the float file: the embeddings differ a little.
    expect(Math.min(...cosines)).toBeLessThan(1 - 1e-6);
  });
});

describe('FACE3D_PRECISION picks the files', () => {
  it('int8 opens FaceRes\'s int8 file, and the float files of fr-feature, the detector and FaceMesh (int8 would be slower or move open-set figures)', () => {
    const int8: InferenceSettings = { ...DEFAULT_INFERENCE_SETTINGS, precision: 'int8' };
    const fp32: InferenceSettings = { ...DEFAULT_INFERENCE_SETTINGS, precision: 'fp32' };
    expect(basename(featureModelPath(FEATURE_NETWORKS.faceres, int8))).toBe('faceres.int8.onnx');
    expect(existsSync(featureModelPath(FEATURE_NETWORKS.faceres, int8))).toBe(true);
    expect(basename(featureModelPath(FEATURE_NETWORKS.faceres, fp32))).toBe('faceres.onnx');
    for (const spec of [FEATURE_NETWORKS['fr-feature'], FEATURE_NETWORKS['fr-feature-flip']]) expect(basename(featureModelPath(spec, int8))).toBe('fr-feature.onnx');
    expect(basename(convertedModelPath('blazeface', int8))).toBe('blazeface.onnx');
    expect(basename(convertedModelPath('facemesh', int8))).toBe('facemesh.onnx');
  });
});
