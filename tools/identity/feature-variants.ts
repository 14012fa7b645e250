/**
 * Which identity input should the bundle read? Each dev photo of an extraction (its cached
 * FaceMesh landmarks reused, no detection run again) embedded four ways: fr-feature and FaceRes,
 * each of the face and of its mirror image; then the variants (one network, the mean with the
 * mirror, the two networks side by side with weights) measured where a gallery needs it:
 *  - open-set on the dev people, split as `face3d eval open-set` splits them: rank-1, TPIR at FPIR
 *    1% / 0.1% of the dev strangers, and TPIR/FPIR at the threshold the gallery's size asks for
 *    (FPIR target, Nₑ = N^b), set on impostor pairs of the train people the bundle's regressor
 *    never saw, from train extractions of each network (`--impostors`; variants whose networks
 *    have no train extraction get dev figures only);
 *  - pairsDevTest: TAR at FAR 0.1% (thresholds from the same train impostors);
 *  - train people only (what a choice may rest on): TAR at FAR 1e-5 of every pair of photos of the
 *    same train person, where the extraction holds people with several photos.
 * The raw features, not the regressed vector: the head is retrained for the input that wins.
 *   node dist/tools/identity/feature-variants.js [--dev .cache/extract/dev] [--lfw ../shared/datasets/lfw]
 *     [--impostors fr-feature=.cache/extract/train,fr-feature-flip=.cache/extract/train-flip,faceres=.cache/extract/train-unseen-faceres]
 *     [--cache .cache/variants] [--bundle models/lfw-facemesh-v2]
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { mapConcurrent } from '../../src/core/concurrency.js';
import { l2Normalise } from '../../src/core/vector.js';
import { parseLfwPairs } from '../../src/eval/pairs.js';
import { atFpir, operatingPoint, rank1, splitOpenSet, type OpenSetScores } from '../../src/eval/open-set.js';
import { listPeople } from '../../src/dataset/folder-dataset.js';
import { decodeImage } from '../../src/inference/decode.js';
import { FEATURE_NETWORKS, featureInput, featureRegion, openFeatureNetwork, type FeatureNetwork } from '../../src/inference/feature-networks.js';
import type { BundleManifest } from '../../src/morphable/bundle.js';
import { loadExtraction, POINT_VALUES, type Extraction } from '../extract/cache.js';
import { impostorScoresDescending, scorePairs, tarAtImpostorFar } from './verification.js';

const { values } = parseArgs({
  options: {
    dev: { type: 'string', default: '.cache/extract/dev' },
    lfw: { type: 'string', default: '../shared/datasets/lfw' },
    impostors: { type: 'string', default: 'fr-feature=.cache/extract/train,fr-feature-flip=.cache/extract/train-flip,faceres=.cache/extract/train-unseen-faceres' },
    cache: { type: 'string', default: '.cache/variants' },
    bundle: { type: 'string', default: 'models/lfw-facemesh-v2' },
    'target-fpir': { type: 'string', default: '0.01' },
    exponent: { type: 'string', default: '1.041' },
  },
});

function log(message: string): void {
  process.stderr.write(`[${(performance.now() / 1000).toFixed(0)} s] ${message}\n`);
}

/** The four embeddings of each dev photo, in this order, each its network's raw output. */
const PARTS = [
  { network: 'fr-feature', mirrored: false },
  { network: 'fr-feature', mirrored: true },
  { network: 'faceres', mirrored: false },
  { network: 'faceres', mirrored: true },
] as const;
const DIMS = PARTS.map((p) => FEATURE_NETWORKS[p.network].dim);
const STRIDE = DIMS.reduce((a, b) => a + b, 0);
const OFFSETS = DIMS.map((_, i) => DIMS.slice(0, i).reduce((a, b) => a + b, 0));

/** Embeds every face of the dev extraction four ways (cached in `--cache`), reading photos from `root`. */
async function embedDev(extraction: Extraction, root: string): Promise<Float32Array> {
  const file = join(values.cache!, 'dev.f32');
  if (existsSync(file)) {
    const bytes = await readFile(file);
    return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  }
  const networks = new Map<string, FeatureNetwork>();
  for (const name of ['fr-feature', 'faceres'] as const) networks.set(name, await openFeatureNetwork(FEATURE_NETWORKS[name]));
  const out = new Float32Array(extraction.faces.length * STRIDE);
  await mapConcurrent(extraction.faces, 4, async (face, row) => {
    const image = await decodeImage(await readFile(join(root, face.path)));
    const points = extraction.points.subarray(row * POINT_VALUES, (row + 1) * POINT_VALUES);
    for (const [part, { network, mirrored }] of PARTS.entries()) {
      const identity = networks.get(network)!;
      const input = featureInput(identity.spec, image, featureRegion(identity.spec, points), mirrored);
      out.set((await identity.network.infer(input))[identity.spec.output], row * STRIDE + OFFSETS[part]);
    }
  });
  await Promise.all([...networks.values()].map((n) => n.network.close()));
  await mkdir(values.cache!, { recursive: true });
  await writeFile(file, out);
  return out;
}

