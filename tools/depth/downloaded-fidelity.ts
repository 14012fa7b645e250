/**
 * Issue 14: fidelity3d's "downloaded" figures (`face3d eval fidelity3d`, the same encodings, meshes
 * and maths: `personMeshes`, `depthFidelity`) for the product's depth and for other depths of the
 * same photos, in one run, so a variant is measured against real depth without being built into
 * the product. Depths as `cfp-profile-depth.ts` reads them (`DownloadDepthOptions`; a joint or gated
 * one may name a space for the joint fit's change, "space": "scans" | "scans-own", `scan-truth.ts`).
 * Each run on Yale B is a look at the yardstick: choose settings elsewhere, then run it once.
 *   npx tsc -p tsconfig.build.json && nice -n 10 node dist/tools/depth/downloaded-fidelity.js \
 *     --compare '{"scans' space":{"method":"gated","space":"scans"}}' [--root ../shared/datasets/yaleb3d/dev] [--json out.json]
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { config } from '../../src/core/config.js';
import { readDepthDataset, REFERENCE_LIGHTS } from '../../src/dataset/depth-dataset.js';
import { depthFidelity, type DepthPhoto } from '../../src/eval/depth-fidelity.js';
import { encodeDepthPhotos, personMeshes } from '../../src/eval/depth-photos.js';
import { FaceEncoder } from '../../src/inference/face-encoder.js';
import { inferenceSettings } from '../../src/inference/inference-settings.js';
import { reconstructMesh } from '../../src/morphable/reconstruct.js';
import { DOWNLOAD_DEPTH, type DownloadDepthOptions } from '../../src/morphable/shading-refine.js';
import { loadScanModel, resolveSpace, scanSpaces, type NamedDepthOptions } from './scan-truth.js';

const { values } = parseArgs({
  options: {
    root: { type: 'string', default: '../shared/datasets/yaleb3d/dev' },
    bundle: { type: 'string' },
    compare: { type: 'string', default: '{}' },
    bootstrap: { type: 'string', default: '1000' },
    ict: { type: 'string', default: '../shared/models3d/ict-facekit' },
    json: { type: 'string' },
  },
});
const root = values.root!;
const people = await readDepthDataset(root, REFERENCE_LIGHTS);
const truths = new Map(people.map((p) => [p.name, p.depth]));
const encoder = await FaceEncoder.open(inferenceSettings(config()), values.bundle);
const started = Date.now();
try {
  const { photos, failed } = await encodeDepthPhotos(encoder, root, people);
  const meanMesh = reconstructMesh(encoder.bundle, { shape: new Float32Array(encoder.bundle.shape.basis.rows), texture: [] }).positions;
  const spaces = scanSpaces(meanMesh, () => loadScanModel(values.ict!));
  const depths: [string, DownloadDepthOptions][] = [['product', DOWNLOAD_DEPTH]];
  for (const [name, options] of Object.entries(JSON.parse(values.compare!) as Record<string, NamedDepthOptions>)) depths.push([name, await resolveSpace(options, spaces)]);
  const names = [...new Set(photos.map((p) => p.person))];
  const results: Record<string, unknown> = {};
  for (const [name, depth] of depths) {
    const served = new Map<string, Float32Array>();
    const joint: string[] = [];
    for (const person of names) {
      const meshes = await personMeshes(encoder.bundle, root, photos.filter((p) => p.person === person), { depth });
      served.set(person, meshes.downloaded);
      if (meshes.method === 'joint') joint.push(person);
    }
    const downloaded: DepthPhoto[] = photos.map((p) => ({ person: p.person, landmarks: p.landmarks, mesh: served.get(p.person)! }));
    const report = depthFidelity(downloaded, truths, { bootstrap: Number(values.bootstrap) });
    results[name] = { mesh: report.mesh, meanOfOthersMeshes: report.meanOfOthersMeshes, jointPeople: joint };
    console.error(`${name}: RMSE ${report.mesh.rmsePx.value.toFixed(2)} px, r ${report.mesh.correlation.value.toFixed(2)}, size ${report.mesh.sizeRatio.value.toFixed(2)}, rank-1 ${report.mesh.rank1.value.toFixed(2)}; others' mean ${report.meanOfOthersMeshes.rmsePx.value.toFixed(2)} px; ${joint.length} joint`);
  }
  const text = JSON.stringify({ root, photos: photos.length, failed, compare: JSON.parse(values.compare!) as unknown, results, seconds: (Date.now() - started) / 1000 }, null, 1);
  if (values.json) await writeFile(values.json, text);
  console.log(text);
} finally {
  await encoder.close();
}
