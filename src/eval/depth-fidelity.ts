/**
 * How faithful a face's 3D shape is, measured against real depth (issue 14's `fidelity3d`).
 *
 * Per photo, every estimate (a mesh in the FaceMesh vertex order, any frame and units) is posed on
 * the photo by the scaled orthographic camera that best maps its vertices onto the photo's own
 * landmarks (x, y only: FaceMesh's z is the thing under test, not a measurement). Its depth at each
 * vertex is then compared with the real depth sampled at that landmark, where the truth is valid,
 * after a best-fit plane z = a·x + b·y + c is taken out of each (heads are pitched; a plane is
 * pose, not shape). Comparing at the vertices keeps one vertex the same point of every face, so
 * people can be averaged vertex by vertex.
 *
 * What makes one face differ from the average is measured on deviations from leave-one-out means:
 * (estimate − the mean of the other people's estimates, posed on this photo) against
 * (truth − the mean of the other people's real depth, sampled here). Both means are also the
 * baselines: an estimate no better than them has learnt the average face, not this one.
 */
import { quantile } from 'simple-statistics';
import { orthographicPose } from '../morphable/landmark-fit.js';
import { alignSimilarity } from '../morphable/procrustes.js';
import { mulberry32, randomInt } from '../training/random.js';
import type { FloatArray } from '../core/linear-algebra.js';
import type { DepthMap } from '../dataset/depth-dataset.js';

export interface DepthPhoto {
  readonly person: string;
  /** The photo's landmarks, flat (x, y, z) in pixels with y down; only x and y are used. */
  readonly landmarks: Float32Array;
  /** The estimated neutral mesh, flat xyz in millimetres, y up and +z towards the viewer, landmark order. */
  readonly mesh: Float32Array;
}

export interface Interval {
  readonly value: number;
  /** 2.5% and 97.5% points of the people-bootstrap. */
  readonly low: number;
  readonly high: number;
}

/** One estimate's figures over all photos. */
export interface EstimateFigures {
  readonly rmsePx: Interval;
  readonly rmseMm: Interval;
  /**
   * Photos whose estimate's deviation from its mean correlates best with their own person's real
   * deviation, among all people's (a tie of k counts 1/k, so a baseline scores chance).
   */
  readonly rank1: Interval;
  /** Pearson correlation of the estimate's and the truth's deviations, pooled over vertices and photos. */
  readonly correlation: Interval;
  /** 1 − Σ(d_truth − d_estimate)² / Σ d_truth²: the share of the truth's deviations the estimate explains. */
  readonly r2: Interval;
  /** RMS of the estimate's deviations over RMS of the truth's. */
  readonly sizeRatio: Interval;
}

export interface DepthFidelityReport {
  readonly people: number;
  readonly photos: number;
  /** Median vertices per photo where the truth (and the mean of the others' truth) is valid. */
  readonly verticesCompared: number;
  /** Median photo pixels per millimetre of the mesh, from its fitted pose. */
  readonly pxPerMm: number;
  /** RMS of the real deviations from the mean of the others' real faces (px). */
  readonly truthDeviationRmsPx: Interval;
  readonly chanceRank1: number;
  readonly mesh: EstimateFigures;
  readonly meanOfOthersMeshes: EstimateFigures;
  readonly meanOfOthersRealFaces: EstimateFigures;
  readonly bootstrap: number;
}

export interface DepthFidelityOptions {
  /** People-bootstrap resamples; default 1000. */
  readonly bootstrap?: number;
  readonly seed?: number;
}

/**
 * A shape's depth (pixels, nearer is larger) at each vertex when posed on the photo's landmarks by
 * the scaled orthographic camera fitted on the `fit` vertices, and its pixels per shape unit. Every
 * shape compared on one photo is fitted on the same vertices, so none gets a scale of its own choosing.
 */
