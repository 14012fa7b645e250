/**
 * Which identity network should feed the regressor? Each candidate is measured on the LFW View 1
 * test pairs with the service's own alignment (BlazeFace, then FaceMesh, then a landmark-relative
 * crop). Each network's crop framing is chosen on pairs of LFW *train* people only; the dev pairs
 * are scored once, at that framing, with and without the mirrored-copy trick. FaceRes on the plain
 * centre crop of ../shared/NOTES-face-networks.md is measured alongside as the reference.
 *   npm run bench:identity -- [--lfw ../shared/datasets/lfw] [--train-pairs 300] [--out docs/identity-networks.json]
 *     [--networks faceres,faceapi-recognition] [--face central|largest] [--sides 3,3.5] [--offsets -0.3,0]
 * Faces are chosen as `face3d eval` chooses them on centred portraits: the detection nearest the
 * image centre (LFW's subject); `--face largest` takes the service's rule instead.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { config } from '../../src/core/config.js';
import { listPeople, samplePairs, type ImagePair } from '../../src/dataset/folder-dataset.js';
import { parseLfwPairs } from '../../src/eval/pairs.js';
import { mirrorCrop, sampleRegion, type SquareRegion } from '../../src/inference/crop.js';
import type { RgbImage } from '../../src/core/image.js';
import { DEFAULT_IDENTITY_FRAMING, identityRegion, type IdentityFraming } from '../../src/inference/identity.js';
import { FEATURE_NETWORKS, featureInput } from '../../src/inference/feature-networks.js';
import { imageDims, wrapNetwork, type ImageNetwork } from '../../src/inference/networks.js';
import { loadModel } from '../../src/inference/onnx-runtime.js';
import { closeFaceNetworks, openFaceNetworks } from '../../src/inference/pipeline.js';
import { inferenceSettings } from '../../src/inference/inference-settings.js';
import { readManifest, type ManifestEntry } from '../tfjs-to-onnx/manifest.js';
import { alignPhotos, photosOf, type AlignedPhoto, type FaceSelection } from './aligned-photos.js';
import {
  averageWithMirror,
  pairsMissingAPhoto,
  scorePairs,
  searchFraming,
  verification,
  type FramingGrid,
  type FramingTrial,
  type Verification,
} from './verification.js';

/** One network's input for a region of a photo, at the network's input size. */
type InputMaker = (image: RgbImage, region: SquareRegion, size: number) => Float32Array;

/** The crop in RGB 0..255, times `scale`. */
function rgbCrop(scale: number): InputMaker {
  return (image, region, size) => {
    const crop = sampleRegion(image, region, size);
    if (scale !== 1) for (let i = 0; i < crop.length; i++) crop[i] *= scale;
    return crop;
  };
}

/** The service's own FaceRes input (the network table's normalisation). */
const faceresInput: InputMaker = (image, region, size) => {
  if (size !== FEATURE_NETWORKS.faceres.inputSize) throw new RangeError(`FaceRes input is ${FEATURE_NETWORKS.faceres.inputSize}, the manifest says ${size}`);
  return featureInput(FEATURE_NETWORKS.faceres, image, region);
};

/** Each network's preprocessing as ../shared/NOTES-face-networks.md found it to work. */
const CANDIDATES: Readonly<Record<string, InputMaker>> = {
  faceres: faceresInput,
  'faceres-deep': faceresInput,
  mobileface: rgbCrop(1),
  mobilefacenet: rgbCrop(1 / 255),
  // face-api's mean subtraction and scaling are inside the converted graph.
  'faceapi-recognition': rgbCrop(1),
};

/** Around the service's FaceRes framing; face-api's dlib crops are known to be tighter. */
const DEFAULT_SIDES = '3.0,3.5,4.06,4.6,5.2';
const DEFAULT_OFFSETS = '-0.55,-0.29,-0.05';

/** The NOTES' centre crop: LFW centres a face box of about 113 px; FaceRes liked it 1.3 times larger, 8 px higher. */
function notesCentreCrop(image: RgbImage): SquareRegion {
  return { centerX: image.width / 2, centerY: image.height / 2 - 8, side: 113 * 1.3, angle: 0 };
}

/** One crop at a time, never waiting for company: the network's own latency. */
const UNBATCHED = { maxBatch: 1, maxDelayMs: 0 };

interface Candidate {
  readonly name: string;
  readonly inputSize: number;
  readonly input: InputMaker;
  readonly network: ImageNetwork;
}

async function openCandidate(entry: ManifestEntry, buildDir: string): Promise<Candidate> {
  const input = CANDIDATES[entry.name];
  const inputSize = Number(entry.input.shape[1]);
  const model = await loadModel(join(buildDir, entry.file), settings.runtime);
  return { name: entry.name, inputSize, input, network: wrapNetwork(entry.name, model, imageDims(inputSize), UNBATCHED) };
}

interface Embeddings {
  readonly plain: Map<string, Float32Array>;
  /** Empty unless mirrors were asked for. */
  readonly mirrored: Map<string, Float32Array>;
  /** Mean time of one network call, crop preparation excluded. */
  readonly msPerCrop: number;
}

