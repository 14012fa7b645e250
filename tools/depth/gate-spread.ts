/**
 * Issue 14's gate (docs/BENCHMARKS.md §50, §52): per person, the photos' `lightingSpread`, the joint
 * fit's residual and their ratio `lightingEvidence`, the joint fit's residual as a share of the
 * unrefined shape's (`RESIDUAL_FLOOR`'s measure) and how many the gate decides without the joint fit, on synthetic renders whose photos are lit from
 * different directions (each photo its own light) or alike (one light per person), and on a real
 * dataset's people as a download reads them: CFP's frontal photos from the encodings
 * `cfp-profile-depth.ts` cached, or a real-depth dataset's (`--depth-root`, encoded here, the photos
 * fidelity3d reads). Prints each set's distributions and how many people reach `--evidence` (default
 * JOINT_EVIDENCE, the gate's); the threshold was chosen from the synthetic and CFP sets, never Yale B.
 * Also the joint fit's residual after its first --early iterations, and the final residual as a share
 * of it: the least share is how far later iterations can lower it (an early-out's floor).
 *   npx tsc -p tsconfig.build.json && nice -n 10 node dist/tools/depth/gate-spread.js \
 *     [--people 40] [--photos 8] [--seed 50] [--cfp-cache .cache/depth-s7/cfp-frontal-2dfc5f43d8fc.json] \
 *     [--cfp ../shared/datasets/cfp] [--depth-root DIR] [--evidence X] [--early 2] [--json out.json]
 */
import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { config } from '../../src/core/config.js';
import { readDepthDataset, REFERENCE_LIGHTS } from '../../src/dataset/depth-dataset.js';
import { encodeDepthPhotos, personPhotos, type EncodedDepthPhoto } from '../../src/eval/depth-photos.js';
import { defaultBundleDir, FaceEncoder } from '../../src/inference/face-encoder.js';
import { inferenceSettings } from '../../src/inference/inference-settings.js';
import { loadBundle } from '../../src/morphable/bundle.js';
import { JOINT_EVIDENCE, JOINT_PHOTOS, jointRefinement, lightingEvidence, lightingOrder, photoIntensity, photoLightings, RESIDUAL_FLOOR, spreadOfLightings, unrefinedResidual, type ShadingPhoto } from '../../src/morphable/shading-refine.js';
import { mulberry32 } from '../../src/training/random.js';
import { meanFacePeople, type SyntheticLight } from './shading-synthetic.js';

