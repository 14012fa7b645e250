/**
 * Does the scan-based ICT-FaceKit shape model give more reliable per-person 3D shape labels than
 * raw FaceMesh points? Compares split-half reliability (people with >= 6 photos, see
 * `splitHalfReliability`) of three per-photo identity vectors on the same photos, pooled the
 * same way (robustPool, FaceMesh confidence x cos² yaw):
 *   - facemesh-pca: the 68 markup points taken from FaceMesh, similarity-aligned in 3D, projected
 *     on a K-component PCA across people (the bundle's recipe on the 68 points);
 *   - ict-3d: ICT identity (K modes) + expression fitted to those points in 3D;
 *   - ict-2d: the same fit from x, y only (scaled orthographic), ignoring FaceMesh's depth.
 * Reliability is reported for the coefficients and for the identity shapes they reconstruct (mm,
 * unit-free across methods). Also reports how well the mapped FaceMesh points land on ICT's own
 * landmarks68 (mean residual, mm, per region).
 *   npx tsc -p tsconfig.build.json && node dist/tools/ict/ict-label-reliability.js \
 *     [--extraction .cache/extract/train] [--ict ../shared/models3d/ict-facekit] [--modes 40] [--lambda 4] [--json]
 */
import { parseArgs } from 'node:util';
import { loadIctFaceKit } from '../../src/morphable/ict-facekit.js';
import { DLIB68_REGIONS, facemeshToDlib68 } from '../../src/morphable/facemesh-dlib68.js';
import { fitLandmarks2d, fitLandmarks3d, modelShape, transposeRotation, type LandmarkFit } from '../../src/morphable/landmark-fit.js';
import { fitConfidence } from '../../src/morphable/fit.js';
import { alignSimilarity, generalisedProcrustesMean, rotationToEuler } from '../../src/morphable/procrustes.js';
import { robustPool, splitHalfReliability, type SplitHalfReliability } from '../../src/morphable/pooling.js';
import { fitPca, project } from '../../src/morphable/pca.js';
import { imageToModelSpace } from '../../src/mesh/mesh.js';
import { loadExtraction, POINT_VALUES } from '../extract/cache.js';

const { values } = parseArgs({
  options: {
    extraction: { type: 'string', default: '.cache/extract/train' },
    ict: { type: 'string', default: '../shared/models3d/ict-facekit' },
    modes: { type: 'string', default: '40' },
    lambda: { type: 'string', default: '4' },
    iterations: { type: 'string', default: '4' },
    json: { type: 'boolean', default: false },
  },
});
const modes = Number(values.modes);
const lambda = Number(values.lambda);
const iterations = Number(values.iterations);
const MIN_PHOTOS_FOR_RELIABILITY = 6;
const MIN_PHOTOS_FOR_PCA = 2;
const log = (message: string): void => {
  if (!values.json) console.log(message);
};

const ict = await loadIctFaceKit(values.ict!, { identityModes: modes });
const extraction = await loadExtraction(values.extraction!);
const landmarks = extraction.faces.map((_, row) => facemeshToDlib68(imageToModelSpace(extraction.points.subarray(row * POINT_VALUES, (row + 1) * POINT_VALUES))));
const people = new Map<string, number[]>();
extraction.faces.forEach((entry, i) => people.set(entry.person, [...(people.get(entry.person) ?? []), i]));
const withAtLeast = (count: number): number[][] => [...people.values()].filter((photos) => photos.length >= count);
log(`${landmarks.length} photos, ${people.size} people, ${withAtLeast(MIN_PHOTOS_FOR_RELIABILITY).length} with >= ${MIN_PHOTOS_FOR_RELIABILITY} photos`);

// Mean FaceMesh 68-point shape, put in ICT's millimetre frame: its residual to ICT's landmarks68 checks the correspondence.
const gpa = generalisedProcrustesMean(landmarks, { iterations: 10 });
const ictNeutral = Float64Array.from(ict.identity.mean);
const meanInIct = alignSimilarity(gpa.mean, ictNeutral);
const correspondence = regionResiduals(meanInIct.aligned, ictNeutral);
log(`mapped FaceMesh mean vs ICT landmarks68 (mm): ${JSON.stringify(correspondence)}`);

const aligned = landmarks.map((points) => alignSimilarity(points, meanInIct.aligned));
const confidences = extraction.faces.map((entry, i) => fitConfidence(entry.confidence ?? 1, rotationToEuler(transposeRotation(aligned[i].rotation)).yaw));

