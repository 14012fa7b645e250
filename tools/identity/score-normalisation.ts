/**
 * Does normalising a probe's scores against a cohort of strangers help open-set identification?
 * Each probe's scores are compared with its scores against a cohort (one photo each of LFW train
 * people the bundle's regressor never saw): T-norm subtracts the mean of its top K cohort scores (a
 * probe that looks like many people scores high against everyone, strangers included), the
 * adaptive variants also divide by their spread, and a symmetric one subtracts half the probe's
 * and half the template's offsets. Measured with the bundle's regressed vectors from extraction
 * caches:
 *  - TRAIN (what a choice may rest on): the held-out people are split at random into the cohort and
 *    the rest; galleries shaped like `face3d eval open-set`'s on LFW dev (418 mated people enrolled
 *    with their first photo and probed with their second — train people the regressor saw, the only
 *    ones with two photos — plus 272 distractors of the rest) are drawn `--draws` times, every other
 *    held-out person of the rest is a stranger; TPIR at FPIR 1% / 0.1% averaged over draws, and the
 *    threshold at which the pooled strangers are named at FPIR 1% (the train-calibrated threshold);
 *  - DEV (reported, never chosen on): `face3d eval open-set`'s split of the dev people, the same
 *    cohort, rank-1, TPIR at FPIR 1% / 0.1% of the dev strangers and FPIR/TPIR at the train threshold.
 *   node dist/tools/identity/score-normalisation.js [--bundle models/lfw-facemesh-v2] [--train .cache/extract/train]
 *     [--dev .cache/extract/dev] [--lfw ../shared/datasets/lfw] [--draws 20] [--seed 29] [--json .cache/eval/score-normalisation.json]
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { dotProduct, l2Normalise } from '../../src/core/vector.js';
import { atFpir, operatingPoint, rank1, splitOpenSet, type OpenSetScores } from '../../src/eval/open-set.js';
import { NO_FACE_SCORE } from '../../src/eval/metrics.js';
import { listPeople } from '../../src/dataset/folder-dataset.js';
import { loadModel } from '../../src/inference/onnx-runtime.js';
import { inferenceSettings } from '../../src/inference/inference-settings.js';
import { config } from '../../src/core/config.js';
import type { BundleManifest } from '../../src/morphable/bundle.js';
import { mulberry32, shuffleInPlace } from '../../src/training/random.js';
import { loadExtraction, type Extraction } from '../extract/cache.js';

const { values } = parseArgs({
  options: {
    bundle: { type: 'string', default: 'models/lfw-facemesh-v2' },
    train: { type: 'string', default: '.cache/extract/train' },
    dev: { type: 'string', default: '.cache/extract/dev' },
    lfw: { type: 'string', default: '../shared/datasets/lfw' },
    draws: { type: 'string', default: '20' },
    seed: { type: 'string', default: '29' },
    'cohort-share': { type: 'string', default: '0.5' },
    json: { type: 'string', default: '.cache/eval/score-normalisation.json' },
  },
});

const MATED = 418;
const DISTRACTORS = 272;
const KS = [10, 50, 100, 200, 400];

const manifest = JSON.parse(await readFile(join(values.bundle!, 'manifest.json'), 'utf8')) as BundleManifest;
const regressor = manifest.regressor;
if (!regressor) throw new Error(`${values.bundle} has no regressor`);
const seen = new Set((manifest.training?.regressor as { rowGroups?: string[] } | undefined)?.rowGroups ?? []);
const head = await loadModel(join(values.bundle!, regressor.file), inferenceSettings(config()).runtime);

/** Every face of an extraction through the bundle's head, as unit vectors. */
async function regressed(extraction: Extraction): Promise<Float32Array[]> {
  if (extraction.featureNetwork !== regressor!.featureNetwork) throw new Error(`the extraction holds ${extraction.featureNetwork} features, the regressor reads ${regressor!.featureNetwork}`);
  const n = extraction.faces.length;
  const { coefficients } = await head.run({ features: { data: extraction.features, dims: [n, regressor!.inputDim] } });
  const k = regressor!.outputDim;
  return Array.from({ length: n }, (_, i) => l2Normalise(coefficients.data.subarray(i * k, (i + 1) * k) as Float32Array));
}