export function posedDepth(shape: FloatArray, landmarks: FloatArray, fit: Uint8Array): { depth: Float64Array; scale: number } {
  const chosen = [...fit.keys()].filter((i) => fit[i]);
  const source = new Float64Array(3 * chosen.length);
  const target = new Float64Array(2 * chosen.length);
  chosen.forEach((i, k) => {
    source.set([shape[3 * i], shape[3 * i + 1], shape[3 * i + 2]], 3 * k);
    target.set([landmarks[3 * i], -landmarks[3 * i + 1]], 2 * k);
  });
  for (let axis = 0; axis < 2; axis++) {
    let centre = 0;
    for (let k = 0; k < chosen.length; k++) centre += target[2 * k + axis] / chosen.length;
    for (let k = 0; k < chosen.length; k++) target[2 * k + axis] -= centre;
  }
  // The image axes (x right, y up) and the third row, towards the viewer, make a right-handed frame.
  const { rotation, scale } = orthographicPose(source, target);
  const depth = Float64Array.from({ length: shape.length / 3 }, (_, i) => scale * (rotation[6] * shape[3 * i] + rotation[7] * shape[3 * i + 1] + rotation[8] * shape[3 * i + 2]));
  return { depth, scale };
}

/**
 * Neighbouring pixels further apart in depth than this (pixels) are a steep slope or a step (the
 * sides and underside of the nose, the face's silhouette): there, a landmark half a pixel off reads
 * a depth several pixels off, which would swamp the person-to-person differences measured.
 */
export const MAX_DEPTH_STEP = 2;

/** Bilinear depth at (x, y) pixels; NaN unless all four neighbours are known and within MAX_DEPTH_STEP of each other. */
export function sampleDepth(map: DepthMap, x: number, y: number): number {
  const fx = x - 0.5;
  const fy = y - 0.5;
  const x0 = Math.floor(fx);
  const y0 = Math.floor(fy);
  if (x0 < 0 || y0 < 0 || x0 + 1 >= map.width || y0 + 1 >= map.height) return NaN;
  const tx = fx - x0;
  const ty = fy - y0;
  const at = (px: number, py: number): number => map.depth[py * map.width + px];
  const corners = [at(x0, y0), at(x0 + 1, y0), at(x0, y0 + 1), at(x0 + 1, y0 + 1)];
  if (Math.max(...corners) - Math.min(...corners) > MAX_DEPTH_STEP) return NaN;
  const top = at(x0, y0) * (1 - tx) + at(x0 + 1, y0) * tx;
  const bottom = at(x0, y0 + 1) * (1 - tx) + at(x0 + 1, y0 + 1) * tx;
  return top * (1 - ty) + bottom * ty;
}

/** The map's depth at every landmark. */
function depthAtLandmarks(map: DepthMap, landmarks: FloatArray): Float64Array {
  return Float64Array.from({ length: landmarks.length / 3 }, (_, i) => sampleDepth(map, landmarks[3 * i], landmarks[3 * i + 1]));
}

/** z less its least-squares plane a·x + b·y + c over the `valid` vertices (others are NaN). */
export function removePlane(z: ArrayLike<number>, landmarks: FloatArray, valid: Uint8Array): Float64Array {
  // Normal equations of [x y 1]; coordinates centred so they stay well conditioned.
  let n = 0, mx = 0, my = 0, mz = 0;
  for (let i = 0; i < valid.length; i++) {
    if (!valid[i]) continue;
    n++;
    mx += landmarks[3 * i];
    my += landmarks[3 * i + 1];
    mz += z[i];
  }
  mx /= n; my /= n; mz /= n;
  let sxx = 0, sxy = 0, syy = 0, sxz = 0, syz = 0;
  for (let i = 0; i < valid.length; i++) {
    if (!valid[i]) continue;
    const x = landmarks[3 * i] - mx, y = landmarks[3 * i + 1] - my, d = z[i] - mz;
    sxx += x * x; sxy += x * y; syy += y * y; sxz += x * d; syz += y * d;
  }
  const det = sxx * syy - sxy * sxy;
  const a = det > 0 ? (sxz * syy - syz * sxy) / det : 0;
  const b = det > 0 ? (syz * sxx - sxz * sxy) / det : 0;
  return Float64Array.from({ length: valid.length }, (_, i) => (valid[i] ? z[i] - mz - a * (landmarks[3 * i] - mx) - b * (landmarks[3 * i + 1] - my) : NaN));
}

function rmsDifference(a: Float64Array, b: Float64Array, valid: Uint8Array): number {
  let sum = 0, n = 0;
  for (let i = 0; i < valid.length; i++) {
    if (!valid[i]) continue;
    sum += (a[i] - b[i]) ** 2;
    n++;
  }
  return Math.sqrt(sum / n);
}

/** Pearson correlation of x and y over the `valid` entries (all by default); 0 when either side does not vary. */
export function correlation(x: ArrayLike<number>, y: ArrayLike<number>, valid?: ArrayLike<number>): number {
  const s = deviationSums(x, new Float64Array(x.length), y, new Float64Array(y.length), valid ?? new Uint8Array(x.length).fill(1));
  return pooledCorrelation(s);
}

