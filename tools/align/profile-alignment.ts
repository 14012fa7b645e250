/**
 * Alignments of turned faces measured on CFP's frontal–profile pairs (issue 13): today's five-point
 * similarity against pose-aware variants, each photo detected and landmarked once (cached), then
 * re-cropped per variant and embedded by the bundle's identity network; the raw features and the
 * bundle's regressed vector are scored with `face3d eval verify`'s 10-fold protocol. Also: how far
 * FaceMesh's points fall from CFP's 30 hand-marked ones on frontal and profile photos, and the yaw
 * estimates' spread per view. A variant changes only faces whose estimated |yaw| reaches its gate;
 * the others keep today's crop (the count of frontal photos it touched is printed).
 *   node dist/tools/align/profile-alignment.js --round 1|2|3 [--cfp ../shared/datasets/cfp] [--gate 25]
 *     [--cache .cache/align] [--bundle models/lfw-facemesh-v2] [--ict ../shared/models3d/ict-facekit]
 *     [--points-from .cache/fusion] [--json .cache/align/variants.json] [--diagnostics-only]
 * Faces are gated by FaceMesh's own yaw (turned-reference.ts), degrees. Variants are chosen by
 * leaving one CFP fold out (the best of the other four, scored on it); the CFP marks ("oracle") are
 * never chosen, they bound what better landmarks could give.
 */
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { config } from '../../src/core/config.js';
import type { Point2, RgbImage } from '../../src/core/image.js';
import { mapConcurrent } from '../../src/core/concurrency.js';
import { cosineSimilarity, l2Normalise } from '../../src/core/vector.js';
import { areaUnderCurve, bestThresholdAccuracy, accuracyAt, NO_FACE_SCORE, tarAtFar, tenFoldAccuracy, type ScoredPair } from '../../src/eval/metrics.js';
import type { SquareRegion } from '../../src/inference/crop.js';
import { decodeImage } from '../../src/inference/decode.js';
import { bundleFeatureNetwork, featureInput, featureRegion, openFeatureNetwork } from '../../src/inference/feature-networks.js';
import { fivePointsFromFaceMesh } from '../../src/inference/five-point.js';
import { inferenceSettings } from '../../src/inference/inference-settings.js';
import { wrapNetwork } from '../../src/inference/networks.js';
import { loadModel } from '../../src/inference/onnx-runtime.js';
import { closeFaceNetworks, openFaceNetworks } from '../../src/inference/pipeline.js';
import { loadBundle } from '../../src/morphable/bundle.js';
import { CFP_POINT_COUNT, CFP_TO_DLIB68 } from '../../src/morphable/cfp-markup.js';
import { FACEMESH_TO_DLIB68, facemeshToDlib68 } from '../../src/morphable/facemesh-dlib68.js';
import { loadIctFaceKit } from '../../src/morphable/ict-facekit.js';
import { FACEMESH_MIRROR } from '../../src/morphable/facemesh-topology.js';
import { fitPose } from '../../src/morphable/fit.js';
import { cfpPairs } from '../eval/cfp-protocol.js';
import { POINT_VALUES } from '../extract/cache.js';
import { landmarkedPoints, photosOf } from '../identity/aligned-photos.js';
import { faceMeshYaw, markupFace, REFERENCE_SIDES_DEPTH, turnableReference, turnedFaceRegion, type ReferencePoint3 } from './turned-reference.js';

const { values } = parseArgs({
  options: {
    cfp: { type: 'string', default: '../shared/datasets/cfp' },
    cache: { type: 'string', default: '.cache/align' },
    ict: { type: 'string', default: '../shared/models3d/ict-facekit' },
    bundle: { type: 'string', default: 'models/lfw-facemesh-v2' },
    'points-from': { type: 'string' },
    json: { type: 'string', default: '.cache/align/variants.json' },
    'diagnostics-only': { type: 'boolean', default: false },
    gate: { type: 'string', default: '25' },
    round: { type: 'string', default: '1' },
  },
});
const root = values.cfp!;

function log(message: string): void {
  process.stderr.write(`[${(performance.now() / 1000).toFixed(0)} s] ${message}\n`);
}