/** Photos whose `regionOf` is undefined (no face) get no embedding. */
async function embedPhotos(
  candidate: Candidate,
  photos: ReadonlyMap<string, AlignedPhoto>,
  regionOf: (photo: AlignedPhoto) => SquareRegion | undefined,
  withMirror: boolean,
): Promise<Embeddings> {
  const plain = new Map<string, Float32Array>();
  const mirrored = new Map<string, Float32Array>();
  let inferMs = 0;
  let calls = 0;
  const embed = async (input: Float32Array): Promise<Float32Array> => {
    const started = performance.now();
    const { embedding } = await candidate.network.infer(input);
    inferMs += performance.now() - started;
    calls++;
    return embedding;
  };
  for (const [path, photo] of photos) {
    const region = regionOf(photo);
    if (!region) continue;
    const input = candidate.input(photo.image, region, candidate.inputSize);
    plain.set(path, await embed(input));
    if (withMirror) mirrored.set(path, await embed(mirrorCrop(input, candidate.inputSize)));
  }
  return { plain, mirrored, msPerCrop: inferMs / Math.max(calls, 1) };
}

function landmarkRegion(framing: IdentityFraming): (photo: AlignedPhoto) => SquareRegion | undefined {
  return (photo) => (photo.points ? identityRegion(photo.points, framing) : undefined);
}

interface TestSet {
  readonly pairs: readonly ImagePair[];
  readonly photos: ReadonlyMap<string, AlignedPhoto>;
}

interface DevResult {
  readonly dim: number;
  readonly msPerCrop: number;
  readonly pairsMissingAFace: number;
  readonly plain: Verification;
  readonly mirrored: Verification;
}

async function scoreOnDev(candidate: Candidate, dev: TestSet, regionOf: (photo: AlignedPhoto) => SquareRegion | undefined): Promise<DevResult> {
  const { plain, mirrored, msPerCrop } = await embedPhotos(candidate, dev.photos, regionOf, true);
  return {
    dim: plain.values().next().value?.length ?? 0,
    msPerCrop,
    pairsMissingAFace: pairsMissingAPhoto(dev.pairs, plain),
    plain: verification(scorePairs(dev.pairs, plain)),
    mirrored: verification(scorePairs(dev.pairs, averageWithMirror(plain, mirrored))),
  };
}

interface NetworkResult extends DevResult {
  readonly name: string;
  readonly inputSize: number;
  readonly framing: IdentityFraming;
  readonly trainAccuracy: number;
  readonly framingTrials: readonly FramingTrial[];
}

function log(message: string): void {
  process.stderr.write(`[${(performance.now() / 1000).toFixed(0)} s] ${message}\n`);
}

async function measureNetwork(candidate: Candidate, grid: FramingGrid, train: TestSet, dev: TestSet): Promise<NetworkResult> {
  const search = await searchFraming(grid, async (framing) => {
    const { plain } = await embedPhotos(candidate, train.photos, landmarkRegion(framing), false);
    const { accuracy } = verification(scorePairs(train.pairs, plain));
    log(`${candidate.name} train ${JSON.stringify(framing)}: ${accuracy.toFixed(4)}`);
    return accuracy;
  });
  const devResult = await scoreOnDev(candidate, dev, landmarkRegion(search.best.framing));
  log(`${candidate.name} dev: ${devResult.plain.accuracy.toFixed(4)}, mirrored ${devResult.mirrored.accuracy.toFixed(4)}`);
  return { name: candidate.name, inputSize: candidate.inputSize, framing: search.best.framing, trainAccuracy: search.best.accuracy, framingTrials: search.trials, ...devResult };
}

async function alignTestSets(lfw: string, trainPairsPerKind: number, seed: number, select: FaceSelection): Promise<{ train: TestSet; dev: TestSet }> {
  const devRoot = join(lfw, 'dev');
  const trainRoot = join(lfw, 'train');
  const devPairs = parseLfwPairs(await readFile(join(lfw, 'pairsDevTest.txt'), 'utf8')).pairs;
  const trainPairs = samplePairs(await listPeople(trainRoot), trainPairsPerKind, seed);
  const networks = await openFaceNetworks(settings, FEATURE_NETWORKS.faceres);
  try {
    const dev = { pairs: devPairs, photos: await alignPhotos(devRoot, photosOf(devPairs), networks, select) };
    const train = { pairs: trainPairs, photos: await alignPhotos(trainRoot, photosOf(trainPairs), networks, select) };
    return { train, dev };
  } finally {
    await closeFaceNetworks(networks);
  }
}

function faceless(photos: ReadonlyMap<string, AlignedPhoto>): number {
  return [...photos.values()].filter((photo) => !photo.points).length;
}

const percent = (x: number): string => (100 * x).toFixed(1);
const framingText = (f: IdentityFraming): string => `side ${f.side}, offset ${f.offset}${f.level ? ', levelled' : ''}`;

