/**
 * Issue 14: the bundle's depth correction from CFP's hand-marked frontal and full-profile photos.
 *   npm run train:depth -- [--bundle models/lfw-facemesh-v2] [--cfp ../shared/datasets/cfp] [--lambda auto]
 *                          [--ict ../shared/models3d/ict-facekit] [--agreement 3] [--frontal-photos 3]
 * Run after train:bundle: the correction is relative to the model's mean.
 *
 * Steps: every CFP person's marked points in 3D from their 10 frontal and 4 profile views
 * (`reconstructFromViews`); their depth less the model mean's at the same points
 * (`depthDifferences`); split-half reliability of those per-person differences; the points kept
 * where the population's difference agrees within --agreement mm with that of the ICT-FaceKit
 * scans' mean face (a second, independent measurement of real faces: a full profile hides the
 * inner eye corner and flattens the brow, and there the two disagree); the thin-plate smoothing
 * chosen by leave-one-point-out cross-validation over the kept points; the population's
 * correction, written to the bundle as a per-vertex offset. Then, measured only: how
 * well each person's regressed vector (the service's encoder on their first frontal photos)
 * predicts their own differences, by ridge regression cross-validated over CFP's five folds
 * (disjoint people).
 *
 * CFP people 001–250 are also issue 13's frontal–profile verification set: here their marked
 * points are shape labels only, never identity. Yale B's real depth is not read.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { decodeImage } from '../../src/inference/decode.js';
import { FaceEncoder } from '../../src/inference/face-encoder.js';
import { inferenceSettings } from '../../src/inference/inference-settings.js';
import { config } from '../../src/core/config.js';
import { mapConcurrent } from '../../src/core/concurrency.js';
import { loadBundle, readBundleManifest, writeManifest } from '../../src/morphable/bundle.js';
import { CFP_RIGID_POINTS, CFP_TO_DLIB68, initialCfpShape, rigidPoints } from '../../src/morphable/cfp-markup.js';
import { depthDifferences, depthFields, markedPoints, spreadDepth, type PointSources } from '../../src/morphable/depth-correction.js';
import { FACEMESH_TO_DLIB68 } from '../../src/morphable/facemesh-dlib68.js';
import { loadIctFaceKit } from '../../src/morphable/ict-facekit.js';
import { reconstructFromViews } from '../../src/morphable/multi-view.js';
import { fitRidgeHead } from '../../src/training/linear-head.js';
import { applyHeadBatch } from '../../src/training/head.js';
import type { Matrix } from '../../src/core/linear-algebra.js';
import { readCfpViews, type CfpPersonViews } from './cfp-fiducials.js';

const { values } = parseArgs({
  options: {
    bundle: { type: 'string', default: 'models/lfw-facemesh-v2' },
    cfp: { type: 'string', default: '../shared/datasets/cfp' },
    lambda: { type: 'string', default: 'auto' },
    'frontal-photos': { type: 'string', default: '3' },
    ict: { type: 'string', default: '../shared/models3d/ict-facekit' },
    agreement: { type: 'string', default: '3' },
  },
});
const log = (message: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${message}`);
const LAMBDAS = [0.01, 0.03, 0.1, 0.3, 1, 3, 10];
const RIDGES = [10, 30, 100, 300, 1000, 3000, 10000];
const FOLD_PEOPLE = 50;

const bundleDir = values.bundle!;
const bundle = await loadBundle(bundleDir);
const mean = bundle.shape.mean;
const sources: PointSources = CFP_RIGID_POINTS.map((i) => FACEMESH_TO_DLIB68[CFP_TO_DLIB68[i]]);
const modelPoints = markedPoints(mean, sources);
const people = await readCfpViews(values.cfp!);

// 1. Per person, the marked points in 3D and their depth against the model's.
const differencesOf = (frontal: readonly Float64Array[], profile: readonly Float64Array[]) => {
  const [f, p] = [frontal.map((v) => rigidPoints(v, 2)), profile.map((v) => rigidPoints(v, 2))];
  const fit = reconstructFromViews([...f, ...p], initialCfpShape(f, p));
  return { differences: depthDifferences(fit.points, modelPoints), rmsd: fit.rmsd };
};
const measured = people.map((person) => ({ person, ...differencesOf(person.frontal, person.profile) }));
const k = sources.length;
const population = Float64Array.from({ length: k }, (_, i) => measured.reduce((s, m) => s + m.differences[i], 0) / measured.length);
const deviations = measured.map((m) => Array.from(m.differences, (d, i) => d - population[i]));
const rms = (values: readonly number[]) => Math.sqrt(values.reduce((s, v) => s + v * v, 0) / values.length);
log(`${people.length} CFP people, ${k} points each; reprojection RMS ${rms(measured.map((m) => m.rmsd)).toFixed(3)} (face radius 1); population depth difference RMS ${rms([...population]).toFixed(2)} mm, people's deviations ${rms(deviations.flat()).toFixed(2)} mm`);

// 2. Split-half reliability: the same person from frontal 1–5 + profile 1–2 and from the rest.
const halves = (person: CfpPersonViews, half: 0 | 1) => differencesOf(person.frontal.slice(half * 5, half * 5 + 5), person.profile.slice(half * 2, half * 2 + 2)).differences;
const [a, b] = ([0, 1] as const).map((half) => people.map((person) => halves(person, half)));
const halfMean = (set: Float64Array[]) => Float64Array.from({ length: k }, (_, i) => set.reduce((s, d) => s + d[i], 0) / set.length);
const [ma, mb] = [halfMean(a), halfMean(b)];
/** Split-half correlation of people's deviations at `points`, and the Spearman-Brown reliability of the whole set. */
const halfReliability = (points: readonly number[]) => {
  let [sab, saa, sbb] = [0, 0, 0];
  a.forEach((da, p) => points.forEach((i) => {
    const [x, y] = [da[i] - ma[i], b[p][i] - mb[i]];
    sab += x * y; saa += x * x; sbb += y * y;
  }));
  const r = sab / Math.sqrt(saa * sbb);
  return { halves: r, reliability: (2 * r) / (1 + r) };
};
const allPoints = Array.from({ length: k }, (_, i) => i);
const overall = halfReliability(allPoints);
log(`people's deviations, all points: split-half correlation ${overall.halves.toFixed(3)}, Spearman-Brown reliability of the full set ${overall.reliability.toFixed(3)}`);

