/**
 * The regressed vector, its input features and both controls, from extraction caches, at the false
 * accepts a gallery meets: TAR on the LFW dev pairs at the thresholds that give FAR 1% and 0.1% on
 * MANY impostor pairs of LFW train people the regressor never saw (not on the test pairs' 500),
 * 10-fold accuracy, and rank-1 of `face3d eval identify`'s protocol (one gallery photo per person).
 * Every vector comes from the same cached features, so the four are compared on identical faces.
 *   node dist/tools/eval/train-far.js [--bundle models/lfw-facemesh-v2] [--train .cache/extract/train]
 *     [--dev .cache/extract/dev] [--pairs ../shared/datasets/lfw/pairsDevTest.txt] [--identify identify-dev.tsv]
 * (`npm run train:extract -- --root ../shared/datasets/lfw/dev` makes the dev cache.)
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseIdentifyList, parseLfwPairs } from '../../src/eval/pairs.js';
import { identificationRates, NO_FACE_SCORE, tenFoldAccuracy } from '../../src/eval/metrics.js';
import { randomProjection } from '../../src/eval/embedding-source.js';
import { cosineSimilarity, l2Normalise } from '../../src/core/vector.js';
import { loadModel } from '../../src/inference/onnx-runtime.js';
import { inferenceSettings } from '../../src/inference/inference-settings.js';
import { config } from '../../src/core/config.js';
import type { BundleManifest } from '../../src/morphable/bundle.js';
import { loadExtraction, type Extraction } from '../extract/cache.js';
import { impostorScoresDescending, scorePairs, tarAtImpostorFar } from '../identity/verification.js';

const { values } = parseArgs({
  options: {
    bundle: { type: 'string', default: 'models/lfw-facemesh-v2' },
    train: { type: 'string', default: '.cache/extract/train' },
    dev: { type: 'string', default: '.cache/extract/dev' },
    pairs: { type: 'string', default: '../shared/datasets/lfw/pairsDevTest.txt' },
    identify: { type: 'string' },
  },
});
const bundle = values.bundle!;
const manifest = JSON.parse(await readFile(join(bundle, 'manifest.json'), 'utf8')) as BundleManifest;
const regressor = manifest.regressor;
if (!regressor) throw new Error(`${bundle} has no regressor`);
const seen = new Set((manifest.training?.regressor as { rowGroups?: string[] } | undefined)?.rowGroups ?? []);

type VectorMaker = (features: Float32Array[]) => Promise<Float32Array[]>;

function headOf(file: string): VectorMaker {
  return async (features) => {
    const model = await loadModel(join(bundle, file), inferenceSettings(config()).runtime);
    const data = new Float32Array(features.length * regressor!.inputDim);
    features.forEach((f, i) => data.set(f, i * regressor!.inputDim));
    const { coefficients } = await model.run({ features: { data, dims: [features.length, regressor!.inputDim] } });
    const k = regressor!.outputDim;
    return features.map((_, i) => Float32Array.from(coefficients.data.subarray(i * k, (i + 1) * k)));
  };
}

const project = randomProjection(regressor.inputDim, regressor.outputDim);
const VECTORS: Readonly<Record<string, VectorMaker>> = {
  regressed: headOf(regressor.file),
  'identity features': async (features) => features,
  'control: random projection': async (features) => features.map(project),
  'control: shuffled labels': headOf('regressor-control-shuffled-labels.onnx'),
};

function rowsOf(extraction: Extraction): { path: string; person: string; features: Float32Array }[] {
  const d = extraction.featureDim;
  return extraction.faces.map((face, row) => ({ path: face.path, person: face.person, features: extraction.features.slice(row * d, (row + 1) * d) }));
}

const train = rowsOf(await loadExtraction(values.train!)).filter((r) => !seen.has(r.person));
const dev = rowsOf(await loadExtraction(values.dev!));
const pairs = parseLfwPairs(await readFile(values.pairs!, 'utf8')).pairs;
const identify = values.identify ? parseIdentifyList(await readFile(values.identify, 'utf8')) : undefined;
console.log(`impostors: ${train.length} photos of ${new Set(train.map((r) => r.person)).size} train people the regressor never saw; ${pairs.length} dev pairs`);
console.log('| vector | 10-fold accuracy | TAR @ FAR 1% | TAR @ FAR 0.1% | threshold @ 0.1% | rank-1 |');
console.log('|---|---|---|---|---|---|');
for (const [name, make] of Object.entries(VECTORS)) {
  const trainVectors = (await make(train.map((r) => r.features))).map(l2Normalise);
  const descending = impostorScoresDescending(trainVectors, train.map((r) => r.person));
  const devVectors = new Map((await make(dev.map((r) => r.features))).map((v, i) => [dev[i].path, l2Normalise(v)]));
  const scored = scorePairs(pairs, devVectors);
  let rank1 = '–';
  if (identify) {
    const gallery = identify.filter((e) => e.role === 'gallery');
    const probes = identify.filter((e) => e.role === 'probe');
    const similarity = { rows: probes.length, cols: gallery.length, data: new Float32Array(probes.length * gallery.length) };
    probes.forEach((p, i) => gallery.forEach((g, j) => {
      const a = devVectors.get(p.image);
      const b = devVectors.get(g.image);
      similarity.data[i * gallery.length + j] = a && b ? cosineSimilarity(a, b) : NO_FACE_SCORE;
    }));
    rank1 = identificationRates(similarity, probes.map((p) => p.subject), gallery.map((g) => g.subject)).rank1.toFixed(3);
  }
  const tenFold = tenFoldAccuracy(scored);
  const [far1, far01] = [tarAtImpostorFar(scored, descending, 0.01), tarAtImpostorFar(scored, descending, 0.001)];
  console.log(`| ${name} | ${tenFold.mean.toFixed(3)} ± ${tenFold.std.toFixed(3)} | ${far1.tar.toFixed(3)} | ${far01.tar.toFixed(3)} | ${far01.threshold.toFixed(4)} | ${rank1} |`);
}