const DEGREES = Math.PI / 180;
const pairs = await cfpPairs(root, 'FP', ['01', '02', '03', '04', '05']);
const photos = photosOf(pairs);
const rowOf = new Map(photos.map((path, row) => [path, row]));
const isProfile = photos.map((path) => path.includes('/profile/'));

// ---- FaceMesh points of the face nearest the centre, once ----
async function readFloats(file: string): Promise<Float32Array> {
  const bytes = await readFile(file);
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
}

async function facePoints(): Promise<Float32Array> {
  const file = join(values.cache!, 'cfp.points.f32');
  const list = join(values.cache!, 'cfp.json');
  await mkdir(values.cache!, { recursive: true });
  if (!existsSync(file) && values['points-from']) {
    // Another tool's cache of the same photos (fusion.ts's, the same detection and landmark stages).
    const from = JSON.parse(await readFile(join(values['points-from'], 'cfp.json'), 'utf8')) as { paths: string[] };
    if (from.paths.length !== photos.length || from.paths.some((p, i) => p !== photos[i])) throw new Error(`${values['points-from']}/cfp.json lists other photos`);
    await copyFile(join(values['points-from'], 'cfp.points.f32'), file);
    await writeFile(list, JSON.stringify({ paths: photos }));
  }
  if (existsSync(file)) return readFloats(file);
  const networks = await openFaceNetworks(inferenceSettings(config()));
  const points = await landmarkedPoints(root, photos, networks, 'central', (done) => log(`landmarks: ${done} of ${photos.length}`));
  await closeFaceNetworks(networks);
  await writeFile(file, points);
  await writeFile(list, JSON.stringify({ paths: photos }));
  return points;
}

const allPoints = await facePoints();
const pointsOf = (row: number): Float32Array | undefined => {
  const p = allPoints.subarray(row * POINT_VALUES, (row + 1) * POINT_VALUES);
  return Number.isNaN(p[0]) ? undefined : p;
};

// ---- CFP's hand-marked points ----
async function fiducials(path: string): Promise<Float64Array> {
  const file = path.replace('Data/Images/', 'Data/Fiducials/').replace(/\.jpg$/, '.txt');
  const numbers = (await readFile(join(root, file), 'utf8')).split(/[\s,]+/).filter((t) => t !== '').map(Number);
  if (numbers.length !== 2 * CFP_POINT_COUNT) throw new Error(`${file}: ${numbers.length / 2} points`);
  return Float64Array.from(numbers);
}
const marked = await Promise.all(photos.map(fiducials));

const cfpPoint = (m: Float64Array, i: number): Point2 => ({ x: m[2 * i], y: m[2 * i + 1] });
const cfpMean = (m: Float64Array, indices: readonly number[]): Point2 => ({
  x: indices.reduce((s, i) => s + m[2 * i], 0) / indices.length,
  y: indices.reduce((s, i) => s + m[2 * i + 1], 0) / indices.length,
});
const CFP_JAW = [0, 1, 2, 3, 4, 5, 6, 7];
const CFP_EYE = [12, 13, 14, 15, 16, 17];
const CFP_NOSE_TIP = 21;
const CFP_MOUTH_CORNER = 25;
const CFP_CHIN = 8;
/** Whether the marked half is the subject's right (a profile shows it with the nose to the image's right): its jaw lies left of the nose tip. */
const marksSubjectRight = (m: Float64Array): boolean => cfpMean(m, CFP_JAW).x < cfpPoint(m, CFP_NOSE_TIP).x;

// ---- FaceMesh against the marked points ----
/** FaceMesh's estimate of CFP point i of the marked half (the subject's right, or mirrored to the left). */
function meshAtCfp(points: Float32Array, cfpIndex: number, subjectRight: boolean): Point2 {
  const source = FACEMESH_TO_DLIB68[CFP_TO_DLIB68[cfpIndex]];
  let x = 0, y = 0;
  for (const v of source) {
    const vertex = subjectRight ? v : FACEMESH_MIRROR[v];
    x += points[3 * vertex];
    y += points[3 * vertex + 1];
  }
  return { x: x / source.length, y: y / source.length };
}

