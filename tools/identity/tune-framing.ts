/**
 * Chooses the identity network's crop framing on pairs of LFW *training* people (never the dev
 * pairs): landmarks once per photo, then the best-threshold verification accuracy of each framing.
 *   node dist/tools/identity/tune-framing.js --root ../shared/datasets/lfw/train [--pairs 300]
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { listPeople, samplePairs } from '../../src/dataset/folder-dataset.js';
import { decodeImage } from '../../src/inference/decode.js';
import { detectFaces, largestDetection } from '../../src/inference/detector.js';
import { detectLandmarks, regionFromDetection } from '../../src/inference/landmarks.js';
import { DEFAULT_IDENTITY_FRAMING, identityRegion, type IdentityFraming } from '../../src/inference/identity.js';
import { FEATURE_NETWORKS, featureVector } from '../../src/inference/feature-networks.js';
import { openFaceNetworks, closeFaceNetworks } from '../../src/inference/pipeline.js';
import type { RgbImage } from '../../src/core/image.js';
import { cosineSimilarity } from '../../src/core/vector.js';
import { bestThresholdAccuracy } from '../../src/eval/metrics.js';

const { values } = parseArgs({ options: { root: { type: 'string' }, pairs: { type: 'string', default: '300' }, seed: { type: 'string', default: '7' } } });
if (!values.root) throw new Error('--root <folder-per-person dataset> is required');
const root = values.root;

const pairs = samplePairs(await listPeople(root), Number(values.pairs), Number(values.seed));
// The landmark framing is FaceRes's crop; five-point networks have a fixed reference instead.
const networks = await openFaceNetworks(FEATURE_NETWORKS.faceres);
const faces = new Map<string, { image: RgbImage; points: Float32Array } | null>();
for (const path of new Set(pairs.flatMap((p) => [p.imageA, p.imageB]))) {
  const image = await decodeImage(await readFile(join(root, path)));
  const detection = largestDetection(await detectFaces(networks.detector, image));
  faces.set(path, detection ? { image, points: (await detectLandmarks(networks.landmarks, image, regionFromDetection(detection))).points } : null);
}
console.log(`${faces.size} photos, ${[...faces.values()].filter((f) => !f).length} without a face`);

async function evaluate(framing: IdentityFraming): Promise<number> {
  const features = new Map<string, Float32Array>();
  const started = Date.now();
  for (const [path, face] of faces) {
    if (face) features.set(path, await featureVector(networks.identity, face.image, identityRegion(face.points, framing)));
  }
  const scored = pairs.map((p) => {
    const a = features.get(p.imageA);
    const b = features.get(p.imageB);
    return { score: a && b ? cosineSimilarity(a, b) : -1, same: p.same };
  });
  const { accuracy } = bestThresholdAccuracy(scored);
  console.log(JSON.stringify({ ...framing, accuracy, msPerPhoto: (Date.now() - started) / faces.size }));
  return accuracy;
}

let best: IdentityFraming = DEFAULT_IDENTITY_FRAMING;
let bestAccuracy = await evaluate(best);
/** Coordinate search: one parameter at a time around the best so far. */
const steps: ((f: IdentityFraming) => IdentityFraming[])[] = [
  (f) => [f.side - 0.4, f.side + 0.4].map((side) => ({ ...f, side })),
  (f) => [f.offset - 0.2, f.offset + 0.2].map((offset) => ({ ...f, offset })),
  (f) => [{ ...f, level: !f.level }],
];
for (const step of steps) {
  for (const framing of step(best)) {
    const accuracy = await evaluate(framing);
    if (accuracy > bestAccuracy) [best, bestAccuracy] = [framing, accuracy];
  }
}
console.log('best', JSON.stringify({ ...best, accuracy: bestAccuracy }));
await closeFaceNetworks(networks);
