/**
 * Calibrates a bundle's decision on LFW *train* people the regressor never saw (the manifest's
 * training.regressor.rowGroups name those it trained on; a labels file may be given instead), so
 * the calibration is fitted neither to the training people nor to the evaluation people:
 *  - every pair of photos of different held-out people (millions) gives the impostor curve FAR(t),
 *    measured down to the score `--min-pairs` pairs exceed; beyond, where counts run out, a
 *    generalised Pareto fit of the top `--tail` share of pairs models it;
 *  - galleries of N held-out people, each person in turn the stranger, give max-over-N scores, which
 *    check FPIR(t, N) = 1 − (1 − FAR(t))^N and fit the exponent b of Nₑ = N^b that corrects it;
 *  - the curve the service uses is an upper confidence bound of FAR (`--bound` quantile of
 *    `--resamples` bootstraps of the held-out people, from FAR `--bound-from` down): deep in the
 *    tail a few lookalike people make most pairs, and the estimate alone lets a gallery name more
 *    strangers than the target whenever other people are a little more alike (`--bound 0` keeps
 *    the estimate);
 *  - the per-pair threshold at `--far` is kept for readers of older manifests.
 * Writes `calibration` into the manifest. Takes a few seconds once the extraction exists.
 *   npm run train:calibrate -- [--bundle models/lfw-facemesh-v2] [--extraction .cache/extract/train] [--far 0.001] [--tail 0.001] [--min-pairs 25]
 *       [--bound 0.95] [--resamples 1000] [--bound-from 0.01]
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadModel } from '../../src/inference/onnx-runtime.js';
import { inferenceSettings } from '../../src/inference/inference-settings.js';
import { config } from '../../src/core/config.js';
import { writeManifest, type BundleManifest, type GalleryCheck } from '../../src/morphable/bundle.js';
import { l2Normalise } from '../../src/core/vector.js';
import {
  falseAcceptRate,
  falsePositiveIdentificationRate,
  fitParetoTail,
  fitTemplateExponent,
  measuredCurve,
  thresholdForFpir,
  upperBoundCurve,
  type ImpostorPair,
  type ImpostorCurve,
  type ScalingObservation,
} from '../../src/training/impostor-tail.js';
import { mulberry32, randomInt, type Random } from '../../src/training/random.js';
import { loadExtraction } from '../extract/cache.js';
import { loadLabels } from '../bundle/labels.js';

const { values } = parseArgs({
  options: {
    bundle: { type: 'string', default: 'models/lfw-facemesh-v2' },
    extraction: { type: 'string', default: '.cache/extract/train' },
    labels: { type: 'string' },
    far: { type: 'string', default: '0.001' },
    tail: { type: 'string', default: '0.001' },
    'min-pairs': { type: 'string', default: '25' },
    trials: { type: 'string', default: '40000' },
    bound: { type: 'string', default: '0.95' },
    resamples: { type: 'string', default: '1000' },
    'bound-from': { type: 'string', default: '0.01' },
    seed: { type: 'string', default: '4242' },
  },
});
const started = Date.now();
const manifest = JSON.parse(await readFile(join(values.bundle!, 'manifest.json'), 'utf8')) as BundleManifest;
const regressor = manifest.regressor;
if (!regressor) throw new Error('the bundle has no regressor: run npm run train:regressor first');

/** The people the regressor was trained (or early-stopped) on. */
async function seenPeople(): Promise<Set<string>> {
  if (values.labels) return new Set((await loadLabels(values.labels)).labels.map((l) => l.person));
  const rowGroups = (manifest.training?.regressor as { rowGroups?: string[] } | undefined)?.rowGroups;
  if (rowGroups) return new Set(rowGroups);
  return new Set((await loadLabels(join('.cache', 'labels', `${manifest.id}.json`))).labels.map((l) => l.person));
}

