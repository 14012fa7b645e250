/**
 * Calibrates a bundle's "same person" threshold at a stated false-accept rate, on impostor pairs of
 * LFW *train* people the regressor never saw (people with one photo are left out of its labels), so
 * the threshold is neither fitted to the training people nor to the evaluation pairs.
 *   npm run train:calibrate -- [--bundle models/lfw-facemesh] [--extraction .cache/extract/train] [--far 0.001]
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadModel } from '../../src/inference/onnx-runtime.js';
import { writeManifest, type BundleManifest } from '../../src/morphable/bundle.js';
import { cosineSimilarity } from '../../src/gallery/similarity.js';
import { mulberry32, randomInt } from '../../src/training/random.js';
import { loadExtraction, FEATURE_DIM } from '../extract/cache.js';
import { loadLabels } from '../bundle/labels.js';

const { values } = parseArgs({
  options: {
    bundle: { type: 'string', default: 'models/lfw-facemesh' },
    extraction: { type: 'string', default: '.cache/extract/train' },
    labels: { type: 'string' },
    far: { type: 'string', default: '0.001' },
    pairs: { type: 'string', default: '200000' },
  },
});
const manifest = JSON.parse(await readFile(join(values.bundle!, 'manifest.json'), 'utf8')) as BundleManifest;
if (!manifest.regressor) throw new Error('the bundle has no regressor: run npm run train:regressor first');
const labels = await loadLabels(values.labels ?? join('.cache', 'labels', `${manifest.id}.json`));
const seen = new Set(labels.labels.map((l) => l.person));
const extraction = await loadExtraction(values.extraction!);
const rows = extraction.faces.map((f, row) => ({ f, row })).filter(({ f }) => !seen.has(f.person));

const features = new Float32Array(rows.length * FEATURE_DIM);
rows.forEach(({ row }, i) => features.set(extraction.features.subarray(row * FEATURE_DIM, (row + 1) * FEATURE_DIM), i * FEATURE_DIM));
const head = await loadModel(join(values.bundle!, manifest.regressor.file));
const { coefficients } = await head.run({ features: { data: features, dims: [rows.length, FEATURE_DIM] } });
const k = manifest.regressor.outputDim;
const vector = (i: number) => coefficients.data.subarray(i * k, (i + 1) * k);

// Random pairs of different unseen people: the impostor score distribution.
const random = mulberry32(4242);
const scores: number[] = [];
for (let n = 0; n < Number(values.pairs); n++) {
  const a = randomInt(random, rows.length);
  const b = randomInt(random, rows.length);
  if (rows[a].f.person !== rows[b].f.person) scores.push(cosineSimilarity(vector(a), vector(b)));
}
scores.sort((x, y) => y - x);
const far = Number(values.far);
const threshold = scores[Math.floor(far * scores.length)];
const people = new Set(rows.map((r) => r.f.person)).size;
await writeManifest(values.bundle!, {
  ...manifest,
  calibration: {
    threshold,
    falseAcceptRate: far,
    measuredOn: `${scores.length} impostor pairs of ${people} LFW train people the regressor never saw (photo vs photo)`,
  },
});
console.log(`threshold ${threshold.toFixed(4)} at FAR ${far} (${scores.length} impostor pairs, ${people} people)`);
