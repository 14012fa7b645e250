/**
 * int8 recipes for the detector (BlazeFace) and FaceMesh against their float files, side by side in
 * one run (docs/BENCHMARKS.md §41). Ranges are measured on what the float pipeline feeds each
 * network on LFW *train* photos (calibrate.ts's inputs); parity is read on LFW *dev* photos with the
 * issue's bars (tools/quantize/parity.ts: IoU of the largest face's box ≥ 0.95; the landmarks of
 * both FaceMesh passes from the float detector's box within 0.5 px on average); speed is CPU ms per
 * image at batch 1, one intra-op thread, `all` level, alternating rounds (cpu-time.ts).
 *   node dist/tools/quantize/image-variants.js [--photos 300] [--dev-photos 200] [--rounds 9]
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import onnxPkg from 'onnx-proto';
import { config } from '../../src/core/config.js';
import { listPeople } from '../../src/dataset/folder-dataset.js';
import { decodeImage } from '../../src/inference/decode.js';
import { DETECTOR_INPUT_SIZE } from '../../src/inference/detector.js';
import { FEATURE_NETWORKS } from '../../src/inference/feature-networks.js';
import { inferenceSettings } from '../../src/inference/inference-settings.js';
import { LANDMARK_INPUT_SIZE } from '../../src/inference/landmarks.js';
import { imageDims, type NetworkName } from '../../src/inference/networks.js';
import { analysePhoto, closeFaceNetworks, openFaceNetworks } from '../../src/inference/pipeline.js';
import { combineRanges, measureRanges } from './calibration.js';
import { cpuTimes } from './cpu-time.js';
import { openPair, PARITY_BARS, photoParity, summarise, type NetworkPair, type PhotoParity } from './parity.js';
import { depthwiseConvs, quantiseQdq } from './qdq.js';
import { choosePhotos, recording } from './train-inputs.js';

const { onnx } = onnxPkg;

const { values } = parseArgs({
  options: {
    train: { type: 'string', default: '../shared/datasets/lfw/train' },
    dev: { type: 'string', default: '../shared/datasets/lfw/dev' },
    photos: { type: 'string', default: '300' },
    'dev-photos': { type: 'string', default: '200' },
    seed: { type: 'string', default: '16' },
    rounds: { type: 'string', default: '9' },
  },
});
for (const root of [values.train, values.dev]) if (!existsSync(root)) throw new Error(`no photos at ${root}`);

type ImageNetworkName = Extract<NetworkName, 'blazeface' | 'facemesh'>;
const DIMS: Readonly<Record<ImageNetworkName, readonly number[]>> = { blazeface: imageDims(DETECTOR_INPUT_SIZE), facemesh: imageDims(LANDMARK_INPUT_SIZE) };

/** Every detector look and FaceMesh pass of the float pipeline on the calibration's train photos. */
async function trainInputs(): Promise<Record<ImageNetworkName, Float32Array[]>> {
  const inputs: Record<ImageNetworkName, Float32Array[]> = { blazeface: [], facemesh: [] };
  const floatNetworks = await openFaceNetworks({ ...inferenceSettings(config()), batching: { maxBatch: 1, maxDelayMs: 0 }, precision: 'fp32' }, FEATURE_NETWORKS['fr-feature']);
  const networks = { ...floatNetworks, detector: recording(floatNetworks.detector, inputs.blazeface), landmarks: recording(floatNetworks.landmarks, inputs.facemesh) };
  for (const file of await choosePhotos(values.train, Number(values.photos), Number(values.seed))) await analysePhoto(networks, await readFile(file));
  await closeFaceNetworks(floatNetworks);
  return inputs;
}

interface Recipe {
  readonly label: string;
  readonly share: number;
  readonly depthwiseFloat: boolean;
}

const RECIPES: readonly Recipe[] = [
  { label: 'every layer int8, plain extremes (models:build)', share: 1, depthwiseFloat: false },
  { label: 'every layer int8, ranges at the 0.99 share', share: 0.99, depthwiseFloat: false },
  { label: 'depthwise float, plain extremes', share: 1, depthwiseFloat: true },
];

