/**
 * Measures the activation ranges of the networks face3d runs in int8 and writes them to
 * models/int8-calibration.json, which `npm run models:build` quantises with (offline, in
 * milliseconds). The inputs are exactly what the float pipeline feeds each network on LFW *train*
 * photos (never dev): the detector's looks at each photo, every FaceMesh pass, and each identity
 * network's crop of the landmarked face.
 *   node dist/tools/quantize/calibrate.js [--root ../shared/datasets/lfw/train] [--photos 300] [--seed 16] [--networks fr-feature,…]
 * --networks measures only those networks again and keeps the file's entries for the others.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { FEATURE_NETWORKS, featureInput, featureRegion, type FeatureNetworkSpec } from '../../src/inference/feature-networks.js';
import type { NetworkName } from '../../src/inference/networks.js';
import { analysePhoto, closeFaceNetworks, openFaceNetworks } from '../../src/inference/pipeline.js';
import { inferenceSettings } from '../../src/inference/inference-settings.js';
import { config } from '../../src/core/config.js';
import { sha256 } from '../tfjs-to-onnx/fingerprint.js';
import { writeFileAtomic } from '../tfjs-to-onnx/manifest.js';
import onnxPkg from 'onnx-proto';
import { combineRanges, defaultCalibrationPath, INT8_RECIPES, measureRanges, readCalibration, type CalibrationFile, type NetworkCalibration } from './calibration.js';
import { depthwiseConvs } from './qdq.js';
import { choosePhotos, recording } from './train-inputs.js';

const { onnx } = onnxPkg;

const { values } = parseArgs({
  options: {
    root: { type: 'string', default: '../shared/datasets/lfw/train' },
    photos: { type: 'string', default: '300' },
    seed: { type: 'string', default: '16' },
    out: { type: 'string', default: defaultCalibrationPath() },
    build: { type: 'string', default: path.join('models', 'build') },
    networks: { type: 'string', default: Object.keys(INT8_RECIPES).join(',') },
  },
});
if (!existsSync(values.root)) throw new Error(`no photos at ${values.root} (pass --root <LFW train folder>)`);

const inputs = new Map<NetworkName, Float32Array[]>(Object.keys(INT8_RECIPES).map((name) => [name as NetworkName, []]));
const identitySpecs: FeatureNetworkSpec[] = Object.values(FEATURE_NETWORKS).filter((spec) => inputs.has(spec.model));
const floatNetworks = await openFaceNetworks({ ...inferenceSettings(config()), batching: { maxBatch: 1, maxDelayMs: 0 }, precision: 'fp32' }, FEATURE_NETWORKS['fr-feature']);
const networks = {
  ...floatNetworks,
  detector: recording(floatNetworks.detector, inputs.get('blazeface') ?? []),
  landmarks: recording(floatNetworks.landmarks, inputs.get('facemesh') ?? []),
};
const photos = await choosePhotos(values.root, Number(values.photos), Number(values.seed));
let faces = 0;
for (const file of photos) {
  const { image, faces: [face] } = await analysePhoto(networks, await readFile(file));
  if (!face) continue;
  faces++;
  // A flipping network (fr-feature-flip) is also fed the mirror image of the crop.
  for (const spec of identitySpecs) inputs.get(spec.model)!.push(featureInput(spec, image, featureRegion(spec, face.landmarks.points), spec.flip));
}
await closeFaceNetworks(floatNetworks);

const itemDims: Readonly<Record<string, readonly number[]>> = {
  blazeface: floatNetworks.detector.itemDims,
  facemesh: floatNetworks.landmarks.itemDims,
  ...Object.fromEntries(identitySpecs.map((spec) => [spec.model, spec.layout === 'nhwc' ? [spec.inputSize, spec.inputSize, 3] : [3, spec.inputSize, spec.inputSize]])),
};
const measured = new Set(values.networks.split(','));
for (const name of measured) if (!INT8_RECIPES[name]) throw new Error(`no int8 recipe for ${name} (INT8_RECIPES: ${Object.keys(INT8_RECIPES).join(', ')})`);
const calibrations: Record<string, NetworkCalibration> = measured.size < inputs.size ? { ...(await readCalibration(values.out)).networks } : {};
for (const [name, items] of inputs) {
  if (!measured.has(name)) continue;
  const bytes = await readFile(path.join(values.build, `${name}.onnx`));
  const recipe = INT8_RECIPES[name];
  const keepFloat = [...(recipe.keepDepthwise ? depthwiseConvs(onnx.ModelProto.decode(bytes)) : []), ...recipe.keepFloat];
  const ranges = combineRanges(await measureRanges(bytes, itemDims[name], items, new Set(keepFloat)), recipe.share);
  calibrations[name] = { floatSha256: sha256([bytes]), inputs: items.length, share: recipe.share, keepFloat, ranges };
  console.log(`${name}: ${Object.keys(ranges).length} values over ${items.length} inputs, ${keepFloat.length} layers float`);
}
const file: CalibrationFile = {
  formatVersion: 1,
  photos: `${photos.length} LFW train photos (${path.basename(values.root)}; one per person, people shuffled with seed ${values.seed}), a face in ${faces}; ` +
    'inputs as the float pipeline feeds each network (every detector look, every FaceMesh pass, each identity crop, and its mirror image for fr-feature-flip)',
  networks: calibrations,
};
await writeFileAtomic(values.out, `${JSON.stringify(file, null, 1)}\n`);
console.log(`wrote ${values.out}`);