// 3. The points the scans confirm.
const ict = await loadIctFaceKit(values.ict!, { identityModes: 1 });
const ictPoints = await loadIctFaceKit(values.ict!, { identityModes: 1, vertices: CFP_RIGID_POINTS.map((i) => ict.landmarks68[CFP_TO_DLIB68[i]]) });
const scanDifferences = depthDifferences(Float64Array.from(ictPoints.identity.mean), modelPoints);
const agreement = Number(values.agreement);
const kept = allPoints.filter((i) => Math.abs(population[i] - scanDifferences[i]) <= agreement);
const describe = (i: number) => `${CFP_RIGID_POINTS[i] + 1} (CFP ${population[i].toFixed(1)}, scans ${scanDifferences[i].toFixed(1)})`;
const keptReliability = halfReliability(kept);
log(`points kept, CFP and scans within ${agreement} mm: ${kept.length} of ${k}; left out: ${allPoints.filter((i) => !kept.includes(i)).map(describe).join(', ')}; people's deviations there: split-half ${keptReliability.halves.toFixed(3)}, reliability ${keptReliability.reliability.toFixed(3)}`);

// 4. Smoothing: leave each kept point (with its mirror image) out, predict it from the others;
// the smoothest lambda within one standard error of the best (the usual one-standard-error rule).
const leaveOneOut = (lambda: number): number[] => kept.map((left) => {
  const others = kept.filter((i) => i !== left);
  const spread = spreadDepth(depthFields(mean, others.map((i) => sources[i]), lambda), others.map((i) => population[i]));
  return (markedPoints(spread, [sources[left]])[2] - population[left]) ** 2;
});
const scores = LAMBDAS.map((lambda) => {
  const squared = leaveOneOut(lambda);
  const mse = squared.reduce((s, v) => s + v, 0) / squared.length;
  const se = Math.sqrt(squared.reduce((s, v) => s + (v - mse) ** 2, 0) / (squared.length - 1) / squared.length);
  return { lambda, mse, se };
});
const best = scores.reduce((a, s) => (s.mse < a.mse ? s : a));
const lambda = values.lambda === 'auto' ? Math.max(...scores.filter((s) => s.mse <= best.mse + best.se).map((s) => s.lambda)) : Number(values.lambda);
log(`leave-one-point-out RMS (mm) by smoothing: ${scores.map((s) => `${s.lambda}: ${Math.sqrt(s.mse).toFixed(2)}`).join(', ')}; lambda ${lambda}`);
const correctionMean = Float32Array.from(spreadDepth(depthFields(mean, kept.map((i) => sources[i]), lambda), kept.map((i) => population[i])));
log(`population correction: ${Math.min(...correctionMean).toFixed(1)} to ${Math.max(...correctionMean).toFixed(1)} mm in depth`);