function pooledCorrelation(s: DeviationSums): number {
  const cov = s.sxy - (s.sx * s.sy) / s.n;
  const varX = s.sxx - (s.sx * s.sx) / s.n;
  const varY = s.syy - (s.sy * s.sy) / s.n;
  // An estimate that never departs from its mean (a baseline) has no correlation with anything.
  return varX > 1e-9 * varY && varY > 0 ? cov / Math.sqrt(varX * varY) : 0;
}

/** Pooled sums of (x = estimate deviation, y = truth deviation), so figures over any set of photos add up. */
interface DeviationSums {
  n: number; sx: number; sy: number; sxx: number; syy: number; sxy: number; sse: number;
}

function deviationSums(estimate: ArrayLike<number>, estimateMean: ArrayLike<number>, truth: ArrayLike<number>, truthMean: ArrayLike<number>, valid: ArrayLike<number>): DeviationSums {
  const s: DeviationSums = { n: 0, sx: 0, sy: 0, sxx: 0, syy: 0, sxy: 0, sse: 0 };
  for (let i = 0; i < valid.length; i++) {
    if (!valid[i]) continue;
    const x = estimate[i] - estimateMean[i];
    const y = truth[i] - truthMean[i];
    s.n++; s.sx += x; s.sy += y; s.sxx += x * x; s.syy += y * y; s.sxy += x * y; s.sse += (y - x) ** 2;
  }
  return s;
}

interface EstimateRecord {
  readonly rmsePx: number;
  readonly rmseMm: number;
  readonly rank1: number;
  readonly deviations: DeviationSums;
}

interface PhotoRecord {
  readonly person: string;
  readonly vertices: number;
  readonly pxPerMm: number;
  readonly estimates: Readonly<Record<EstimateName, EstimateRecord>>;
}

const ESTIMATES = ['mesh', 'meanOfOthersMeshes', 'meanOfOthersRealFaces'] as const;
type EstimateName = (typeof ESTIMATES)[number];

/** Vertex-wise mean of point sets in one vertex order, over the sets that know each value (NaN where fewer than half do). */
function meanPoints(sets: readonly FloatArray[]): Float64Array {
  return Float64Array.from(sets[0], (_, c) => {
    let sum = 0, n = 0;
    for (const set of sets) if (Number.isFinite(set[c])) { sum += set[c]; n++; }
    return n * 2 >= sets.length ? sum / n : NaN;
  });
}

const finite = (values: ArrayLike<number>): Uint8Array => Uint8Array.from(values as ArrayLike<number>, (v) => (Number.isFinite(v) ? 1 : 0));

/**
 * A person's real face as a 3D shape in landmark correspondence: the mean of their photos'
 * landmarks in the image plane (y up) and their real depth there, its plane removed; z is NaN where
 * the depth is not known.
 */
function realShape(landmarks: FloatArray, map: DepthMap): Float64Array {
  const depth = depthAtLandmarks(map, landmarks);
  const flat = removePlane(depth, landmarks, finite(depth));
  return Float64Array.from(landmarks, (v, c) => (c % 3 === 0 ? v : c % 3 === 1 ? -v : flat[(c - 2) / 3]));
}

/**
 * Real faces turned into one frame before they are averaged (heads in the photos are pitched by up to
 * 20°, and the mean of pitched faces is no face): each is similarity-aligned, on the vertices whose
 * depth it knows, to the mean of the others so aligned, twice over. Unknown depths stay NaN.
 */
function alignedRealShapes(shapes: readonly Float64Array[]): Float64Array[] {
  const known = shapes.map((shape) => Float64Array.from({ length: shape.length / 3 }, (_, i) => (Number.isFinite(shape[3 * i + 2]) ? 1 : 0)));
  const filled = shapes.map((shape) => shape.map((v) => (Number.isFinite(v) ? v : 0)));
  let aligned = shapes.map((shape) => Float64Array.from(shape));
  for (let round = 0; round < 2; round++) {
    const reference = meanPoints(aligned).map((v) => (Number.isFinite(v) ? v : 0));
    aligned = filled.map((shape, k) => alignSimilarity(shape, reference, known[k]).aligned.map((v, c) => (known[k][Math.floor(c / 3)] ? v : NaN)));
  }
  return aligned;
}

