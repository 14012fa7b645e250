/**
 * What a download's depth costs: a synthetic face (`shading-synthetic.ts`) photographed `--photos`
 * times, its depth made by each method of `downloadedShape` (the mean of per-photo refinements, the
 * joint fit, the gate both ways), then the whole of a download's CPU work as the mesh pool's thread does it
 * (`runMeshExport`, GLB, the product's method), each `--repeat` times, in this thread, back to back.
 *   npx tsc -p tsconfig.build.json && nice -n 10 node dist/tools/depth/download-cost.js [--photos 8] [--repeat 5]
 */
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { runMeshExport } from '../../src/gallery/mesh-export.js';
import { defaultBundleDir } from '../../src/inference/face-encoder.js';
import { loadBundle } from '../../src/morphable/bundle.js';
import { reconstructMesh } from '../../src/morphable/reconstruct.js';
import { DOWNLOAD_DEPTH, downloadedShape, photoIntensity, type DownloadDepthOptions } from '../../src/morphable/shading-refine.js';
import { mulberry32 } from '../../src/training/random.js';
import { faceWithDepth, photographShaded, randomDepthDeviation } from './shading-synthetic.js';

const { values } = parseArgs({ options: { photos: { type: 'string', default: '8' }, repeat: { type: 'string', default: '5' } } });
const bundle = await loadBundle(defaultBundleDir());
const coefficients = { shape: [], texture: [] };
const reconstructed = reconstructMesh(bundle, coefficients);
const random = mulberry32(2026);
const face = faceWithDepth(reconstructed.positions, randomDepthDeviation(bundle.shape.basis, 2.5, random));
const photos = Array.from({ length: Number(values.photos) }, () => photographShaded(face, { light: 'point', landmarkNoisePx: 0.7, pixelNoise: 0.01, albedoNoise: 0.08 }, random)).map((p) => ({ image: p.rgb, landmarks: p.landmarks }));

function timed(run: () => unknown): number[] {
  return Array.from({ length: Number(values.repeat) }, () => {
    const start = performance.now();
    run();
    return performance.now() - start;
  });
}
const median = (ms: number[]) => [...ms].sort((a, b) => a - b)[ms.length >> 1];
// The gate on these photos (one point light moved between them) takes the joint fit; with no way past it, the gate's worst case: the joint fit, then the mean.
const methods: [string, DownloadDepthOptions][] = [['mean', { method: 'mean' }], ['joint', { method: 'joint' }], ['gated', { method: 'gated' }], ['gated, falling back to the mean', { method: 'gated', evidence: Infinity }]];
const rows = methods.map(([name, options]) => ({ what: `depth, ${name}`, ms: timed(() => downloadedShape(reconstructed.positions, photos.map((p) => ({ image: photoIntensity(p.image), landmarks: p.landmarks })), options)) }));
const exports: number[] = [];
for (let i = 0; i < Number(values.repeat); i++) {
  const start = performance.now();
  await runMeshExport({ reconstructed, sharpen: true, photos, format: 'GLB', options: { stem: 'cost' } });
  exports.push(performance.now() - start);
}
rows.push({ what: `whole download (runMeshExport, GLB; product: ${DOWNLOAD_DEPTH.method})`, ms: exports });
console.log(`${photos.length} photos 168 × 192; ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, load average ${loadavg()[0].toFixed(1)} at the end, Node ${process.version}`);
for (const row of rows) console.log(`${row.what}: median ${median(row.ms).toFixed(0)} ms (${row.ms.map((v) => v.toFixed(0)).join(', ')})`);
