/**
 * Issue 14: two bundles' neutral meshes against real depth, photo by photo (fidelity3d's intervals
 * are each estimate's own; a change smaller than their width can still be a change every photo
 * shares). Per photo: the depth RMSE of each bundle's mesh, posed on the photo's landmarks as
 * fidelity3d poses it, over the vertices where the truth is valid, planes removed; then the mean
 * change with a people-bootstrap interval, and how many photos and people got nearer the truth.
 *   npx tsc -p tsconfig.build.json && node dist/tools/depth/paired-fidelity.js --before <bundle dir> \
 *     [--after models/lfw-facemesh] [--root ../shared/datasets/yaleb3d/dev] [--photos all]
 */
import { parseArgs } from 'node:util';
import { quantile } from 'simple-statistics';
import { readDepthDataset, REFERENCE_LIGHTS, type DepthPerson } from '../../src/dataset/depth-dataset.js';
import { posedDepth, removePlane, sampleDepth } from '../../src/eval/depth-fidelity.js';
import { encodeDepthPhotos } from '../../src/eval/depth-photos.js';
import { FaceEncoder } from '../../src/inference/face-encoder.js';
import { inferenceSettings } from '../../src/inference/inference-settings.js';
import { config } from '../../src/core/config.js';
import { mulberry32, randomInt } from '../../src/training/random.js';

const { values } = parseArgs({
  options: {
    before: { type: 'string' },
    after: { type: 'string', default: 'models/lfw-facemesh' },
    root: { type: 'string', default: '../shared/datasets/yaleb3d/dev' },
    photos: { type: 'string' },
    bootstrap: { type: 'string', default: '2000' },
  },
});
if (!values.before) throw new Error('--before <bundle dir> is required');
const people = await readDepthDataset(values.root!, values.photos === 'all' ? undefined : (values.photos?.split(',') ?? REFERENCE_LIGHTS));

async function photoErrors(bundleDir: string, set: readonly DepthPerson[]): Promise<Map<string, { person: string; rmsePx: number }>> {
  const encoder = await FaceEncoder.open(inferenceSettings(config()), bundleDir);
  try {
    const { photos } = await encodeDepthPhotos(encoder, values.root!, set);
    const truths = new Map(set.map((p) => [p.name, p.depth]));
    return new Map(photos.map((photo, index) => {
      const truth = truths.get(photo.person)!;
      const raw = Float64Array.from({ length: photo.mesh.length / 3 }, (_, i) => sampleDepth(truth, photo.landmarks[3 * i], photo.landmarks[3 * i + 1]));
      const valid = Uint8Array.from(raw, (v) => (Number.isFinite(v) ? 1 : 0));
      const real = removePlane(raw, photo.landmarks, valid);
      const mesh = removePlane(posedDepth(photo.mesh, photo.landmarks, valid).depth, photo.landmarks, valid);
      let sum = 0;
      let n = 0;
      for (let i = 0; i < valid.length; i++) if (valid[i]) { sum += (mesh[i] - real[i]) ** 2; n++; }
      // Photos are matched by person and order: encodeDepthPhotos keeps the dataset's order.
      return [`${photo.person}#${index}`, { person: photo.person, rmsePx: Math.sqrt(sum / n) }];
    }));
  } finally {
    await encoder.close();
  }
}

const before = await photoErrors(values.before, people);
const after = await photoErrors(values.after!, people);
const changes = [...after.entries()].filter(([key]) => before.has(key)).map(([key, a]) => ({ person: a.person, change: a.rmsePx - before.get(key)!.rmsePx }));
const names = [...new Set(changes.map((c) => c.person))];
const personMeans = names.map((name) => {
  const own = changes.filter((c) => c.person === name);
  return own.reduce((s, c) => s + c.change, 0) / own.length;
});
const random = mulberry32(14);
const resampled = Array.from({ length: Number(values.bootstrap) }, () => names.reduce((s) => s + personMeans[randomInt(random, names.length)], 0) / names.length);
const meanChange = changes.reduce((s, c) => s + c.change, 0) / changes.length;
console.log(JSON.stringify({
  before: values.before,
  after: values.after,
  photos: changes.length,
  people: names.length,
  meanChangePx: meanChange,
  interval: [quantile(resampled, 0.025), quantile(resampled, 0.975)],
  photosNearer: changes.filter((c) => c.change < 0).length,
  peopleNearer: personMeans.filter((m) => m < 0).length,
}));