// Baseline: PCA across people of the pooled aligned FaceMesh points, K components.
const pooled = withAtLeast(MIN_PHOTOS_FOR_PCA).map((photos) => robustPool(photos.map((i) => aligned[i].aligned), photos.map((i) => confidences[i])).pooled);
const pca = fitPca({ rows: pooled.length, cols: pooled[0].length, data: Float64Array.from(pooled.flatMap((p) => [...p])) }, { maxComponents: modes });
const reliable = withAtLeast(MIN_PHOTOS_FOR_RELIABILITY);
const reliablePhotos = reliable.flat();
const baselineCoefficients = new Map(reliablePhotos.map((i) => [i, project(pca, aligned[i].aligned)]));
const results: Record<string, { coefficients: SplitHalfReliability; shape: SplitHalfReliability; medianRmsdMm?: number; seconds: number }> = {
  'facemesh-pca': {
    coefficients: reliability((i) => baselineCoefficients.get(i)!),
    shape: reliability((i) => baselineCoefficients.get(i)!.map((a, j) => a * pca.sigma[j])),
    seconds: 0,
  },
};
log(`facemesh-pca: PCA over ${pooled.length} people (>= ${MIN_PHOTOS_FOR_PCA} photos), ${pca.basis.rows} components`);

for (const [name, fit] of [
  ['ict-3d', (i: number): LandmarkFit => fitLandmarks3d(ict, landmarks[i], { lambda, iterations })],
  ['ict-2d', (i: number): LandmarkFit => fitLandmarks2d(ict, xyOnly(landmarks[i]), { lambda, iterations })],
] as const) {
  const start = performance.now();
  const fits = new Map(reliablePhotos.map((i) => [i, fit(i)]));
  const noExpression = new Float64Array(ict.expression.basis.rows);
  results[name] = {
    coefficients: reliability((i) => fits.get(i)!.identity),
    shape: reliability((i) => modelShape(ict, fits.get(i)!.identity, noExpression)),
    medianRmsdMm: median([...fits.values()].map((f) => f.rmsd)),
    seconds: (performance.now() - start) / 1000,
  };
  log(`${name}: fitted ${fits.size} photos in ${results[name].seconds.toFixed(1)} s`);
}

const summary = {
  photos: reliablePhotos.length,
  people: reliable.length,
  modes,
  lambdaMm2: lambda,
  correspondenceResidualMm: correspondence,
  methods: Object.fromEntries(
    Object.entries(results).map(([name, r]) => [
      name,
      { coefficientR2: round(r.coefficients.r2), shapeR2: round(r.shape.r2), peopleUsed: r.coefficients.peopleUsed, medianRmsdMm: r.medianRmsdMm && round(r.medianRmsdMm), seconds: round(r.seconds) },
    ]),
  ),
};
console.log(values.json ? JSON.stringify(summary) : JSON.stringify(summary, null, 2));

function reliability(vector: (photo: number) => ArrayLike<number>): SplitHalfReliability {
  return splitHalfReliability(
    reliable.map((photos) => ({ vectors: photos.map((i) => Float64Array.from(vector(i))), confidences: photos.map((i) => confidences[i]) })),
    robustPool,
    MIN_PHOTOS_FOR_RELIABILITY,
  );
}

/** Mean point-to-point distance (mm) per markup region and overall. */
function regionResiduals(a: Float64Array, b: Float64Array): Record<string, number> {
  const distanceOf = (i: number): number => Math.hypot(a[3 * i] - b[3 * i], a[3 * i + 1] - b[3 * i + 1], a[3 * i + 2] - b[3 * i + 2]);
  const meanOver = (from: number, to: number): number => {
    let sum = 0;
    for (let i = from; i < to; i++) sum += distanceOf(i);
    return round(sum / (to - from));
  };
  return { ...Object.fromEntries(Object.entries(DLIB68_REGIONS).map(([region, [from, to]]) => [region, meanOver(from, to)])), all: meanOver(0, 68) };
}

function xyOnly(points: Float64Array): Float64Array {
  return Float64Array.from({ length: (points.length / 3) * 2 }, (_, k) => points[3 * Math.floor(k / 2) + (k % 2)]);
}

function median(list: number[]): number {
  const sorted = [...list].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)];
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