const train = await trainInputs();
const devPaths = (await listPeople(values.dev)).flatMap((person) => person.images.map((image) => path.join(values.dev, image)));
const step = Math.max(1, Math.floor(devPaths.length / Number(values['dev-photos'])));
const devImages = await Promise.all(devPaths.filter((_, i) => i % step === 0).slice(0, Number(values['dev-photos'])).map(async (file) => decodeImage(await readFile(file))));
const scratch = mkdtempSync(path.join(tmpdir(), 'face3d-int8-'));
const loadBefore = loadavg();
const rows: string[] = [];
try {
  for (const name of ['blazeface', 'facemesh'] as const) {
    const floatBytes = new Uint8Array(await readFile(path.join(config().modelsDir, 'build', `${name}.onnx`)));
    const depthwise = new Set(depthwiseConvs(onnx.ModelProto.decode(floatBytes)));
    const built = await Promise.all(RECIPES.map(async (recipe) => {
      const keepFloat = recipe.depthwiseFloat ? depthwise : new Set<string>();
      const model = onnx.ModelProto.decode(floatBytes);
      quantiseQdq(model, combineRanges(await measureRanges(floatBytes, DIMS[name], train[name], keepFloat), recipe.share), keepFloat);
      return onnx.ModelProto.encode(model).finish();
    }));
    const [floatMs, ...int8Ms] = await cpuTimes([floatBytes, ...built], train[name][0], [1, ...DIMS[name]], Number(values.rounds));
    const [detectorFloat, landmarksFloat] = await Promise.all([openPair('blazeface', DIMS.blazeface), openPair('facemesh', DIMS.facemesh)]);
    for (const [i, recipe] of RECIPES.entries()) {
      const file = path.join(scratch, `${name}-${i}.onnx`);
      writeFileSync(file, built[i]);
      const pair = await openPair(name, DIMS[name], undefined, file);
      // The network under test in int8; the other one float on both sides, so it moves nothing.
      const same = (p: NetworkPair): NetworkPair => ({ float: p.float, int8: p.float });
      const networks = { detector: name === 'blazeface' ? pair : same(detectorFloat), landmarks: name === 'facemesh' ? pair : same(landmarksFloat), identities: [] };
      const results: PhotoParity[] = [];
      for (const image of devImages) {
        const parity = await photoParity(networks, image);
        if (parity) results.push(parity);
      }
      await Promise.all([pair.float.close(), pair.int8.close()]);
      const measure = name === 'blazeface' ? results.map((r) => r.boxIou) : results.map((r) => r.landmarkMeanPx);
      const meets = name === 'blazeface' ? measure.filter((v) => v >= PARITY_BARS.boxIou) : measure.filter((v) => v <= PARITY_BARS.landmarkPx);
      const s = summarise(measure);
      const digits = name === 'blazeface' ? 3 : 2;
      rows.push(`| ${name} | ${recipe.label} | ${((100 * meets.length) / measure.length).toFixed(1)}% of ${measure.length} | ${s.median.toFixed(digits)} | ${(name === 'blazeface' ? s.min : s.max).toFixed(digits)} | ${floatMs.toFixed(2)} | ${int8Ms[i].toFixed(2)} | ${(int8Ms[i] / floatMs).toFixed(2)} |`);
    }
    await Promise.all([detectorFloat, landmarksFloat].flatMap((p) => [p.float.close(), p.int8.close()]));
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
console.log(`int8 recipes for the detector and FaceMesh against float: ranges on ${values.photos} LFW train photos (${train.blazeface.length} detector looks, ${train.facemesh.length} FaceMesh passes), parity on ${devImages.length} LFW dev photos; ` +
  `CPU ms per image, batch 1, one thread, \`all\`, median of ${values.rounds} alternating rounds; load average ${loadBefore.map((l) => l.toFixed(1)).join(' ')} before, ${loadavg().map((l) => l.toFixed(1)).join(' ')} after\n`);
console.log(`| network | recipe | dev photos within the bar (box IoU ≥ ${PARITY_BARS.boxIou}; mean landmark distance ≤ ${PARITY_BARS.landmarkPx} px) | median | worst | float CPU ms | int8 CPU ms | ÷ float |`);
console.log('|---|---|---|---:|---:|---:|---:|---:|');
for (const row of rows) console.log(row);