/** A vector's scores against the cohort, highest first. */
function cohortScores(vector: Float32Array, cohort: readonly Float32Array[]): Float64Array {
  return Float64Array.from(cohort, (c) => dotProduct(vector, c)).sort().reverse();
}

interface CohortStats {
  /** Mean and standard deviation of the top K cohort scores, for each K of KS. */
  readonly top: ReadonlyMap<number, { mean: number; std: number }>;
  readonly all: { mean: number; std: number };
}

function meanStd(scores: Float64Array): { mean: number; std: number } {
  let sum = 0;
  let squares = 0;
  for (const s of scores) {
    sum += s;
    squares += s * s;
  }
  const mean = sum / scores.length;
  return { mean, std: Math.sqrt(Math.max(1e-12, squares / scores.length - mean * mean)) };
}

function statsOf(vector: Float32Array, cohort: readonly Float32Array[]): CohortStats {
  const scores = cohortScores(vector, cohort);
  return { top: new Map(KS.map((k) => [k, meanStd(scores.subarray(0, k))])), all: meanStd(scores) };
}

/** How a raw score s of probe p against template g becomes the score compared with a threshold. */
interface Variant {
  readonly name: string;
  readonly score: (s: number, probe: CohortStats, template: CohortStats) => number;
  /** Whether the template's statistics enter (then the best template can change). */
  readonly symmetric?: boolean;
}

const variants: Variant[] = [
  { name: 'raw', score: (s) => s },
  ...KS.map((k): Variant => ({ name: `T-norm, K ${k}: s − μ_K`, score: (s, p) => s - p.top.get(k)!.mean })),
  ...[50, 200, 400].map((k): Variant => ({ name: `adaptive T-norm, K ${k}: (s − μ_K) / σ_K`, score: (s, p) => (s - p.top.get(k)!.mean) / p.top.get(k)!.std })),
  { name: 'T-norm, whole cohort: (s − μ) / σ', score: (s, p) => (s - p.all.mean) / p.all.std },
  { name: 'symmetric, K 200: s − (μ_K(p) + μ_K(g)) / 2', score: (s, p, g) => s - (p.top.get(200)!.mean + g.top.get(200)!.mean) / 2, symmetric: true },
];

interface Template {
  readonly person: string;
  readonly vector: Float32Array;
  readonly stats: CohortStats;
}

interface ProbeFace {
  readonly person: string;
  readonly vector: Float32Array | undefined;
  readonly stats: CohortStats | undefined;
}

/** The probe's best template by raw score (a per-probe transformation is increasing, so it stays the best), or by a symmetric variant's score. */
function bestTemplate(probe: ProbeFace, gallery: readonly Template[], variant?: Variant): { score: number; template?: Template } {
  let top: { score: number; template?: Template } = { score: -Infinity };
  for (const g of gallery) {
    const raw = dotProduct(probe.vector!, g.vector);
    const s = variant ? variant.score(raw, probe.stats!, g.stats) : raw;
    if (s > top.score) top = { score: s, template: g };
  }
  return top;
}

/** Each variant's open-set scores of `mated` and `strangers` probes against `gallery`. */
function openSetScores(gallery: readonly Template[], mated: readonly ProbeFace[], strangers: readonly ProbeFace[]): Map<string, OpenSetScores> {
  const rawBest = new Map([...mated, ...strangers].filter((p) => p.vector).map((p) => [p, bestTemplate(p, gallery)]));
  const best = (probe: ProbeFace, variant: Variant): { score: number; person?: string } => {
    if (!probe.vector || !probe.stats) return { score: NO_FACE_SCORE };
    if (variant.symmetric) {
      const top = bestTemplate(probe, gallery, variant);
      return { score: top.score, person: top.template!.person };
    }
    const { score, template } = rawBest.get(probe)!;
    return { score: variant.score(score, probe.stats, template!.stats), person: template!.person };
  };
  return new Map(variants.map((variant) => [variant.name, {
    mated: mated.map((probe) => {
      const top = best(probe, variant);
      return { score: top.score, correct: top.person === probe.person };
    }),
    nonMated: strangers.map((probe) => best(probe, variant).score),
  }]));
}