/** A network's unit vector, or with `flip` the normalised sum of the face's and its mirror's, as the table's flip entries compute it. */
interface Part {
  readonly network: 'fr-feature' | 'faceres';
  readonly flip: boolean;
  readonly weight: number;
}

interface Variant {
  readonly name: string;
  readonly parts: readonly Part[];
}

function devUnit(values: Float32Array, row: number, part: number): Float32Array {
  return l2Normalise(values.slice(row * STRIDE + OFFSETS[part], row * STRIDE + OFFSETS[part] + DIMS[part]));
}

function devPart(values: Float32Array, row: number, { network, flip }: Part): Float32Array {
  const plain = PARTS.findIndex((p) => p.network === network && !p.mirrored);
  if (!flip) return devUnit(values, row, plain);
  const mirrored = devUnit(values, row, plain + 1);
  return l2Normalise(devUnit(values, row, plain).map((v, i) => v + mirrored[i]));
}

/** Unit parts weighted (√w, so that cosines add with weights w) side by side, normalised. */
function joinParts(parts: readonly Part[], units: readonly Float32Array[]): Float32Array {
  const joined = new Float32Array(units.reduce((n, u) => n + u.length, 0));
  let offset = 0;
  units.forEach((unit, i) => {
    joined.set(unit.map((v) => v * Math.sqrt(parts[i].weight)), offset);
    offset += unit.length;
  });
  return l2Normalise(joined);
}