function depthOf(shape: Float64Array): Float64Array {
  return Float64Array.from({ length: shape.length / 3 }, (_, i) => shape[3 * i + 2]);
}

/** What one photo is compared with: the means of the other people, and every person's real face. */
interface PhotoContext {
  readonly truth: DepthMap;
  readonly othersMeshes: Float64Array;
  /** The others' real faces (`realShape`), averaged vertex by vertex. */
  readonly othersRealFaces: Float64Array;
  readonly candidates: readonly { readonly person: string; readonly depth: Float64Array }[];
  /** Vertices whose real depth most people have: every pose is fitted on these. */
  readonly compared: Uint8Array;
}

function photoRecord(photo: DepthPhoto, context: PhotoContext): PhotoRecord {
  const { landmarks } = photo;
  const truthRaw = depthAtLandmarks(context.truth, landmarks);
  const fit = Uint8Array.from(context.compared, (v, i) => (v && Number.isFinite(context.othersRealFaces[3 * i + 2]) ? 1 : 0));
  const valid = Uint8Array.from(fit, (v, i) => (v && Number.isFinite(truthRaw[i]) ? 1 : 0));
  const posed = posedDepth(photo.mesh, landmarks, fit);
  const depths: Record<EstimateName, Float64Array> = {
    mesh: removePlane(posed.depth, landmarks, valid),
    meanOfOthersMeshes: removePlane(posedDepth(context.othersMeshes, landmarks, fit).depth, landmarks, valid),
    meanOfOthersRealFaces: removePlane(posedDepth(context.othersRealFaces, landmarks, fit).depth, landmarks, valid),
  };
  const truth = removePlane(truthRaw, landmarks, valid);
  // 3D recognition by deviations: which person's real face departs from the average as this
  // estimate departs from its own. Matching raw depth instead, the faces nearest the average
  // win for every probe. An estimate with no deviation matches everyone equally: chance.
  const candidates = context.candidates.map((candidate) => {
    const common = Uint8Array.from(valid, (v, i) => (v && Number.isFinite(candidate.depth[i]) ? 1 : 0));
    return { common, truthDeviation: removePlane(candidate.depth, landmarks, common).map((v, i) => v - depths.meanOfOthersRealFaces[i]) };
  });
  const rank1 = (deviation: Float64Array): number => {
    const scores = candidates.map(({ common, truthDeviation }) => correlation(removePlane(deviation, landmarks, common), truthDeviation, common));
    const best = Math.max(...scores);
    const winners = context.candidates.filter((_, k) => scores[k] === best);
    return winners.some((c) => c.person === photo.person) ? 1 / winners.length : 0;
  };
  // Deviations are taken from the same kind of mean: an estimate's from the others' estimates, the truth's from the others' truths.
  const references: Record<EstimateName, Float64Array> = { mesh: depths.meanOfOthersMeshes, meanOfOthersMeshes: depths.meanOfOthersMeshes, meanOfOthersRealFaces: depths.meanOfOthersRealFaces };
  const estimates = Object.fromEntries(ESTIMATES.map((name) => {
    const rmsePx = rmsDifference(depths[name], truth, valid);
    return [name, { rmsePx, rmseMm: rmsePx / posed.scale, rank1: rank1(depths[name].map((v, i) => v - references[name][i])), deviations: deviationSums(depths[name], references[name], truth, depths.meanOfOthersRealFaces, valid) }];
  })) as Record<EstimateName, EstimateRecord>;
  return { person: photo.person, vertices: valid.reduce((a, v) => a + v, 0), pxPerMm: posed.scale, estimates };
}

function median(values: readonly number[]): number {
  return quantile(values as number[], 0.5);
}

/** Figures of one estimate over a set of photos (median RMSE, pooled deviations). */
function figures(records: readonly PhotoRecord[], name: EstimateName): Record<keyof EstimateFigures, number> & { truthDeviationRmsPx: number } {
  const s: DeviationSums = { n: 0, sx: 0, sy: 0, sxx: 0, syy: 0, sxy: 0, sse: 0 };
  for (const r of records) {
    const d = r.estimates[name].deviations;
    s.n += d.n; s.sx += d.sx; s.sy += d.sy; s.sxx += d.sxx; s.syy += d.syy; s.sxy += d.sxy; s.sse += d.sse;
  }
  return {
    rmsePx: median(records.map((r) => r.estimates[name].rmsePx)),
    rmseMm: median(records.map((r) => r.estimates[name].rmseMm)),
    rank1: records.reduce((a, r) => a + r.estimates[name].rank1, 0) / records.length,
    correlation: pooledCorrelation(s),
    r2: 1 - s.sse / s.syy,
    sizeRatio: Math.sqrt(s.sxx / s.syy),
    truthDeviationRmsPx: Math.sqrt(s.syy / s.n),
  };
}

