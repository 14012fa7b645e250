/**
 * int8 recipes for one identity network, side by side in one run (docs/BENCHMARKS.md §34, §41): which
 * layers stay float and which share of the calibration extremes sets the ranges. Each recipe is
 * quantised in memory from models/build/<network>.onnx with ranges measured on LFW *train* crops (and
 * their mirror images, as tools/quantize/calibrate.ts feeds them), then compared with the float
 * network on train crops (where recipes are chosen) and on dev crops (the parity the issue asks:
 * cosine ≥ 0.995), and timed: CPU milliseconds per face at batch 1, one intra-op thread, `all`
 * level, in alternating rounds (CPU time, not wall time, so a loaded machine skews it less).
 *   node dist/tools/quantize/variants.js [--network fr-feature] [--photos 300] [--rounds 9] [--sensitivity]
 * The first row is models:build's recipe (INT8_RECIPES). --sensitivity also quantises §26's recipe
 * with each further layer left float, one at a time, and adds it with the six that helped most on
 * train (how models:build's fr-feature recipe was found).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import onnxPkg from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { config } from '../../src/core/config.js';
import { cosineSimilarity } from '../../src/core/vector.js';
import { listPeople } from '../../src/dataset/folder-dataset.js';
import { FEATURE_NETWORKS, featureInput, featureInputDims, featureRegion, isFeatureNetworkName } from '../../src/inference/feature-networks.js';
import { inferenceSettings } from '../../src/inference/inference-settings.js';
import { analysePhoto, closeFaceNetworks, openFaceNetworks } from '../../src/inference/pipeline.js';
import { combineRanges, INT8_RECIPES, measureRanges, type RangeSamples } from './calibration.js';
import { depthwiseConvs, quantiseQdq } from './qdq.js';
import { cpuTimes, openSession } from './cpu-time.js';
import { PARITY_BARS } from './parity.js';

const { onnx } = onnxPkg;

const { values } = parseArgs({
  options: {
    network: { type: 'string', default: 'fr-feature' },
    train: { type: 'string', default: '../shared/datasets/lfw/train' },
    dev: { type: 'string', default: '../shared/datasets/lfw/dev' },
    photos: { type: 'string', default: '300' },
    rounds: { type: 'string', default: '9' },
    sensitivity: { type: 'boolean', default: false },
  },
});
if (!isFeatureNetworkName(values.network)) throw new Error(`unknown identity network ${values.network}`);
for (const root of [values.train, values.dev]) if (!existsSync(root)) throw new Error(`no photos at ${root}`);
const spec = FEATURE_NETWORKS[values.network];
const itemDims = featureInputDims(spec);

/** The crops the float pipeline feeds the network: every k-th photo of `root`, `count` in all. */
async function crops(root: string, count: number, mirrored: boolean): Promise<Float32Array[]> {
  const paths = (await listPeople(root)).flatMap((person) => person.images.map((image) => path.join(root, image)));
  const step = Math.max(1, Math.floor(paths.length / count));
  const networks = await openFaceNetworks({ ...inferenceSettings(config()), batching: { maxBatch: 1, maxDelayMs: 0 }, precision: 'fp32' }, spec);
  const items: Float32Array[] = [];
  for (const file of paths.filter((_, i) => i % step === 0).slice(0, count)) {
    const { image, faces: [face] } = await analysePhoto(networks, await readFile(file));
    if (!face) continue;
    const region = featureRegion(spec, face.landmarks.points);
    items.push(featureInput(spec, image, region));
    if (mirrored) items.push(featureInput(spec, image, region, true));
  }
  await closeFaceNetworks(networks);
  return items;
}

