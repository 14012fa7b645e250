/**
 * Issue 14: two bundles' neutral meshes against real depth, photo by photo (`paired.ts`).
 *   npx tsc -p tsconfig.build.json && node dist/tools/depth/paired-fidelity.js --before <bundle dir> \
 *     [--after models/lfw-facemesh-v2] [--root ../shared/datasets/yaleb3d/dev] [--photos all]
 */
import { parseArgs } from 'node:util';
import { readDepthDataset, REFERENCE_LIGHTS, type DepthPerson } from '../../src/dataset/depth-dataset.js';
import { encodeDepthPhotos, type EncodedDepthPhoto } from '../../src/eval/depth-photos.js';
import { FaceEncoder } from '../../src/inference/face-encoder.js';
import { inferenceSettings } from '../../src/inference/inference-settings.js';
import { config } from '../../src/core/config.js';
import { pairedRmseChange } from './paired.js';

const { values } = parseArgs({
  options: {
    before: { type: 'string' },
    after: { type: 'string', default: 'models/lfw-facemesh-v2' },
    root: { type: 'string', default: '../shared/datasets/yaleb3d/dev' },
    photos: { type: 'string' },
    bootstrap: { type: 'string', default: '2000' },
  },
});
if (!values.before) throw new Error('--before <bundle dir> is required');
const people = await readDepthDataset(values.root!, values.photos === 'all' ? undefined : (values.photos?.split(',') ?? REFERENCE_LIGHTS));

async function encoded(bundleDir: string, set: readonly DepthPerson[]): Promise<EncodedDepthPhoto[]> {
  const encoder = await FaceEncoder.open(inferenceSettings(config()), bundleDir);
  try {
    return (await encodeDepthPhotos(encoder, values.root!, set)).photos;
  } finally {
    await encoder.close();
  }
}

const before = await encoded(values.before, people);
const after = await encoded(values.after!, people);
// Photos are matched by order: encodeDepthPhotos keeps the dataset's, and both bundles see the same faces.
if (before.length !== after.length) throw new Error(`the bundles found faces in ${before.length} and ${after.length} photos`);
const truths = new Map(people.map((p) => [p.name, p.depth]));
console.log(JSON.stringify({ before: values.before, after: values.after, ...pairedRmseChange(before, after, truths, Number(values.bootstrap)) }));
