/**
 * Issue 14, idea 2c, measured against real depth: the service's neutral mesh of each Yale B photo,
 * refined by that photo's shading (`src/morphable/shading-refine.ts`, settings chosen on synthetic
 * faces by `shading-tune.ts`), and per person the refinement pooled over the person's photos, each
 * through fidelity3d's maths (`depthFidelity`, unchanged), with the plain mesh as the baseline and
 * a paired per-photo RMSE change against it.
 *   npx tsc -p tsconfig.build.json && nice -n 10 node dist/tools/depth/shading-fidelity.js \
 *     [--root ../shared/datasets/yaleb3d/dev] [--photos all] [--bundle models/lfw-facemesh-v2] [--options '{"smoothness":0.01}']
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readDepthDataset, REFERENCE_LIGHTS } from '../../src/dataset/depth-dataset.js';
import { depthFidelity, type DepthFidelityReport, type DepthPhoto } from '../../src/eval/depth-fidelity.js';
import { encodeDepthPhotos } from '../../src/eval/depth-photos.js';
import { config } from '../../src/core/config.js';
import { decodeImage } from '../../src/inference/decode.js';
import { defaultBundleDir, FaceEncoder } from '../../src/inference/face-encoder.js';
import { inferenceSettings } from '../../src/inference/inference-settings.js';
import { photoIntensity, shadingChange } from '../../src/morphable/shading-refine.js';
import type { ShadingDepthOptions } from '../../src/morphable/shading-depth.js';
import { pairedRmseChange } from './paired.js';

const { values } = parseArgs({
  options: {
    root: { type: 'string', default: '../shared/datasets/yaleb3d/dev' },
    photos: { type: 'string' },
    bundle: { type: 'string' },
    options: { type: 'string', default: '{}' },
    bootstrap: { type: 'string', default: '1000' },
  },
});
const root = values.root!;
const options = JSON.parse(values.options!) as ShadingDepthOptions;
const people = await readDepthDataset(root, values.photos === 'all' ? undefined : (values.photos?.split(',') ?? REFERENCE_LIGHTS));
const truths = new Map(people.map((p) => [p.name, p.depth]));

const encoder = await FaceEncoder.open(inferenceSettings(config()), values.bundle ?? defaultBundleDir());
const plain: DepthPhoto[] = [];
const refined: DepthPhoto[] = [];
const started = Date.now();
try {
  for (const person of people) {
    for (const path of person.photos) {
      // One photo at a time, so each encoded photo stays paired with its own pixels.
      const { photos: [photo] } = await encodeDepthPhotos(encoder, root, [{ ...person, photos: [path] }]);
      if (!photo) continue;
      const image = photoIntensity(await decodeImage(await readFile(join(root, path))));
      const change = shadingChange(photo.mesh, { image, landmarks: photo.landmarks }, options);
      plain.push(photo);
      refined.push({ ...photo, mesh: photo.mesh.map((v, c) => v + change[c]) });
    }
  }
} finally {
  await encoder.close();
}
const seconds = (Date.now() - started) / 1000;

/** Each photo's mesh replaced by its person's mean refined mesh (the pool of their photos' refinements). */
const pooled: DepthPhoto[] = refined.map((photo) => {
  const own = refined.filter((p) => p.person === photo.person);
  return { ...photo, mesh: photo.mesh.map((_, c) => own.reduce((s, p) => s + p.mesh[c], 0) / own.length) };
});

const bootstrap = Number(values.bootstrap);
const summary = (report: DepthFidelityReport) => ({ mesh: report.mesh, meanOfOthersMeshes: report.meanOfOthersMeshes, meanOfOthersRealFaces: report.meanOfOthersRealFaces });
const plainReport = depthFidelity(plain, truths, { bootstrap });
console.log(JSON.stringify({
  root,
  photos: plain.length,
  people: plainReport.people,
  options,
  secondsForRefinement: seconds,
  verticesCompared: plainReport.verticesCompared,
  truthDeviationRmsPx: plainReport.truthDeviationRmsPx,
  chanceRank1: plainReport.chanceRank1,
  plain: summary(plainReport),
  perPhoto: summary(depthFidelity(refined, truths, { bootstrap })),
  pooledPerPerson: summary(depthFidelity(pooled, truths, { bootstrap })),
  pairedRmseChange: {
    perPhoto: pairedRmseChange(plain, refined, truths, bootstrap),
    pooledPerPerson: pairedRmseChange(plain, pooled, truths, bootstrap),
  },
}, null, 1));