const seen = await seenPeople();
const extraction = await loadExtraction(values.extraction!);
const inputDim = regressor.inputDim;
if (extraction.featureNetwork !== regressor.featureNetwork || extraction.featureDim !== inputDim) {
  throw new Error(`${values.extraction} holds ${extraction.featureNetwork} features (${extraction.featureDim}), the regressor reads ${regressor.featureNetwork} (${inputDim}): extract again with this bundle's network`);
}
const rows = extraction.faces.map((f, row) => ({ person: f.person, row })).filter(({ person }) => !seen.has(person));
const features = new Float32Array(rows.length * inputDim);
rows.forEach(({ row }, i) => features.set(extraction.features.subarray(row * inputDim, (row + 1) * inputDim), i * inputDim));
const head = await loadModel(join(values.bundle!, regressor.file), inferenceSettings(config()).runtime);
const { coefficients } = await head.run({ features: { data: features, dims: [rows.length, inputDim] } });
const k = regressor.outputDim;
const units = rows.map((_, i) => l2Normalise(coefficients.data.subarray(i * k, (i + 1) * k) as Float32Array));

// Every pair of photos of different people: the impostor scores, and the matrix the galleries draw from.
const count = rows.length;
const similarity = new Float32Array(count * count);
const impostorScores: number[] = [];
for (let a = 0; a < count; a++) {
  for (let b = a + 1; b < count; b++) {
    let dot = 0;
    for (let j = 0; j < k; j++) dot += units[a][j] * units[b][j];
    similarity[a * count + b] = similarity[b * count + a] = dot;
    if (rows[a].person !== rows[b].person) impostorScores.push(dot);
  }
}
const descending = Float32Array.from(impostorScores).sort().reverse();
const independent = measuredCurve(descending, Number(values.tail), Number(values['min-pairs']));
const { tail } = independent;

/** One photo per person: galleries of distinct people. */
const representatives = [...new Map(rows.map((r, i) => [r.person, i])).values()];

/** For `trials` strangers (each person in turn), the best score against a gallery of `templates` other people drawn at random. */
function galleryMaxima(templates: number, trials: number, random: Random): Float32Array {
  const people = representatives.length;
  const others = new Int32Array(people - 1);
  const maxima = new Float32Array(trials);
  for (let t = 0; t < trials; t++) {
    const stranger = t % people;
    for (let i = 0, j = 0; i < people; i++) if (i !== stranger) others[j++] = i;
    let best = -Infinity;
    const row = representatives[stranger] * count;
    for (let i = 0; i < templates; i++) {
      const pick = i + randomInt(random, others.length - i);
      [others[i], others[pick]] = [others[pick], others[i]];
      const score = similarity[row + representatives[others[i]]];
      if (score > best) best = score;
    }
    maxima[t] = best;
  }
  return maxima;
}

function shareAtLeast(scores: Float32Array, threshold: number): number {
  let hits = 0;
  for (const score of scores) if (score >= threshold) hits++;
  return hits / scores.length;
}

const random = mulberry32(Number(values.seed));
const trials = Number(values.trials);
const sizes = [10, 30, 100, 300, 1000, 3000, 10000].filter((n) => n < representatives.length);
sizes.push(representatives.length - 1);
const targets = [0.1, 0.03, 0.01, 0.003, 0.001];
const maxima = new Map(sizes.map((n) => [n, galleryMaxima(n, trials, random)]));
const observations: ScalingObservation[] = [];
for (const [n, scores] of maxima) {
  for (const target of targets) {
    const threshold = thresholdForFpir(independent, target, n);
    const fpir = shareAtLeast(scores, threshold);
    // The operating range (targets of 1% and below; above it strangers' scores are visibly not
    // independent and the formula overestimates FPIR, which errs on the safe side), with enough
    // strangers named for the rate to mean something.
    if (target <= 0.01 && fpir * trials >= 20) observations.push({ templates: n, falseAcceptRate: falseAcceptRate(independent, threshold), fpir });
  }
}
const estimate: ImpostorCurve = { ...independent, templateExponent: fitTemplateExponent(observations) };

/** Every impostor pair scoring at least `score`, highest first, with its people's indices. */
function pairsAbove(score: number): ImpostorPair[] {
  const personIndex = new Map([...new Set(rows.map((r) => r.person))].map((person, i) => [person, i]));
  const pairs: ImpostorPair[] = [];
  for (let a = 0; a < count; a++) {
    for (let b = a + 1; b < count; b++) {
      const s = similarity[a * count + b];
      if (s >= score && rows[a].person !== rows[b].person) pairs.push({ score: s, a: personIndex.get(rows[a].person)!, b: personIndex.get(rows[b].person)! });
    }
  }
  return pairs.sort((x, y) => y.score - x.score);
}