const { values } = parseArgs({
  options: {
    people: { type: 'string', default: '40' },
    photos: { type: 'string', default: String(JOINT_PHOTOS) },
    seed: { type: 'string', default: '50' },
    'cfp-cache': { type: 'string' },
    cfp: { type: 'string', default: '../shared/datasets/cfp' },
    'depth-root': { type: 'string' },
    evidence: { type: 'string', default: String(JOINT_EVIDENCE) },
    early: { type: 'string', default: '2' },
    json: { type: 'string' },
  },
});
const log = (message: string) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${message}`);
const sets: Record<string, number[]> = {};
const residuals: Record<string, number[]> = {};
const unrefined: Record<string, number[]> = {};
const early: Record<string, number[]> = {};
const earlyIterations = Number(values.early);
/**
 * The gate's statistics of one person's photos on their template: the lights' spread, the joint
 * fit's residual, and the residual before it (`unrefinedResidual`, over the photos the fit takes).
 */
function personStats(name: string, shape: Float32Array, photos: readonly ShadingPhoto[]): void {
  const lightings = photoLightings(shape, photos, 1);
  (sets[name] ??= []).push(spreadOfLightings(lightings));
  (residuals[name] ??= []).push(jointRefinement(shape, photos).residual);
  (unrefined[name] ??= []).push(unrefinedResidual(lightings, lightingOrder(lightings).slice(0, JOINT_PHOTOS)));
  // The same fit stopped after its first iterations (the fit is deterministic: these are the full fit's first iterations).
  (early[name] ??= []).push(jointRefinement(shape, photos, { iterations: earlyIterations }).residual);
}

// Synthetic: §46's renders (one skin per person), 2.5 mm deviations, the tune's noise; lights varied or alike.
const random = mulberry32(Number(values.seed));
for (const light of ['point', 'harmonic'] as SyntheticLight[]) {
  for (const sameLight of [false, true]) {
    const { mean, people } = await meanFacePeople({ count: Number(values.people), photos: Number(values.photos), rmsMm: 2.5, ownSkin: true, sameLight }, { light, landmarkNoisePx: 0.7, pixelNoise: 0.01, albedoNoise: 0.08 }, random);
    // As a download reads them: the stored 8-bit photos.
    for (const person of people) personStats(`synthetic ${light}, ${sameLight ? 'alike' : 'varied'}`, mean, person.photos.map((p) => ({ image: photoIntensity(p.rgb), landmarks: p.landmarks })));
    log(`synthetic ${light} ${sameLight ? 'alike' : 'varied'} done`);
  }
}

/** Each person's statistics over the photos a download reads (`personPhotos`). */
async function realStats(name: string, root: string, photos: readonly EncodedDepthPhoto[]): Promise<void> {
  const bundle = await loadBundle(defaultBundleDir());
  for (const person of [...new Set(photos.map((p) => p.person))]) {
    const { regressed, photos: read } = await personPhotos(bundle, root, photos.filter((p) => p.person === person));
    personStats(name, regressed, read);
  }
}

if (values['cfp-cache']) {
  type Cached = Omit<EncodedDepthPhoto, 'landmarks' | 'mesh' | 'shape'> & { landmarks: number[]; shape: number[] };
  const cached = JSON.parse(await readFile(values['cfp-cache'], 'utf8')) as Cached[];
  await realStats('cfp', values.cfp!, cached.map((c) => ({ ...c, landmarks: Float32Array.from(c.landmarks), shape: Float32Array.from(c.shape), mesh: new Float32Array(0) })));
  log('CFP done');
}
if (values['depth-root']) {
  const root = values['depth-root'];
  const encoder = await FaceEncoder.open(inferenceSettings(config()));
  try {
    const { photos } = await encodeDepthPhotos(encoder, root, await readDepthDataset(root, REFERENCE_LIGHTS));
    await realStats(root, root, photos);
  } finally {
    await encoder.close();
  }
}

const quantile = (sorted: readonly number[], q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))))];
const distribution = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return Object.fromEntries([0, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 1].map((q) => [`q${Math.round(q * 100)}`, Number(quantile(sorted, q).toFixed(4))]));
};
const threshold = Number(values.evidence);
const report = Object.fromEntries(Object.entries(sets).map(([name, spreads]) => {
  const evidence = spreads.map((s, k) => lightingEvidence(s, residuals[name][k]));
  return [name, {
    people: spreads.length,
    evidence: distribution(evidence),
    atOrAbove: { evidence: threshold, people: evidence.filter((e) => e >= threshold).length },
    spread: distribution(spreads),
    residual: distribution(residuals[name]),
    // The joint fit's residual as a share of the unrefined one, and who the gate decides without the joint fit (`RESIDUAL_FLOOR`).
    residualShare: distribution(residuals[name].map((r, k) => (unrefined[name][k] > 0 ? r / unrefined[name][k] : 1))),
    decidedWithoutJointFit: spreads.filter((s, k) => lightingEvidence(s, RESIDUAL_FLOOR * unrefined[name][k]) < threshold).length,
    // Of those, people whose joint fit would have reached the threshold: the bound would change their download (must be 0).
    decidedOtherwise: spreads.filter((s, k) => lightingEvidence(s, RESIDUAL_FLOOR * unrefined[name][k]) < threshold && evidence[k] >= threshold).length,
    // The final residual as a share of the one after --early iterations (its least value bounds what later iterations can do).
    earlyShare: distribution(residuals[name].map((r, k) => (early[name][k] > 0 ? r / early[name][k] : 1))),
    perPerson: evidence.map((e, k) => ({ evidence: Number(e.toFixed(4)), spread: Number(spreads[k].toFixed(4)), residual: Number(residuals[name][k].toFixed(4)), unrefined: Number(unrefined[name][k].toFixed(4)), early: Number(early[name][k].toFixed(4)) })),
  }];
}));
const text = JSON.stringify(report, null, 1);
if (values.json) await writeFile(values.json, text);
console.log(text);
