/**
 * Milliseconds per image for each stage of the face pipeline and for the whole of it, in three
 * modes measured in the same run: one image at a time with networks unbatched (a stage's own
 * cost), one at a time through the service's micro-batcher (FACE3D_BATCH_MAX,
 * FACE3D_BATCH_DELAY_MS: what a lone request sees), and N images in flight through that batcher,
 * where a figure is wall time divided by images: throughput. A second table gives each stage's CPU
 * time per image (this process, all its threads), which a shared machine's queue for the cores
 * inflates much less than the wall time.
 * Each identity network of `--networks` (feature-networks.ts) and each precision of `--precisions`
 * (FACE3D_PRECISION: fp32, int8) is measured in the same run, side by side, with the machine's load.
 *   npm run bench:pipeline -- [--root ../shared/datasets/lfw/dev] [--images 100] [--concurrency 8] [--networks faceres,fr-feature] [--precisions fp32,int8]
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { config, PRECISIONS, type Precision } from '../src/core/config.js';
import { listPeople } from '../src/dataset/folder-dataset.js';
import { mapConcurrent } from '../src/core/concurrency.js';
import type { MicroBatcherOptions } from '../src/inference/batcher.js';
import { decodeImage } from '../src/inference/decode.js';
import type { Detection } from '../src/inference/detect-decode.js';
import { detectFaces, largestDetection } from '../src/inference/detector.js';
import { faceTexture } from '../src/inference/face-texture.js';
import { FEATURE_NETWORKS, featureNetworkSpec, featureRegion, featureVector, type FeatureNetworkSpec } from '../src/inference/feature-networks.js';
import type { RgbImage } from '../src/core/image.js';
import { detectLandmarks, regionFromDetection } from '../src/inference/landmarks.js';
import { analysePhoto, closeFaceNetworks, openFaceNetworks, type FaceNetworks } from '../src/inference/pipeline.js';
import { inferenceSettings } from '../src/inference/inference-settings.js';

const STAGES = ['decode', 'detect', 'landmarks', 'identity features', 'UV texture warp', 'whole pipeline'] as const;
type StageName = (typeof STAGES)[number];
type StageTimes = Record<StageName, number>;

interface Mode {
  readonly label: string;
  readonly batching: MicroBatcherOptions;
  readonly concurrency: number;
  readonly network: FeatureNetworkSpec;
  readonly precision: Precision;
}

/** A stage's wall time per item and this process's CPU time (all its threads) per item. */
interface StageCost {
  readonly msPerImage: number;
  readonly cpuMsPerImage: number;
}

/**
 * Runs `fn` over every item with `concurrency` in flight; the wall and CPU time per item. On a shared
 * machine the wall time grows with the queue for the cores, the CPU time much less.
 */
async function timed<I, O>(items: readonly I[], concurrency: number, fn: (item: I) => Promise<O> | O): Promise<{ outputs: O[] } & StageCost> {
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const outputs = await mapConcurrent(items, concurrency, async (item) => fn(item));
  const cpu = process.cpuUsage(cpuBefore);
  const count = Math.max(items.length, 1);
  return { outputs, msPerImage: (performance.now() - started) / count, cpuMsPerImage: (cpu.user + cpu.system) / 1000 / count };
}

interface Face {
  readonly image: RgbImage;
  readonly detection: Detection;
}

interface Landmarked {
  readonly image: RgbImage;
  readonly points: Float32Array;
}

/** The decoded, detected faces are fed stage by stage, so each stage is timed on its own. */
async function timeStages(networks: FaceNetworks, photos: readonly Uint8Array[], concurrency: number): Promise<{ times: StageTimes; cpu: StageTimes; faces: number }> {
  const decode = await timed(photos, concurrency, (bytes) => decodeImage(bytes));
  const detect = await timed(decode.outputs, concurrency, async (image) => ({ image, detection: largestDetection(await detectFaces(networks.detector, image)) }));
  const faces = detect.outputs.filter((face): face is Face => face.detection !== undefined);
  const landmarks = await timed(faces, concurrency, async ({ image, detection }): Promise<Landmarked> => ({
    image,
    points: (await detectLandmarks(networks.landmarks, image, regionFromDetection(detection))).points,
  }));
  const identity = await timed(landmarks.outputs, concurrency, ({ image, points }) => featureVector(networks.identity, image, featureRegion(networks.identity.spec, points)));
  const texture = await timed(landmarks.outputs, concurrency, ({ image, points }) => faceTexture(image, points));
  const whole = await timed(photos, concurrency, async (bytes) => {
    const { image, faces: [face] } = await analysePhoto(networks, bytes);
    return face && faceTexture(image, face.landmarks.points);
  });
  const stages = (cost: keyof StageCost): StageTimes => ({
    decode: decode[cost],
    detect: detect[cost],
    landmarks: landmarks[cost],
    'identity features': identity[cost],
    'UV texture warp': texture[cost],
    'whole pipeline': whole[cost],
  });
  return { times: stages('msPerImage'), cpu: stages('cpuMsPerImage'), faces: faces.length };
}

/** A short first run, so session set-up and first-call allocations are not timed. */
const WARM_UP_IMAGES = 8;