const distance = (a: Point2, b: Point2): number => Math.hypot(a.x - b.x, a.y - b.y);
const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const quantile = (xs: readonly number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

interface LandmarkError {
  readonly eye: number;
  readonly noseTip: number;
  readonly mouthCorner: number;
  readonly chin: number;
  readonly rigid: number;
}

/** Errors in units of the marked eye-to-mouth-corner distance, which a turn barely changes. */
function landmarkError(points: Float32Array, m: Float64Array): LandmarkError {
  const right = marksSubjectRight(m);
  const unit = distance(cfpMean(m, CFP_EYE), cfpPoint(m, CFP_MOUTH_CORNER));
  const meshEye = CFP_EYE.map((i) => meshAtCfp(points, i, right));
  const eye = distance({ x: meshEye.reduce((s, p) => s + p.x, 0) / 6, y: meshEye.reduce((s, p) => s + p.y, 0) / 6 }, cfpMean(m, CFP_EYE)) / unit;
  const at = (i: number) => distance(meshAtCfp(points, i, right), cfpPoint(m, i)) / unit;
  const rigid = Array.from({ length: CFP_POINT_COUNT - 8 }, (_, k) => at(k + 8));
  return { eye, noseTip: at(CFP_NOSE_TIP), mouthCorner: at(CFP_MOUTH_CORNER), chin: at(CFP_CHIN), rigid: rigid.reduce((a, b) => a + b, 0) / rigid.length };
}

// ---- yaw ----
const bundle = await loadBundle(values.bundle!);
/** The service's pose (the shape fit's Procrustes to the bundle's mean shape), degrees. */
const serviceYaw = (points: Float32Array): number => fitPose(bundle.shape.mean, points).pose.yaw;

const faceRows = photos.map((_, row) => row).filter((row) => pointsOf(row));
const yawMesh = new Float64Array(photos.length).fill(Number.NaN);
const yawService = new Float64Array(photos.length).fill(Number.NaN);
for (const row of faceRows) {
  yawMesh[row] = faceMeshYaw(pointsOf(row)!) / DEGREES;
  yawService[row] = serviceYaw(pointsOf(row)!);
}
// The marked side gives the true direction of a profile: does each estimate's sign agree?
const markedDirection = (row: number): number => (marksSubjectRight(marked[row]) ? 1 : -1);

const report: Record<string, unknown> = {};
{
  const rowsOf = (profile: boolean) => faceRows.filter((row) => isProfile[row] === profile);
  const yawSummary = (rows: number[], yaw: Float64Array) => ({
    absYawQuantiles: [0, 0.05, 0.25, 0.5, 0.75, 0.95, 1].map((q) => Number(quantile(rows.map((r) => Math.abs(yaw[r])), q).toFixed(1))),
    signAgreesWithMarkedSide: rows.filter((r) => Math.sign(yaw[r]) === markedDirection(r)).length / rows.length,
  });
  const errors = (rows: number[]) => {
    const e = rows.map((r) => landmarkError(pointsOf(r)!, marked[r]));
    const pick = (k: keyof LandmarkError) => ({ median: Number(median(e.map((x) => x[k])).toFixed(3)), p90: Number(quantile(e.map((x) => x[k]), 0.9).toFixed(3)) });
    return { eye: pick('eye'), noseTip: pick('noseTip'), mouthCorner: pick('mouthCorner'), chin: pick('chin'), rigid22: pick('rigid') };
  };
  for (const [view, profile] of [['frontal', false], ['profile', true]] as const) {
    const rows = rowsOf(profile);
    report[view] = {
      photos: photos.filter((_, r) => isProfile[r] === profile).length,
      faces: rows.length,
      meshYaw: yawSummary(rows, yawMesh),
      serviceYaw: yawSummary(rows, yawService),
      landmarkError: errors(rows),
    };
  }
  console.log(JSON.stringify(report, null, 1));
}

// ---- alignment variants ----
/** How one photo is cropped: the region, and whether the crop is the mirror image. */
interface Crop {
  readonly region: SquareRegion;
  readonly mirrored: boolean;
}

interface Variant {
  readonly name: string;
  /** undefined: today's crop; two crops: test-time flipping (the unit features of both summed). */
  crop(row: number, points: Float32Array): readonly Crop[] | undefined;
}

const meshChin = (points: Float32Array): Point2 => ({ x: points[3 * 152], y: points[3 * 152 + 1] });

/** FaceMesh's yaw estimate (degrees) of a face. */
const estimatedYaw = (row: number): number => yawMesh[row];

interface TurnedOptions {
  /** Faces whose |estimated yaw| (degrees) is below the gate keep today's crop. */
  readonly gate: number;
  /** Depth of the turning axis as a share of the way from the face's sides (0) to the eyes (1). */
  readonly axis: number;
  readonly chin: boolean;
  /** The yaw the reference is turned by (degrees) from the estimate. */
  readonly yaw: (estimate: number) => number;
  readonly mirror?: 'mirrored' | 'flip';
  readonly zoom?: number;
  readonly oracle?: boolean;
  readonly reference?: readonly ReferencePoint3[];
}

const spec = bundleFeatureNetwork(bundle.manifest.preprocessing);

function turnedVariant(name: string, o: TurnedOptions): Variant {
  return {
    name,
    crop(row, points) {
      const estimate = estimatedYaw(row);
      if (Math.abs(estimate) < o.gate) return undefined;
      const yaw = o.yaw(estimate) * DEGREES;
      const axisDepth = (1 - o.axis) * REFERENCE_SIDES_DEPTH;
      let five: Point2[], chin: Point2;
      if (o.oracle) {
        // CFP's own marks on the side the photo shows; the hidden points are never used.
        const m = marked[row];
        const eye = cfpMean(m, CFP_EYE), mouth = cfpPoint(m, CFP_MOUTH_CORNER);
        five = [eye, eye, cfpPoint(m, CFP_NOSE_TIP), mouth, mouth];
        chin = cfpPoint(m, CFP_CHIN);
      } else {
        five = fivePointsFromFaceMesh(points);
        chin = meshChin(points);
      }
      const region = turnedFaceRegion(five, chin, spec.inputSize, { direction: Math.sign(estimate), yaw, axisDepth, chin: o.chin, zoom: o.zoom ?? 1, reference: o.reference });
      if (o.mirror === 'flip') return [{ region, mirrored: false }, { region, mirrored: true }];
      return [{ region, mirrored: o.mirror === 'mirrored' }];
    },
  };
}

/** The reference turned with FaceMesh's own mean depth (the bundle's mean shape), for comparison with ICT-FaceKit's. */
const meshDepth = turnableReference(markupFace(facemeshToDlib68(bundle.shape.mean)));
const ict = turnableReference(markupFace((await loadIctFaceKit(values.ict!)).identity.mean));
console.log(`turnable reference from ICT-FaceKit: ${JSON.stringify(ict)}\nfrom the bundle's mean shape (FaceMesh depth): ${JSON.stringify(meshDepth)}`);
const FACEMESH_DEPTH_REFERENCE = meshDepth.points;

/** FaceMesh's yaw on CFP's full profiles is about half the true ~90 degrees (printed above): doubled, capped at 90. */
const doubled = (estimate: number): number => Math.sign(estimate) * Math.min(90, 2 * Math.abs(estimate));
const GATE = Number(values.gate);
const gated = (row: number): boolean => Math.abs(estimatedYaw(row)) >= GATE;
/** Today's region of a gated face, its side divided by `zoom` about its centre. */
const todayZoomed = (zoom: number, flip = false): Variant => ({
  name: `today, gated faces zoomed ${zoom}${flip ? ', flipped' : ''}`,
  crop: (row, points) => {
    if (!gated(row)) return undefined;
    const region = featureRegion(spec, points);
    return (flip ? [false, true] : [false]).map((mirrored) => ({ region: { ...region, side: region.side / zoom }, mirrored }));
  },
});
const TODAY: Variant = { name: 'today: five-point similarity', crop: () => undefined };
const TODAY_FLIPPED: Variant = { name: 'today, gated faces flipped (both crops)', crop: (row, points) => (gated(row) ? [false, true].map((mirrored) => ({ region: featureRegion(spec, points), mirrored })) : undefined) };
const frontalReference = (chin: boolean, zoom = 1): Variant =>
  turnedVariant(`visible points only, frontal reference${chin ? ', chin' : ''}${zoom === 1 ? '' : `, zoom ${zoom}`}`, { gate: GATE, axis: 1, chin, yaw: () => 0, zoom });
const estimateTurned = (chin: boolean, zoom = 1, oracle = false): Variant =>
  turnedVariant(`${oracle ? 'oracle: CFP marks, ' : ''}turned by the yaw estimate, axis 1${chin ? ', chin' : ''}${zoom === 1 ? '' : `, zoom ${zoom}`}`, { gate: GATE, axis: 1, chin, yaw: (e) => e, zoom, oracle });

/**
 * The variants, in the three rounds they were measured in (docs/BENCHMARKS.md §62), each asked by the
 * one before: 1, the turned reference as designed (yaw doubled for FaceMesh's flattening; axes, chin,
 * depths, mirroring, CFP's marks); 2, why it lost: smaller turns, zoom, visible points against the
 * frontal reference; 3, the zoom that helped, finer.
 */
const ROUNDS: Readonly<Record<string, readonly Variant[]>> = {
  '1': [
    TODAY,
    { name: 'today, gated faces mirrored to face left', crop: (row, points) => (gated(row) && estimatedYaw(row) > 0 ? [{ region: featureRegion(spec, points), mirrored: true }] : undefined) },
    TODAY_FLIPPED,
    ...[0, 0.5, 1].flatMap((axis) => [false, true].map((chin) => turnedVariant(`turned by 2x yaw, eye/nose/mouth${chin ? '/chin' : ''}, axis ${axis}`, { gate: GATE, axis, chin, yaw: doubled }))),
    turnedVariant('turned by the yaw estimate, axis 0.5', { gate: GATE, axis: 0.5, chin: false, yaw: (e) => e }),
    turnedVariant('turned by 90, axis 0.5', { gate: GATE, axis: 0.5, chin: false, yaw: (e) => Math.sign(e) * 90 }),
    turnedVariant('turned by 2x yaw, axis 0.5, FaceMesh depth', { gate: GATE, axis: 0.5, chin: false, yaw: doubled, reference: FACEMESH_DEPTH_REFERENCE }),
    turnedVariant('turned by 2x yaw, axis 0.5, mirrored', { gate: GATE, axis: 0.5, chin: false, yaw: doubled, mirror: 'mirrored' }),
    turnedVariant('turned by 2x yaw, axis 0.5, flipped', { gate: GATE, axis: 0.5, chin: false, yaw: doubled, mirror: 'flip' }),
    turnedVariant('oracle: CFP marks, turned by 2x yaw, axis 0.5', { gate: GATE, axis: 0.5, chin: false, yaw: doubled, oracle: true }),
    turnedVariant('oracle: CFP marks, turned by 2x yaw, axis 0.5, chin', { gate: GATE, axis: 0.5, chin: true, yaw: doubled, oracle: true }),
  ],
  '2': [
    TODAY,
    TODAY_FLIPPED,
    todayZoomed(0.85),
    todayZoomed(1.15),
    frontalReference(false),
    frontalReference(true),
    estimateTurned(false),
    estimateTurned(true),
    ...[1.25, 1.5].map((zoom) => turnedVariant(`turned by 2x yaw, axis 1, chin, zoom ${zoom}`, { gate: GATE, axis: 1, chin: true, yaw: doubled, zoom })),
    estimateTurned(true, 1.25),
    estimateTurned(true, 1.5),
    estimateTurned(true, 1, true),
    estimateTurned(true, 1.25, true),
  ],
  '3': [
    TODAY,
    ...[0.7, 0.75, 0.8, 0.85, 0.9].map((zoom) => todayZoomed(zoom)),
    todayZoomed(0.8, true),
    frontalReference(false, 0.8),
    frontalReference(false, 0.9),
    frontalReference(true, 0.8),
    frontalReference(true, 0.9),
    estimateTurned(true, 0.85),
    estimateTurned(true, 0.9),
    turnedVariant('oracle: CFP marks, visible points only, frontal reference, chin', { gate: GATE, axis: 1, chin: true, yaw: () => 0, oracle: true }),
    turnedVariant('oracle: CFP marks, visible points only, frontal reference, chin, zoom 0.9', { gate: GATE, axis: 1, chin: true, yaw: () => 0, zoom: 0.9, oracle: true }),
  ],
};
const variants = ROUNDS[values.round!];
if (!variants) throw new Error(`--round is one of ${Object.keys(ROUNDS).join(', ')}`);

if (values['diagnostics-only']) process.exit(0);

// ---- embedding: the bundle's network and head ----
const settings = inferenceSettings(config());
const identity = await openFeatureNetwork(spec, settings);
const regressor = bundle.manifest.regressor!;
const head = wrapNetwork('head', await loadModel(join(values.bundle!, regressor.file), settings.runtime), [regressor.inputDim], settings.batching);
const vectorLength = bundle.manifest.shape.components + bundle.manifest.texture.components;

interface Embedding {
  readonly features: Float32Array;
  readonly regressed: Float32Array;
}

async function features(image: RgbImage, crop: Crop): Promise<Float32Array> {
  return (await identity.network.infer(featureInput(spec, image, crop.region, crop.mirrored)))[spec.output].slice();
}

function flipped(plain: Float32Array, mirrored: Float32Array): Float32Array {
  const b = l2Normalise(mirrored);
  return l2Normalise(plain).map((x, i) => x + b[i]);
}

async function regressed(features: Float32Array): Promise<Embedding> {
  const { coefficients } = await head.infer(features);
  return { features, regressed: coefficients.slice(0, vectorLength) };
}

const cropKey = (c: Crop): string => `${c.region.centerX.toFixed(3)},${c.region.centerY.toFixed(3)},${c.region.side.toFixed(3)},${c.region.angle.toFixed(5)},${c.mirrored}`;

/** embeddings[variant][row] */
const embeddings: (Embedding | undefined)[][] = variants.map(() => new Array<Embedding | undefined>(photos.length));
const touched = variants.map(() => ({ frontal: 0, profile: 0 }));
const started = performance.now();
let done = 0;
await mapConcurrent(photos, 2, async (path, row) => {
  const points = pointsOf(row);
  if (!points) return;
  const image = await decodeImage(await readFile(join(root, path)));
  const today: Crop = { region: featureRegion(spec, points), mirrored: false };
  const byKey = new Map<string, Promise<Float32Array>>();
  const of = (crop: Crop) => {
    const key = cropKey(crop);
    if (!byKey.has(key)) byKey.set(key, features(image, crop));
    return byKey.get(key)!;
  };
  for (const [v, variant] of variants.entries()) {
    const crops = variant.crop(row, points);
    if (crops) touched[v][isProfile[row] ? 'profile' : 'frontal']++;
    const parts = await Promise.all((crops ?? [today]).map(of));
    // Flipping as the pipeline's: the sum of the unit embeddings.
    embeddings[v][row] = await regressed(parts.length === 1 ? parts[0] : flipped(parts[0], parts[1]));
  }
  if (++done % 250 === 0) log(`embedded ${done} of ${photos.length} photos (${((performance.now() - started) / 1000).toFixed(0)} s)`);
});
await identity.network.close();
await head.close();

// ---- scores ----
type Kind = keyof Embedding;
function scored(v: number, kind: Kind, subset: readonly number[]): ScoredPair[] {
  return subset.map((i) => {
    const p = pairs[i];
    const a = embeddings[v][rowOf.get(p.imageA)!], b = embeddings[v][rowOf.get(p.imageB)!];
    return { score: a && b ? cosineSimilarity(a[kind], b[kind]) : NO_FACE_SCORE, same: p.same };
  });
}
const everyPair = pairs.map((_, i) => i);
/** CFP's folds: 700 consecutive pairs each (350 same, 350 different), disjoint by person. */
const CFP_FOLD = 700;
const foldPairs = (k: number) => everyPair.filter((i) => Math.floor(i / CFP_FOLD) === k);
const otherFolds = (k: number) => everyPair.filter((i) => Math.floor(i / CFP_FOLD) !== k);
const folds = pairs.length / CFP_FOLD;

const rows = variants.map((variant, v) => {
  const figures = (kind: Kind) => {
    const all = scored(v, kind, everyPair);
    const ten = tenFoldAccuracy(all);
    const today = tenFoldAccuracy(scored(0, kind, everyPair)).foldAccuracies;
    const gains = ten.foldAccuracies.map((a, f) => a - today[f]);
    const gain = gains.reduce((x, y) => x + y, 0) / gains.length;
    const gainSe = Math.sqrt(gains.reduce((x, g) => x + (g - gain) ** 2, 0) / (gains.length - 1) / gains.length);
    return { tenFold: ten.mean, sd: ten.std, gain, gainSe, auc: areaUnderCurve(all), tarAtFar1: tarAtFar(all, 0.01).trueAcceptRate };
  };
  return { variant: variant.name, touched: touched[v], regressed: figures('regressed'), features: figures('features') };
});

/** Leave one CFP fold out: the variant best on the other four (10-fold accuracy), scored on the held-out fold at their best threshold. */
function crossValidatedChoice(kind: Kind): { choices: string[]; heldOut: number[]; mean: number; todayHeldOut: number[]; todayMean: number } {
  const choices: string[] = [];
  const heldOut: number[] = [];
  const todayHeldOut: number[] = [];
  /** Variant v's accuracy on fold k at the threshold best on the other folds. */
  const heldOutAccuracy = (v: number, k: number) => accuracyAt(scored(v, kind, foldPairs(k)), bestThresholdAccuracy(scored(v, kind, otherFolds(k))).threshold);
  for (let k = 0; k < folds; k++) {
    const train = otherFolds(k);
    let best = 0, bestAccuracy = -1;
    variants.forEach((variant, v) => {
      if (variant.name.startsWith('oracle')) return;
      const accuracy = tenFoldAccuracy(scored(v, kind, train)).mean;
      if (accuracy > bestAccuracy) [best, bestAccuracy] = [v, accuracy];
    });
    choices.push(variants[best].name);
    heldOut.push(heldOutAccuracy(best, k));
    // The same for today's crop alone (variant 0), the figure a choice has to beat.
    todayHeldOut.push(heldOutAccuracy(0, k));
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return { choices, heldOut, mean: mean(heldOut), todayHeldOut, todayMean: mean(todayHeldOut) };
}

const f3 = (x: number) => x.toFixed(3);
console.log('\n| variant | profiles / frontals re-cropped | regressed 10-fold | gain over today (paired folds ± s.e.) | AUC | TAR @ FAR 1% | features 10-fold | gain | AUC | TAR @ FAR 1% |');
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  const gain = (g: { gain: number; gainSe: number }) => `${g.gain >= 0 ? '+' : '−'}${f3(Math.abs(g.gain))} ± ${f3(g.gainSe)}`;
  console.log(`| ${r.variant} | ${r.touched.profile} / ${r.touched.frontal} | ${f3(r.regressed.tenFold)} ± ${f3(r.regressed.sd)} | ${gain(r.regressed)} | ${f3(r.regressed.auc)} | ${f3(r.regressed.tarAtFar1)} | ${f3(r.features.tenFold)} ± ${f3(r.features.sd)} | ${gain(r.features)} | ${f3(r.features.auc)} | ${f3(r.features.tarAtFar1)} |`);
}
const cv = { regressed: crossValidatedChoice('regressed'), features: crossValidatedChoice('features') };
console.log('\nleave-one-CFP-fold-out choice:', JSON.stringify(cv, null, 1));
const faces = { profile: faceRows.filter((r) => isProfile[r]).length, profilePhotos: isProfile.filter(Boolean).length, frontal: faceRows.filter((r) => !isProfile[r]).length, frontalPhotos: isProfile.filter((p) => !p).length };
console.log('faces found:', JSON.stringify(faces));
await writeFile(values.json!, JSON.stringify({ ...report, faces, variants: rows, crossValidated: cv }, null, 1));