/** The table name of the train extraction a part is read from. */
function extractionName(part: Part): string {
  return part.flip ? `${part.network}-flip` : part.network;
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Share of the pairs of photos of one person scoring above the impostor score exceeded by `far` of the impostors. */
function samePersonTar(vectors: readonly Float32Array[], people: readonly string[], impostors: Float32Array, far: number): number | undefined {
  const threshold = impostors[Math.floor(far * impostors.length)];
  let genuine = 0;
  let accepted = 0;
  for (let a = 0; a < vectors.length; a++) {
    for (let b = a + 1; b < vectors.length && people[b] === people[a]; b++) {
      genuine++;
      if (dot(vectors[a], vectors[b]) > threshold) accepted++;
    }
  }
  return genuine > 0 ? accepted / genuine : undefined;
}

const manifest = JSON.parse(await readFile(join(values.bundle!, 'manifest.json'), 'utf8')) as BundleManifest;
const seen = new Set((manifest.training?.regressor as { rowGroups?: string[] } | undefined)?.rowGroups ?? []);
const lfw = values.lfw!;
const devExtraction = await loadExtraction(values.dev!);
const devValues = await embedDev(devExtraction, join(lfw, 'dev'));
log(`dev: ${devExtraction.faces.length} faces`);
const trainExtractions = new Map<string, Extraction>();
for (const entry of values.impostors!.split(',')) {
  const [name, dir] = entry.split('=');
  if (!existsSync(dir)) continue;
  const extraction = await loadExtraction(dir);
  if (extraction.featureNetwork !== name) throw new Error(`${dir} holds ${extraction.featureNetwork} features, not ${name}`);
  trainExtractions.set(name, extraction);
}

/** Train vectors of a variant over the photos every extraction it needs holds, in dataset order, with their people. */
function trainVectors(variant: Variant): { vectors: Float32Array[]; people: string[] } | undefined {
  const extractions = variant.parts.map((part) => trainExtractions.get(extractionName(part)));
  if (extractions.some((e) => !e)) return undefined;
  const rows = extractions.map((e) => new Map(e!.faces.map((f, row) => [f.path, row])));
  const faces = extractions[0]!.faces.filter((f) => rows.every((r) => r.has(f.path)));
  const vectors = faces.map((face) => joinParts(variant.parts, extractions.map((e, i) => {
    const row = rows[i].get(face.path)!;
    return l2Normalise(e!.features.slice(row * e!.featureDim, (row + 1) * e!.featureDim));
  })));
  return { vectors, people: faces.map((f) => f.person) };
}

/** The train photos of people the regressor saw (people with several photos): the genuine pairs of a choice made on train people. */
function seenOnly(train: { vectors: Float32Array[]; people: string[] }): [Float32Array[], string[]] {
  const kept = train.vectors.map((v, i) => i).filter((i) => seen.has(train.people[i]));
  return [kept.map((i) => train.vectors[i]), kept.map((i) => train.people[i])];
}

const split = splitOpenSet(await listPeople(join(lfw, 'dev')));
const devPairs = parseLfwPairs(await readFile(join(lfw, 'pairsDevTest.txt'), 'utf8')).pairs;
const gallerySize = split.mated.length + split.distractors.length;
const pairFar = -Math.expm1(Math.log1p(-Number(values['target-fpir'])) / gallerySize ** Number(values.exponent));

const fr = (flip: boolean, weight = 1): Part => ({ network: 'fr-feature', flip, weight });
const faceres = (flip: boolean, weight = 1): Part => ({ network: 'faceres', flip, weight });
const variants: Variant[] = [
  { name: 'fr-feature', parts: [fr(false)] },
  { name: 'fr-feature, flip', parts: [fr(true)] },
  { name: 'faceres', parts: [faceres(false)] },
  { name: 'faceres, flip', parts: [faceres(true)] },
  ...[0.5, 0.7].flatMap((w) => [
    { name: `fr-feature ${w} + faceres ${(1 - w).toFixed(1)}`, parts: [fr(false, w), faceres(false, 1 - w)] },
    { name: `fr-feature ${w}, flip + faceres ${(1 - w).toFixed(1)}`, parts: [fr(true, w), faceres(false, 1 - w)] },
    { name: `fr-feature ${w} + faceres ${(1 - w).toFixed(1)}, both flip`, parts: [fr(true, w), faceres(true, 1 - w)] },
  ]),
];

const fixed = (x: number | undefined, digits = 3): string => (x === undefined ? '–' : x.toFixed(digits));
console.log(`gallery ${gallerySize} templates, ${split.mated.length} mated probes, ${split.strangers.length} strangers; per-pair FAR for FPIR ${values['target-fpir']} (Nₑ = N^${values.exponent}): ${pairFar.toExponential(2)}`);
console.log('| input | train same-person TAR @ FAR 1e-5 | pairsDevTest TAR @ FAR 0.1% | rank-1 | TPIR @ FPIR 1% | TPIR @ FPIR 0.1% | train threshold | its FPIR (named) | its TPIR |');
console.log('|---|---|---|---|---|---|---|---|---|');
const rows = [];
for (const variant of variants) {
  const train = trainVectors(variant);
  const unseen = train ? train.vectors.map((v, i) => [v, train.people[i]] as const).filter(([, person]) => !seen.has(person)) : [];
  const impostors = train ? impostorScoresDescending(unseen.map(([v]) => v), unseen.map(([, p]) => p)) : undefined;
  const devVectors = new Map(devExtraction.faces.map((face, row) => [face.path, joinParts(variant.parts, variant.parts.map((part) => devPart(devValues, row, part)))]));
  const gallery = [...split.mated.map((m) => [m.person, m.enrolled] as const), ...split.distractors.map((d) => [d.person, d.enrolled] as const)]
    .filter(([, path]) => devVectors.has(path))
    .map(([person, path]) => ({ person, vector: devVectors.get(path)! }));
  const best = (path: string): { score: number; person?: string } => {
    const probe = devVectors.get(path);
    let top: { score: number; person?: string } = { score: -Infinity };
    if (probe) for (const g of gallery) {
      const s = dot(probe, g.vector);
      if (s > top.score) top = { score: s, person: g.person };
    }
    return top;
  };
  const scores: OpenSetScores = {
    mated: split.mated.map((m) => {
      const top = best(m.probe);
      return { score: top.score, correct: top.person === m.person };
    }),
    nonMated: split.strangers.map((s) => best(s.probe).score),
  };
  const threshold = impostors ? impostors[Math.floor(pairFar * impostors.length)] : undefined;
  const atThreshold = threshold === undefined ? undefined : operatingPoint(scores, threshold);
  const row = {
    input: variant.name,
    trainPairs: impostors?.length,
    sameTrainPersonTarAtFar1e5: train && impostors ? samePersonTar(...seenOnly(train), impostors, 1e-5) : undefined,
    pairsDevTestTarAtFar01: impostors ? tarAtImpostorFar(scorePairs(devPairs, devVectors), impostors, 0.001).tar : undefined,
    rank1: rank1(scores),
    tpirAtFpir1: atFpir(scores, 0.01).tpir,
    tpirAtFpir01: atFpir(scores, 0.001).tpir,
    threshold,
    fpirAtThreshold: atThreshold?.fpir,
    tpirAtThreshold: atThreshold?.tpir,
  };
  rows.push(row);
  const named = row.fpirAtThreshold === undefined ? '–' : `${row.fpirAtThreshold.toFixed(4)} (${Math.round(row.fpirAtThreshold * split.strangers.length)})`;
  console.log(`| ${row.input} | ${fixed(row.sameTrainPersonTarAtFar1e5)} | ${fixed(row.pairsDevTestTarAtFar01)} | ${fixed(row.rank1)} | ${fixed(row.tpirAtFpir1)} | ${fixed(row.tpirAtFpir01)} | ${fixed(row.threshold)} | ${named} | ${fixed(row.tpirAtThreshold)} |`);
}

await writeFile(join(values.cache!, 'variants.json'), `${JSON.stringify({ gallerySize, strangers: split.strangers.length, pairFar, rows }, null, 2)}\n`);
log(`wrote ${join(values.cache!, 'variants.json')}`);