// 5. The person's part, measured: the regressed vector of their first frontal photos against their deviations.
const frontalCount = Number(values['frontal-photos']);
// The vectors depend on the regressor: the cache is named after its bytes.
const regressor = bundle.manifest.regressor ? createHash('sha256').update(await readFile(join(bundleDir, bundle.manifest.regressor.file))).digest('hex').slice(0, 12) : 'none';
const cachePath = join('.cache', 'depth', `cfp-vectors-${regressor}-${frontalCount}.json`);
const vectors = await readFile(cachePath, 'utf8').then((t) => JSON.parse(t) as Record<string, number[][]>, async () => {
  const encoder = await FaceEncoder.open(inferenceSettings(config()), bundleDir);
  const jobs = people.flatMap(({ person }) => Array.from({ length: frontalCount }, (_, i) => ({ person, path: join(values.cfp!, 'Data', 'Images', person, 'frontal', `${String(i + 1).padStart(2, '0')}.jpg`) })));
  const encoded = await mapConcurrent(jobs, 2, async ({ person, path }) => {
    const [face] = await encoder.encode(await decodeImage(await readFile(path)), { select: 'central' });
    return face ? { person, vector: [...face.vector.shape, ...face.vector.texture] } : undefined;
  });
  await encoder.close();
  const byPerson: Record<string, number[][]> = {};
  for (const e of encoded) if (e) (byPerson[e.person] ??= []).push(e.vector);
  await mkdir(join('.cache', 'depth'), { recursive: true });
  await writeFile(cachePath, JSON.stringify(byPerson));
  return byPerson;
});
const labelled = measured.map((m, p) => ({ index: p, vectors: vectors[m.person.person] ?? [] })).filter((m) => m.vectors.length > 0);
const asMatrix = (rows: readonly ArrayLike<number>[]): Matrix<Float64Array> => ({ rows: rows.length, cols: rows[0].length, data: Float64Array.from(rows.flatMap((r) => Array.from(r))) });
const inputs = labelled.map((m) => m.vectors[0].map((_, c) => m.vectors.reduce((s, v) => s + v[c], 0) / m.vectors.length));
const targets = labelled.map((m) => kept.map((i) => deviations[m.index][i]));
const crossValidated = (ridge: number) => {
  let [sse, sst, spp, spy] = [0, 0, 0, 0];
  for (let fold = 0; fold * FOLD_PEOPLE < people.length; fold++) {
    const inFold = labelled.map((m) => Math.floor(m.index / FOLD_PEOPLE) === fold);
    const train = (rows: readonly number[][]) => rows.filter((_, i) => !inFold[i]);
    const head = fitRidgeHead(asMatrix(train(inputs)), asMatrix(train(targets)), { lambda: ridge });
    const test = inputs.filter((_, i) => inFold[i]);
    if (test.length === 0) continue;
    const predicted = applyHeadBatch(head, asMatrix(test));
    targets.filter((_, i) => inFold[i]).forEach((y, r) => y.forEach((v, j) => {
      const p = predicted.data[r * kept.length + j];
      sse += (v - p) ** 2; sst += v * v; spp += p * p; spy += p * v;
    }));
  }
  return { ridge, r2: 1 - sse / sst, correlation: spy / Math.sqrt(spp * sst), sizeRatio: Math.sqrt(spp / sst) };
};
const ridgeScores = RIDGES.map(crossValidated);
const bestRidge = ridgeScores.reduce((best, s) => (s.r2 > best.r2 ? s : best));
log(`person's part at the kept points, ${labelled.length} people, 5-fold by CFP fold: ${ridgeScores.map((s) => `ridge ${s.ridge}: R² ${s.r2.toFixed(3)} r ${s.correlation.toFixed(2)} size ${s.sizeRatio.toFixed(2)}`).join('; ')}`);

// 6. Into the bundle: the population's correction only (the person's part is measured above and
// kept out while its cross-validated R² is this low).
const offset = 'depth-offset.f32';
await writeFile(join(bundleDir, offset), correctionMean);
const manifest = await readBundleManifest(bundleDir);
await writeManifest(bundleDir, {
  ...manifest,
  depth: {
    offset,
    dims: correctionMean.length,
    source: `CFP people ${people[0].person}–${people[people.length - 1].person}: the population's depth at ${kept.length} of ${k} hand-marked points (3D from frontal and full-profile photos; those within ${agreement} mm of the ICT-FaceKit scans' mean) less the model mean's, spread by a thin-plate spline (lambda ${lambda}); people's deviations there: split-half reliability ${keptReliability.reliability.toFixed(3)}, predicted from the identity vector with cross-validated R² ${bestRidge.r2.toFixed(3)} (not used)`,
  },
});
log(`depth correction written to ${bundleDir}`);