async function measureMode(mode: Mode, photos: readonly Uint8Array[]): Promise<{ times: StageTimes; cpu: StageTimes; faces: number }> {
  const networks = await openFaceNetworks({ ...settings, batching: mode.batching, precision: mode.precision }, mode.network);
  try {
    await timeStages(networks, photos.slice(0, WARM_UP_IMAGES), mode.concurrency);
    return await timeStages(networks, photos, mode.concurrency);
  } finally {
    await closeFaceNetworks(networks);
  }
}

/** `count` photos spread evenly over the dataset's sorted list, read into memory (file reads are not timed). */
async function readPhotos(root: string, count: number): Promise<Uint8Array[]> {
  const paths = (await listPeople(root)).flatMap((person) => person.images);
  const step = Math.max(1, Math.floor(paths.length / count));
  const chosen = paths.filter((_, i) => i % step === 0).slice(0, count);
  return Promise.all(chosen.map((path) => readFile(join(root, path))));
}

function markdownTable(modes: readonly Mode[], times: readonly StageTimes[], unit = 'ms/image'): string {
  const stageSum = (t: StageTimes): number => STAGES.filter((s) => s !== 'whole pipeline').reduce((sum, s) => sum + t[s], 0);
  const row = (label: string, values: readonly number[]): string => `| ${label} | ${values.map((v) => v.toFixed(1)).join(' | ')} |`;
  return [
    `| stage (${unit}) | ${modes.map((m) => m.label).join(' | ')} |`,
    `|---|${modes.map(() => '---|').join('')}`,
    ...STAGES.filter((s) => s !== 'whole pipeline').map((stage) => row(stage, times.map((t) => t[stage]))),
    row('sum of the stages', times.map(stageSum)),
    row('whole pipeline (decode → texture)', times.map((t) => t['whole pipeline'])),
  ].join('\n');
}

const { values } = parseArgs({
  options: {
    root: { type: 'string', default: '../shared/datasets/lfw/dev' },
    images: { type: 'string', default: '100' },
    concurrency: { type: 'string', default: '8' },
    networks: { type: 'string', default: Object.keys(FEATURE_NETWORKS).join(',') },
    precisions: { type: 'string', default: PRECISIONS.join(',') },
  },
});
if (!existsSync(values.root)) {
  console.log(`bench:pipeline skipped: no LFW dev photos at ${values.root} (pass --root <folder-per-person photos>)`);
  process.exit(0);
}

const { batchMax, batchDelayMs, threads } = config();
const settings = inferenceSettings(config());
const concurrency = Number(values.concurrency);
const serviceBatching = settings.batching;
const precisions = values.precisions.split(',') as Precision[];
const unknown = precisions.filter((p) => !PRECISIONS.includes(p));
if (unknown.length > 0) throw new Error(`--precisions takes ${PRECISIONS.join(', ')}; got ${unknown.join(', ')}`);
const modes: Mode[] = values.networks.split(',').map(featureNetworkSpec).flatMap((network) => precisions.flatMap((precision) => [
  { label: `${network.name} ${precision}: one at a time, unbatched`, batching: { maxBatch: 1, maxDelayMs: 0 }, concurrency: 1, network, precision },
  // A lone request in the service: the batcher sends it at once (no batch of the network is running).
  { label: `${network.name} ${precision}: one at a time, batcher (≤ ${batchMax}, ${batchDelayMs} ms wait)`, batching: serviceBatching, concurrency: 1, network, precision },
  { label: `${network.name} ${precision}: ${concurrency} in flight, batcher (≤ ${batchMax}, ${batchDelayMs} ms wait)`, batching: serviceBatching, concurrency, network, precision },
]));
const photos = await readPhotos(values.root, Number(values.images));
const loadBefore = loadavg();
const results: { times: StageTimes; cpu: StageTimes; faces: number }[] = [];
for (const mode of modes) results.push(await measureMode(mode, photos));
const loadAfter = loadavg();

const cpu = cpus();
console.log(`Pipeline on ${photos.length} photos from ${values.root} (a face found in ${results[0].faces}); ` +
  `${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} cores, load average (1, 5, 15 min) ${loadBefore.map((l) => l.toFixed(1)).join(' ')} before the run and ${loadAfter.map((l) => l.toFixed(1)).join(' ')} after; ` +
  `ONNX Runtime device ${config().device}, ${threads || 'default'} threads; Node ${process.version}\n`);
console.log(markdownTable(modes, results.map((r) => r.times)));
console.log(`\n${markdownTable(modes, results.map((r) => r.cpu), 'CPU ms/image, this process, all threads')}`);

/** Whole pipeline of each mode against the same mode at the first precision listed (the one the others are measured against). */
function speedUps(): string {
  const whole = (i: number): number => results[i].times['whole pipeline'];
  const rows = modes.flatMap((mode, i) => {
    const base = modes.findIndex((m) => m.network === mode.network && m.batching.maxBatch === mode.batching.maxBatch && m.batching.maxDelayMs === mode.batching.maxDelayMs && m.concurrency === mode.concurrency && m.precision === precisions[0]);
    return mode.precision === precisions[0] ? [] : [`| ${mode.label} | ${whole(base).toFixed(1)} | ${whole(i).toFixed(1)} | ${(whole(base) / whole(i)).toFixed(2)}x |`];
  });
  return ['| mode | ' + `${precisions[0]} ms/photo | ms/photo | speed-up |`, '|---|---|---|---|', ...rows].join('\n');
}
if (precisions.length > 1) console.log(`\n${speedUps()}`);