/**
 * `photos` of people whose real depth is in `truths` (every map in one shared pixel frame, as
 * eye-aligned crops are). Needs at least three people: leave-one-out means of two would be one face.
 */
export function depthFidelity(photos: readonly DepthPhoto[], truths: ReadonlyMap<string, DepthMap>, options: DepthFidelityOptions = {}): DepthFidelityReport {
  const people = [...new Set(photos.map((p) => p.person))].sort();
  if (people.length < 3) throw new RangeError(`depthFidelity needs photos of at least 3 people, got ${people.length}`);
  const missing = people.find((p) => !truths.has(p));
  if (missing) throw new RangeError(`no real depth for ${missing}`);
  // Real faces are sampled where their own landmarks fall, not where the probe's do: sampled at the
  // probe's, a person's real depth would line up best with their own photos' 2D landmarks and win
  // for reasons that have nothing to do with the estimate's depth.
  const faces = new Map(people.map((person) => [person, realShape(meanPoints(photos.filter((p) => p.person === person).map((p) => p.landmarks)), truths.get(person)!)]));
  const compared = finite(depthOf(meanPoints([...faces.values()])));
  const candidates = people.map((person) => ({ person, depth: depthOf(faces.get(person)!) }));
  const alignedFaces = new Map(alignedRealShapes(people.map((person) => faces.get(person)!)).map((shape, k) => [people[k], shape]));
  // A person's mesh is the mean of their photos' meshes, so people with more photos do not weigh more.
  const personMesh = new Map(people.map((person) => [person, meanPoints(photos.filter((p) => p.person === person).map((p) => p.mesh))]));
  const contexts = new Map(people.map((person) => {
    const others = people.filter((p) => p !== person);
    const context: PhotoContext = {
      truth: truths.get(person)!,
      othersMeshes: meanPoints(others.map((p) => personMesh.get(p)!)),
      othersRealFaces: meanPoints(others.map((p) => alignedFaces.get(p)!)),
      candidates,
      compared,
    };
    return [person, context];
  }));
  const records = photos.map((photo) => photoRecord(photo, contexts.get(photo.person)!));

  const byPerson = new Map(people.map((person) => [person, records.filter((r) => r.person === person)]));
  const resamples = options.bootstrap ?? 1000;
  const random = mulberry32(options.seed ?? 14);
  const samples = Array.from({ length: resamples }, () => Array.from(people, () => byPerson.get(people[randomInt(random, people.length)])!).flat());
  // Each estimate's figures once over all photos and once per resample; every interval reads them.
  const figuresOf = (name: EstimateName) => ({ all: figures(records, name), resampled: samples.map((set) => figures(set, name)) });
  const computed = { mesh: figuresOf('mesh'), meanOfOthersMeshes: figuresOf('meanOfOthersMeshes'), meanOfOthersRealFaces: figuresOf('meanOfOthersRealFaces') };
  const interval = (name: EstimateName, key: keyof ReturnType<typeof figures>): Interval => {
    const values = computed[name].resampled.map((f) => f[key]).filter(Number.isFinite);
    return { value: computed[name].all[key], low: quantile(values, 0.025), high: quantile(values, 0.975) };
  };
  const estimateFigures = (name: EstimateName): EstimateFigures => {
    const keys = ['rmsePx', 'rmseMm', 'rank1', 'correlation', 'r2', 'sizeRatio'] as const;
    return Object.fromEntries(keys.map((key) => [key, interval(name, key)])) as unknown as EstimateFigures;
  };
  return {
    people: people.length,
    photos: photos.length,
    verticesCompared: median(records.map((r) => r.vertices)),
    pxPerMm: median(records.map((r) => r.pxPerMm)),
    truthDeviationRmsPx: interval('mesh', 'truthDeviationRmsPx'),
    chanceRank1: 1 / people.length,
    mesh: estimateFigures('mesh'),
    meanOfOthersMeshes: estimateFigures('meanOfOthersMeshes'),
    meanOfOthersRealFaces: estimateFigures('meanOfOthersRealFaces'),
    bootstrap: resamples,
  };
}
