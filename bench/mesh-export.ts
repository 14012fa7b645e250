/**
 * What a mesh download with photos costs, and how long it holds the event loop (issue 18): a file (GLB
 * by default) of the model's mean face with 0, 1, 4 and 8 synthetic shaded photos (Yale-B-sized crops, as in
 * test/unit/gallery/mesh-export.test.ts), sharpened in this thread and in a `MeshPool` thread.
 * Per case: the download's time and the event loop's longest stall while it ran (what any other
 * request waits at most), and whether both ways give the same bytes.
 *   npx tsc -p tsconfig.build.json && node --expose-gc dist/bench/mesh-export.js [--runs 3] [--format GLB|OBJ|PLY]
 */
import { parseArgs } from 'node:util';
import { exportMesh, MESH_FORMATS, type MeshExporter, type MeshFormat } from '../src/gallery/mesh-export.js';
import { MeshPool } from '../src/gallery/mesh-pool.js';
import { defaultBundleDir } from '../src/inference/face-encoder.js';
import { loadBundle } from '../src/morphable/bundle.js';
import { reconstructMesh } from '../src/morphable/reconstruct.js';
import { mulberry32 } from '../src/training/random.js';
import { faceWithDepth, photographShaded, randomDepthDeviation } from '../tools/depth/shading-synthetic.js';

const { values: options } = parseArgs({ options: { runs: { type: 'string', default: '3' }, format: { type: 'string', default: 'GLB' } } });
const RUNS = Number(options.runs);
const FORMAT = options.format as MeshFormat;
if (!MESH_FORMATS.includes(FORMAT)) throw new Error(`--format is one of ${MESH_FORMATS.join(', ')}`);
const TICK_MS = 2;

const bundle = await loadBundle(defaultBundleDir());
const coefficients = { shape: [], texture: [] };
const random = mulberry32(12);
const truth = faceWithDepth(reconstructMesh(bundle, coefficients).positions, randomDepthDeviation(bundle.shape.basis, 2.5, random));
const allPhotos = Array.from({ length: 8 }, () => {
  const photo = photographShaded(truth, { light: 'point', landmarkNoisePx: 0.7, pixelNoise: 0.01, albedoNoise: 0.08 }, random);
  return { image: photo.rgb, landmarks: photo.landmarks };
});

/**
 * One download: its ms, the loop's longest stall (ms) while it ran, and its bytes. The stall is the
 * longest gap between ticks of a 2 ms interval timer, less those 2 ms: what a request arriving then
 * would wait before its handler runs.
 */
async function download(photoCount: number, exporter?: MeshExporter): Promise<{ ms: number; maxDelayMs: number; bytes: Buffer }> {
  // The garbage of the previous download (in-thread ones make much) is collected before, not charged to this one.
  (globalThis as { gc?: () => void }).gc?.();
  let last = performance.now();
  let longest = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, TICK_MS);
  const start = performance.now();
  const exported = await exportMesh(bundle, coefficients, FORMAT, { stem: 'bench', photos: allPhotos.slice(0, photoCount), exporter });
  const ms = performance.now() - start;
  longest = Math.max(longest, performance.now() - last);
  clearInterval(ticker);
  return { ms, maxDelayMs: Math.max(0, longest - TICK_MS), bytes: Buffer.concat(exported.files.map((file) => file.bytes)) };
}

const pool = new MeshPool();
if (!pool.offThread) throw new Error('no compiled mesh worker: build first (npx tsc -p tsconfig.build.json)');
await download(1, pool.exporter()); // starts the thread
const median = (values: number[]) => values.sort((a, b) => a - b)[values.length >> 1];
const rows: string[] = [`${FORMAT}, ${RUNS} runs each`, '| photos | made | download ms (median) | longest loop stall ms (max) | same bytes |', '|---|---|---|---|---|'];
for (const photoCount of [0, 1, 4, 8]) {
  const here = [] as Awaited<ReturnType<typeof download>>[];
  const off = [] as Awaited<ReturnType<typeof download>>[];
  for (let run = 0; run < RUNS; run++) {
    here.push(await download(photoCount));
    off.push(await download(photoCount, pool.exporter()));
  }
  const same = off.every((result) => result.bytes.equals(here[0].bytes)) && here.every((result) => result.bytes.equals(here[0].bytes));
  for (const [way, results] of [['in thread', here], ['MeshPool', off]] as const) {
    rows.push(`| ${photoCount} | ${way} | ${median(results.map((r) => r.ms)).toFixed(0)} | ${Math.max(...results.map((r) => r.maxDelayMs)).toFixed(0)} | ${same ? 'yes' : 'NO'} |`);
  }
}
await pool.close();
console.log(rows.join('\n'));