async function embed(bytes: Uint8Array, items: readonly Float32Array[]): Promise<Float32Array[]> {
  const s = await openSession(bytes);
  const out: Float32Array[] = [];
  for (const item of items) out.push((await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', item, [1, ...itemDims]) }))[spec.output].data as Float32Array);
  await s.release();
  return out;
}

interface Agreement {
  readonly share: number;
  readonly min: number;
  readonly median: number;
}

function agreement(a: readonly Float32Array[], b: readonly Float32Array[]): Agreement {
  const cosines = a.map((v, i) => cosineSimilarity(v, b[i])).sort((x, y) => x - y);
  return { share: cosines.filter((c) => c >= PARITY_BARS.cosine).length / cosines.length, min: cosines[0], median: cosines[cosines.length >> 1] };
}

const floatBytes = new Uint8Array(await readFile(path.join(config().modelsDir, 'build', `${spec.model}.onnx`)));
const floatModel = onnx.ModelProto.decode(floatBytes);
const nodes = floatModel.graph!.node ?? [];
const count = Number(values.photos);
const [train, dev] = [await crops(values.train, count, true), await crops(values.dev, count, false)];
// Ranges of every value any recipe quantises: those of the recipe that leaves nothing float (a recipe
// whose float layer ends a Relu chain would need more; quantiseQdq names any range it lacks).
const samples: ReadonlyMap<string, RangeSamples> = await measureRanges(floatBytes, itemDims, train, new Set());
const [floatTrain, floatDev] = [await embed(floatBytes, train), await embed(floatBytes, dev)];

interface Recipe {
  readonly label: string;
  readonly keepFloat: ReadonlySet<string>;
  readonly share: number;
}

function quantise(recipe: Recipe): Uint8Array {
  const model = onnx.ModelProto.decode(floatBytes);
  quantiseQdq(model, combineRanges(samples, recipe.share), recipe.keepFloat);
  return onnx.ModelProto.encode(model).finish();
}

const depthwise = depthwiseConvs(floatModel);
const adds = nodes.filter((node) => node.opType === 'Add').map((node) => node.output![0]);
// The first convolution and the last pointwise one: the recipe of §26–§34, where the sensitivity search starts.
const ends = ['518', '659'].filter((name) => nodes.some((node) => node.output![0] === name));
const base: Recipe = { label: 'depthwise, first and last pointwise float; share 0.9 (§26–§34)', keepFloat: new Set([...depthwise, ...ends]), share: 0.9 };
const buildRecipe = INT8_RECIPES[spec.model];
const served: Recipe[] = buildRecipe
  ? [{ label: `${spec.model}'s recipe (models:build, calibration.ts)`, keepFloat: new Set([...(buildRecipe.keepDepthwise ? depthwise : []), ...buildRecipe.keepFloat]), share: buildRecipe.share }]
  : [];
const recipes: Recipe[] = [
  ...served,
  base,
  ...[0.8, 0.85, 0.95, 1].map((share) => ({ ...base, label: `the same, share ${share}`, share })),
  { label: 'the same and the residual Adds float; share 0.9', keepFloat: new Set([...base.keepFloat, ...adds]), share: 0.9 },
  { label: 'the same and the residual Adds float; share 0.85', keepFloat: new Set([...base.keepFloat, ...adds]), share: 0.85 },
  { label: 'depthwise int8 too (first and last pointwise float); share 0.9', keepFloat: new Set(ends), share: 0.9 },
  { label: 'every convolution int8; share 0.9', keepFloat: new Set(), share: 0.9 },
];
if (values.sensitivity) {
  const convs = nodes.filter((node) => node.opType === 'Conv' && !base.keepFloat.has(node.output![0])).map((node) => node.output![0]);
  const gains: Array<{ layer: string; share: number; min: number }> = [];
  for (const layer of convs) {
    const { share, min } = agreement(await embed(quantise({ ...base, keepFloat: new Set([...base.keepFloat, layer]) }), train), floatTrain);
    gains.push({ layer, share, min });
  }
  const best = gains.sort((a, b) => b.share - a.share || b.min - a.min).slice(0, 6).map((g) => g.layer);
  console.log(`train share ≥ ${PARITY_BARS.cosine} with one more layer float: ${gains.map((g) => `${g.layer} ${g.share.toFixed(3)}`).join(', ')}`);
  recipes.push({ label: `§26's and the 6 most sensitive on train (${best.join(', ')}) float; share 0.9`, keepFloat: new Set([...base.keepFloat, ...best]), share: 0.9 });
}

const quantised = recipes.map(quantise);
const rows: string[] = [];
for (const [i, recipe] of recipes.entries()) {
  const [t, d] = [agreement(await embed(quantised[i], train), floatTrain), agreement(await embed(quantised[i], dev), floatDev)];
  rows.push(`| ${recipe.label} | ${(100 * t.share).toFixed(1)}% / ${t.min.toFixed(4)} | ${(100 * d.share).toFixed(1)}% / ${d.min.toFixed(4)} / ${d.median.toFixed(4)}`);
}
const [floatMs, ...int8Ms] = await cpuTimes([floatBytes, ...quantised], dev[0], [1, ...itemDims], Number(values.rounds));
console.log(`${spec.model} int8 recipes against float: ${train.length} train crops (with mirrors), ${dev.length} dev crops; float ${floatMs.toFixed(2)} CPU ms/face\n`);
console.log(`| recipe | train: cosine ≥ ${PARITY_BARS.cosine} / min | dev: cosine ≥ ${PARITY_BARS.cosine} / min / median | CPU ms/face | ÷ float |`);
console.log('|---|---|---|---:|---:|');
rows.forEach((row, i) => console.log(`${row} | ${int8Ms[i].toFixed(2)} | ${(int8Ms[i] / floatMs).toFixed(2)} |`));