function markdownTable(results: readonly NetworkResult[], centreCrop: DevResult | undefined): string {
  const row = (name: string, framing: string, train: string, r: DevResult): string =>
    `| ${name} | ${r.dim} | ${framing} | ${train} | ${percent(r.plain.accuracy)} | ${percent(r.plain.tenFoldAccuracy)} ± ${percent(r.plain.tenFoldStandardError)} | ${r.plain.auc.toFixed(4)} | ` +
    `${percent(r.mirrored.accuracy)} | ${percent(r.mirrored.tenFoldAccuracy)} ± ${percent(r.mirrored.tenFoldStandardError)} | ${r.mirrored.auc.toFixed(4)} | ${r.msPerCrop.toFixed(1)} |`;
  return [
    '| network | dim | framing (chosen on train) | train acc. % | dev acc. % | dev 10-fold % | dev AUC | + mirror acc. % | + mirror 10-fold % | + mirror AUC | ms/crop |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...results.map((r) => row(`${r.name} (${r.inputSize}²)`, framingText(r.framing), percent(r.trainAccuracy), r)),
    ...(centreCrop ? [row(`faceres (${FEATURE_NETWORKS.faceres.inputSize}²), NOTES centre crop`, 'side 147 px at (125, 117), no detection', '–', centreCrop)] : []),
  ].join('\n');
}

const { values } = parseArgs({
  options: {
    lfw: { type: 'string', default: '../shared/datasets/lfw' },
    'train-pairs': { type: 'string', default: '300' },
    seed: { type: 'string', default: '7' },
    out: { type: 'string', default: 'docs/identity-networks.json' },
    networks: { type: 'string', default: Object.keys(CANDIDATES).join(',') },
    face: { type: 'string', default: 'central' },
    sides: { type: 'string', default: DEFAULT_SIDES },
    offsets: { type: 'string', default: DEFAULT_OFFSETS },
  },
});
const numbers = (list: string): number[] => list.split(',').map(Number);
const grid: FramingGrid = { start: DEFAULT_IDENTITY_FRAMING, sides: numbers(values.sides), offsets: numbers(values.offsets) };
if (values.face !== 'central' && values.face !== 'largest') throw new Error(`--face must be central or largest, got ${values.face}`);
const select: FaceSelection = values.face;
const lfw = values.lfw;
if (!existsSync(join(lfw, 'pairsDevTest.txt')) || !existsSync(join(lfw, 'train'))) {
  console.log(`skipped: no LFW at ${lfw} (needs pairsDevTest.txt, dev/ and train/)`);
  process.exit(0);
}

const settings = inferenceSettings(config());
const buildDir = join(settings.modelsDir, 'build');
const manifest = await readManifest(buildDir);
const entries = values.networks.split(',').map((name) => {
  if (!CANDIDATES[name]) throw new Error(`unknown network ${name}; the candidates are ${Object.keys(CANDIDATES).join(', ')}`);
  const entry = manifest.models.find((m) => m.name === name);
  if (!entry) throw new Error(`${name} is not in ${buildDir}/manifest.json: run npm run models:build`);
  return entry;
});

const { train, dev } = await alignTestSets(lfw, Number(values['train-pairs']), Number(values.seed), select);
log(`aligned ${dev.photos.size} dev photos (${faceless(dev.photos)} without a face), ${train.photos.size} train photos (${faceless(train.photos)} without a face)`);

const results: NetworkResult[] = [];
let centreCrop: DevResult | undefined;
for (const entry of entries) {
  const candidate = await openCandidate(entry, buildDir);
  results.push(await measureNetwork(candidate, grid, train, dev));
  if (entry.name === 'faceres') centreCrop = await scoreOnDev(candidate, dev, (photo) => notesCentreCrop(photo.image));
  await candidate.network.close();
}

const table = markdownTable(results, centreCrop);
console.log(table);
const machine = { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, onnxThreads: config().threads || 'ONNX Runtime default' };
const report = {
  measured: new Date().toISOString(),
  command: `node dist/tools/identity/compare-networks.js --lfw ${lfw} --train-pairs ${values['train-pairs']} --seed ${values.seed} --networks ${values.networks} --face ${values.face} --sides ${values.sides} --offsets ${values.offsets}`,
  faceSelection: select === 'central' ? 'the detection nearest the image centre (LFW\'s subject, as face3d eval does)' : 'the largest detection (the service\'s rule)',
  machine,
  dev: { pairsFile: 'pairsDevTest.txt', pairs: dev.pairs.length, photos: dev.photos.size, photosWithoutFace: faceless(dev.photos) },
  train: { pairsPerKind: Number(values['train-pairs']), seed: Number(values.seed), photos: train.photos.size, photosWithoutFace: faceless(train.photos) },
  framingGrid: grid,
  networks: results,
  faceresNotesCentreCrop: centreCrop,
  table,
};
await writeFile(values.out, `${JSON.stringify(report, null, 2)}\n`);
log(`wrote ${values.out}`);