const boundQuantile = Number(values.bound);
const photosPerPerson = [...rows.reduce((m, r) => m.set(r.person, (m.get(r.person) ?? 0) + 1), new Map<string, number>()).values()];
const curve: ImpostorCurve = boundQuantile > 0
  ? upperBoundCurve(estimate, pairsAbove(descending[Math.floor(Number(values['bound-from']) * descending.length)]), photosPerPerson, {
      quantile: boundQuantile,
      resamples: Number(values.resamples),
      random: mulberry32(Number(values.seed) + 1),
    })
  : estimate;
const galleryCheck: GalleryCheck[] = [];
for (const [n, scores] of maxima) {
  for (const target of targets) {
    const threshold = thresholdForFpir(curve, target, n);
    galleryCheck.push({
      templates: n,
      targetFpir: target,
      threshold,
      independentFpir: falsePositiveIdentificationRate(independent, threshold, n),
      predictedFpir: falsePositiveIdentificationRate(curve, threshold, n),
      simulatedFpir: shareAtLeast(scores, threshold),
      trials,
    });
  }
}

const far = Number(values.far);
const threshold = descending[Math.floor(far * descending.length)];
const people = new Set(rows.map((r) => r.person)).size;
await writeManifest(values.bundle!, {
  ...manifest,
  calibration: {
    threshold,
    falseAcceptRate: far,
    measuredOn: `${descending.length} impostor pairs of ${people} LFW train people the regressor never saw (photo vs photo); galleries of up to ${sizes.at(-1)} of them, ${trials} strangers each`,
    impostors: curve,
    galleryCheck,
  },
});
console.log(`per-pair threshold ${threshold.toFixed(4)} at FAR ${far} (${descending.length} impostor pairs, ${people} people)`);
console.log(
  `tail: GPD fitted on the ${tail.exceedances} pairs above ${(tail.fittedAbove ?? tail.threshold).toFixed(4)}, shape ${tail.shape.toFixed(4)}; ` +
    `measured down to ${tail.threshold.toFixed(4)} (FAR ${tail.exceedanceRate.toExponential(2)}), the GPD beyond (scale there ${tail.scale.toFixed(4)})`,
);
// The fit alone, from where it starts, against rates measured deeper in the tail.
const fitOnly: ImpostorCurve = { ...estimate, tail: fitParetoTail(descending, Number(values.tail)) };
for (const rate of [1e-4, 1e-5, 1e-6]) {
  const rank = Math.floor(rate * descending.length);
  if (rank < 1) continue;
  const score = descending[rank];
  console.log(`  FAR ${rate.toExponential(0)} (${rank} pairs): measured score ${score.toFixed(4)}; FAR there by the GPD fit alone ${falseAcceptRate(fitOnly, score).toExponential(2)}, by the curve ${falseAcceptRate(estimate, score).toExponential(2)}${curve.bound ? `, its upper bound ${falseAcceptRate(curve, score).toExponential(2)}` : ''}`);
}
console.log(`Nₑ = N^${curve.templateExponent.toFixed(4)} (fitted on ${observations.length} simulated operating points)`);
if (curve.bound) {
  console.log(`upper bound: the ${curve.bound.quantile} quantile of ${curve.bound.resamples} bootstraps of ${curve.bound.people} people from FAR ${curve.bound.from.toExponential(2)} down; at most ${curve.bound.largestRatio.toFixed(2)}x the estimate`);
  for (const n of [10, 100, 300, 690, 1000, 2853]) console.log(`  threshold for FPIR 1% at ${n} templates: estimate ${thresholdForFpir(estimate, 0.01, n).toFixed(4)}, bound ${thresholdForFpir(curve, 0.01, n).toFixed(4)}`);
}
console.log('templates\ttarget FPIR\tthreshold\tFPIR if independent\tFPIR simulated');
for (const c of galleryCheck) console.log(`${c.templates}\t${c.targetFpir}\t${c.threshold.toFixed(4)}\t${c.independentFpir.toFixed(4)}\t${c.simulatedFpir.toFixed(4)}`);
console.log(`${((Date.now() - started) / 1000).toFixed(1)} s`);