const started = performance.now();
const trainExtraction = await loadExtraction(values.train!);
const trainVectors = await regressed(trainExtraction);
const random = mulberry32(Number(values.seed));

// Held-out people (one photo each): the cohort, and the rest as distractors and strangers.
const heldOut = trainExtraction.faces.map((f, row) => ({ person: f.person, vector: trainVectors[row] })).filter((f) => !seen.has(f.person));
shuffleInPlace(heldOut, random);
const cohortSize = Math.round(Number(values['cohort-share']) * heldOut.length);
const cohort = heldOut.slice(0, cohortSize).map((f) => f.vector);
const rest = heldOut.slice(cohortSize);
const withStats = <T extends { vector: Float32Array }>(f: T): T & { stats: CohortStats } => ({ ...f, stats: statsOf(f.vector, cohort) });
const restFaces = rest.map(withStats);

// Seen people with two photos or more: enrolled with their first, probed with their second.
const photosOf = new Map<string, Float32Array[]>();
trainExtraction.faces.forEach((f, row) => {
  if (seen.has(f.person)) photosOf.set(f.person, [...(photosOf.get(f.person) ?? []), trainVectors[row]]);
});
const twoPhotos = [...photosOf].filter(([, photos]) => photos.length >= 2).map(([person, photos]) => ({
  enrolled: withStats({ person, vector: photos[0] }),
  probe: withStats({ person, vector: photos[1] }),
}));
process.stderr.write(`train: ${heldOut.length} held-out people (cohort ${cohort.length}, rest ${rest.length}), ${twoPhotos.length} seen people with two photos; ${((performance.now() - started) / 1000).toFixed(0)} s\n`);

interface Figures {
  tpirAtFpir1: number;
  tpirAtFpir01: number;
  rank1: number;
}
const draws = Number(values.draws);
const trainFigures = new Map(variants.map((v) => [v.name, [] as Figures[]]));
const pooledStrangers = new Map(variants.map((v) => [v.name, [] as number[]]));
for (let draw = 0; draw < draws; draw++) {
  const mated = [...twoPhotos];
  shuffleInPlace(mated, random);
  mated.length = Math.min(MATED, mated.length);
  const others = [...restFaces];
  shuffleInPlace(others, random);
  const gallery = [...mated.map((m) => m.enrolled), ...others.slice(0, DISTRACTORS)];
  const scores = openSetScores(gallery, mated.map((m) => m.probe), others.slice(DISTRACTORS));
  for (const [name, s] of scores) {
    trainFigures.get(name)!.push({ tpirAtFpir1: atFpir(s, 0.01).tpir, tpirAtFpir01: atFpir(s, 0.001).tpir, rank1: rank1(s) });
    pooledStrangers.get(name)!.push(...s.nonMated);
  }
}
/** The threshold at which the pooled train strangers are named at FPIR 1%. */
const trainThreshold = new Map([...pooledStrangers].map(([name, strangers]) => [name, atFpir({ mated: [], nonMated: strangers }, 0.01).threshold]));

// Dev: `face3d eval open-set`'s split, the same cohort.
const devExtraction = await loadExtraction(values.dev!);
const devVectors = await regressed(devExtraction);
const devByPath = new Map(devExtraction.faces.map((f, row) => [f.path, devVectors[row]]));
const devFace = (person: string, path: string): ProbeFace => {
  const vector = devByPath.get(path);
  return { person, vector, stats: vector && statsOf(vector, cohort) };
};
const split = splitOpenSet(await listPeople(join(values.lfw!, 'dev')));
const devGallery = [...split.mated.map((m) => devFace(m.person, m.enrolled)), ...split.distractors.map((d) => devFace(d.person, d.enrolled))]
  .filter((f): f is Template => f.vector !== undefined);
const devScores = openSetScores(devGallery, split.mated.map((m) => devFace(m.person, m.probe)), split.strangers.map((s) => devFace(s.person, s.probe)));

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
/** Mean and standard error over the draws of a variant's figure minus raw's in the same draw. */
function pairedGain(name: string, figure: keyof Figures): { mean: number; standardError: number } {
  const raw = trainFigures.get('raw')!;
  const gains = trainFigures.get(name)!.map((f, i) => f[figure] - raw[i][figure]);
  const m = mean(gains);
  return { mean: m, standardError: Math.sqrt(gains.reduce((a, g) => a + (g - m) ** 2, 0) / Math.max(1, gains.length - 1) / gains.length) };
}
const rows = variants.map((variant) => {
  const train = trainFigures.get(variant.name)!;
  const dev = devScores.get(variant.name)!;
  const threshold = trainThreshold.get(variant.name)!;
  const atThreshold = operatingPoint(dev, threshold);
  return {
    variant: variant.name,
    train: {
      tpirAtFpir1: mean(train.map((f) => f.tpirAtFpir1)),
      tpirAtFpir01: mean(train.map((f) => f.tpirAtFpir01)),
      rank1: mean(train.map((f) => f.rank1)),
      gainAtFpir1: pairedGain(variant.name, 'tpirAtFpir1'),
      gainAtFpir01: pairedGain(variant.name, 'tpirAtFpir01'),
      threshold,
    },
    dev: {
      rank1: rank1(dev),
      tpirAtFpir1: atFpir(dev, 0.01).tpir,
      tpirAtFpir01: atFpir(dev, 0.001).tpir,
      atTrainThreshold: { fpir: atThreshold.fpir, named: dev.nonMated.filter((s) => s >= threshold).length, tpir: atThreshold.tpir },
    },
  };
});

const f3 = (x: number): string => x.toFixed(3);
console.log(`train: ${draws} galleries of ${Math.min(MATED, twoPhotos.length)} mated + ${DISTRACTORS} distractors, ${rest.length - DISTRACTORS} strangers each; cohort ${cohort.length} held-out people`);
console.log(`dev: ${devGallery.length} templates, ${split.mated.length} mated probes, ${split.strangers.length} strangers`);
console.log('| score | train TPIR @ FPIR 1% (gain ± s.e.) | train TPIR @ FPIR 0.1% (gain ± s.e.) | train threshold (FPIR 1%) | dev rank-1 | dev TPIR @ FPIR 1% | dev TPIR @ FPIR 0.1% | dev at train threshold: named (FPIR) | TPIR |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  const d = r.dev;
  const gain = (g: { mean: number; standardError: number }): string => `${g.mean >= 0 ? '+' : '−'}${f3(Math.abs(g.mean))} ± ${f3(g.standardError)}`;
  console.log(`| ${r.variant} | ${f3(r.train.tpirAtFpir1)} (${gain(r.train.gainAtFpir1)}) | ${f3(r.train.tpirAtFpir01)} (${gain(r.train.gainAtFpir01)}) | ${r.train.threshold.toFixed(4)} | ${f3(d.rank1)} | ${f3(d.tpirAtFpir1)} | ${f3(d.tpirAtFpir01)} | ${d.atTrainThreshold.named} (${(100 * d.atTrainThreshold.fpir).toFixed(2)}%) | ${f3(d.atTrainThreshold.tpir)} |`);
}
await mkdir(dirname(values.json!), { recursive: true });
await writeFile(values.json!, `${JSON.stringify({ cohort: cohort.length, draws, rows }, null, 2)}\n`);
process.stderr.write(`wrote ${values.json} in ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
