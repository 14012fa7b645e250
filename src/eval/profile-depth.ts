/**
 * A face's depth checked against full-profile photos (issue 14, on everyday photos): a profile shows
 * depth directly, as the horizontal position of the nose, brow, eye and lips in the silhouette's
 * side view. CFP marks 30 points in each profile (`cfp-markup.ts`); the same points on a mesh, seen
 * from its side (model frame: depth z forward, y up), are the mesh's profile.
 *
 * Each measure is a point's distance in front of the line from the chin to the nasion, over that
 * line's length: free of the photo's scale, position and the head's pitch (an in-plane rotation in a
 * profile), so a photo and a mesh can be compared without fitting a pose between them.
 *
 * What is person-specific is measured as fidelity3d does (`depth-fidelity.ts`): each estimate's and
 * the profiles' deviations from the other people's means (leave-one-out), correlated over people and
 * measures, with a people bootstrap; and whose profile an estimate's deviations match best (rank-1).
 */
import { quantile } from 'simple-statistics';
import { CFP_POINT_COUNT, CFP_TO_DLIB68 } from '../morphable/cfp-markup.js';
import { FACEMESH_TO_DLIB68 } from '../morphable/facemesh-dlib68.js';
import { mulberry32, randomInt } from '../training/random.js';
import type { FloatArray } from '../core/linear-algebra.js';
import { correlation, type Interval } from './depth-fidelity.js';

/** CFP points (0-based) of the reference line: the chin's lowest point and the nasion. */
const CHIN = 8;
const NASION = 18;

/**
 * The measured points (0-based CFP order): brow (outer, middle, inner), the eye's corners and lids,
 * the nose from the bridge to the tip, the subnasale and the nostril's base, the upper lip's top.
 * Not the jaw line (a silhouette, different skin in each view), not the mouth corner, the inner lips
 * or the lower lip (they move with expression).
 */
export const PROFILE_MEASURE_POINTS: readonly number[] = [9, 10, 11, 12, 13, 14, 15, 16, 17, 19, 20, 21, 22, 23, 24, 26];

/** Index in PROFILE_MEASURE_POINTS of the nose tip (CFP point 22). */
export const NOSE_TIP_MEASURE = PROFILE_MEASURE_POINTS.indexOf(21);

/**
 * A side view's measures: for each of PROFILE_MEASURE_POINTS, its distance in front of the chin–nasion
 * line over the line's length. `view`: 30 points, flat (forward, up), the face looking towards +x.
 */
export function profileMeasures(view: FloatArray): Float64Array {
  if (view.length !== 2 * CFP_POINT_COUNT) throw new RangeError(`a profile view has ${CFP_POINT_COUNT} points, got ${view.length / 2}`);
  const [cx, cy] = [view[2 * CHIN], view[2 * CHIN + 1]];
  const [dx, dy] = [view[2 * NASION] - cx, view[2 * NASION + 1] - cy];
  const length = Math.hypot(dx, dy);
  if (!(length > 0)) throw new RangeError('a profile view needs its chin and nasion apart');
  // The line's direction turned clockwise: forward when the face looks towards +x and up is +y.
  const [nx, ny] = [dy / length, -dx / length];
  return Float64Array.from(PROFILE_MEASURE_POINTS, (i) => ((view[2 * i] - cx) * nx + (view[2 * i + 1] - cy) * ny) / length);
}

/** A FaceMesh shape (flat xyz, y up, +z towards the viewer) seen from its right side: CFP's 30 points as (z, y). */
export function meshSideView(shape: FloatArray): Float64Array {
  const view = new Float64Array(2 * CFP_POINT_COUNT);
  CFP_TO_DLIB68.forEach((markup, i) => {
    const sources = FACEMESH_TO_DLIB68[markup];
    for (const v of sources) {
      view[2 * i] += shape[3 * v + 2] / sources.length;
      view[2 * i + 1] += shape[3 * v + 1] / sources.length;
    }
  });
  return view;
}

/** One person: each estimate's measures (`profileMeasures` of its side view), and those of each of their profile photos. */
export interface ProfilePerson {
  readonly person: string;
  readonly estimates: Readonly<Record<string, Float64Array>>;
  readonly profiles: readonly Float64Array[];
}

export interface ProfileEstimateFigures {
  /** Pearson correlation of the estimate's and the profiles' deviations from the others' means, pooled over people and measures. */
  readonly correlation: Interval;
  /** The nose tip's alone, over people. */
  readonly noseTipCorrelation: Interval;
  /** RMS of the estimate's deviations over RMS of the profiles'. */
  readonly sizeRatio: Interval;
  /** RMS over people and measures of estimate − profile (the population's bias included), in units of the chin–nasion length. */
  readonly rmse: Interval;
  /** People whose estimate's deviations correlate best with their own profiles' (a tie of k counts 1/k). */
  readonly rank1: Interval;
}

export interface ProfileDepthReport {
  readonly people: number;
  readonly measures: number;
  /** RMS of the profiles' deviations from the others' means (chin–nasion lengths). */
  readonly profileDeviationRms: number;
  /**
   * Split-half reliability of the profiles' person-specific deviations: odd- against even-numbered photos,
   * Spearman–Brown for all four (the ceiling of any estimate's correlation is about its square root).
   */
  readonly profileReliability: { readonly halves: number; readonly all: number };
  readonly chanceRank1: number;
  readonly estimates: Readonly<Record<string, ProfileEstimateFigures>>;
  /** The mean of the other people's profiles as the estimate: RMSE only (its deviations are zero). */
  readonly meanOfOthersProfilesRmse: Interval;
  readonly bootstrap: number;
}

const mean = (rows: readonly Float64Array[]): Float64Array => Float64Array.from(rows[0], (_, c) => rows.reduce((s, r) => s + r[c], 0) / rows.length);

/** Each row less the mean of the other rows (rounding's residue of an estimate that is everyone's, zero). */
function leaveOneOutDeviations(rows: readonly Float64Array[]): Float64Array[] {
  const total = mean(rows).map((v) => v * rows.length);
  return rows.map((row) => row.map((v, c) => {
    const deviation = v - (total[c] - v) / (rows.length - 1);
    return Math.abs(deviation) > 1e-12 * (Math.abs(v) + 1) ? deviation : 0;
  }));
}

const rms = (values: readonly number[]): number => Math.sqrt(values.reduce((s, v) => s + v * v, 0) / values.length);

interface PersonRecord {
  readonly estimate: Float64Array;
  readonly estimateDeviation: Float64Array;
  readonly profile: Float64Array;
  readonly profileDeviation: Float64Array;
  readonly rank1: number;
}

/** Figures over a set of person records (a resample may hold a person more than once). */
function figures(records: readonly PersonRecord[]): Record<keyof ProfileEstimateFigures, number> {
  const estimated = records.flatMap((r) => [...r.estimateDeviation]);
  const profiled = records.flatMap((r) => [...r.profileDeviation]);
  return {
    correlation: correlation(estimated, profiled),
    noseTipCorrelation: correlation(records.map((r) => r.estimateDeviation[NOSE_TIP_MEASURE]), records.map((r) => r.profileDeviation[NOSE_TIP_MEASURE])),
    sizeRatio: rms(estimated) / rms(profiled),
    rmse: rms(records.flatMap((r) => Array.from(r.estimate, (v, c) => v - r.profile[c]))),
    rank1: records.reduce((s, r) => s + r.rank1, 0) / records.length,
  };
}

/** For each person, 1/k when their own profile is among the k best matches of their estimate's deviations, else 0. */
function rank1Scores(estimateDeviations: readonly Float64Array[], profileDeviations: readonly Float64Array[]): number[] {
  return estimateDeviations.map((estimate, p) => {
    const scores = profileDeviations.map((profile) => correlation(estimate, profile));
    const best = Math.max(...scores);
    return scores[p] === best ? 1 / scores.filter((s) => s === best).length : 0;
  });
}

/**
 * Every estimate named in the people's `estimates` against their profiles. Needs at least three
 * people, each with at least one profile (two for the split-half reliability to count them).
 */
export function profileDepthAgreement(people: readonly ProfilePerson[], options: { bootstrap?: number; seed?: number } = {}): ProfileDepthReport {
  if (people.length < 3) throw new RangeError(`profileDepthAgreement needs at least 3 people, got ${people.length}`);
  if (people.some((p) => p.profiles.length === 0)) throw new RangeError('every person needs at least one profile');
  const names = Object.keys(people[0].estimates);
  const profiles = people.map((p) => mean(p.profiles));
  const profileDeviations = leaveOneOutDeviations(profiles);
  const resamples = options.bootstrap ?? 1000;
  const random = mulberry32(options.seed ?? 14);
  const samples = Array.from({ length: resamples }, () => Array.from(people, () => randomInt(random, people.length)));
  const interval = (records: readonly PersonRecord[], key: keyof ProfileEstimateFigures): Interval => {
    const values = samples.map((sample) => figures(sample.map((k) => records[k]))[key]).filter(Number.isFinite);
    return { value: figures(records)[key], low: quantile(values, 0.025), high: quantile(values, 0.975) };
  };
  const recordsOf = (estimates: readonly Float64Array[]): PersonRecord[] => {
    const deviations = leaveOneOutDeviations(estimates);
    const ranks = rank1Scores(deviations, profileDeviations);
    return estimates.map((estimate, p) => ({ estimate, estimateDeviation: deviations[p], profile: profiles[p], profileDeviation: profileDeviations[p], rank1: ranks[p] }));
  };
  const estimates = Object.fromEntries(names.map((name) => {
    const records = recordsOf(people.map((p) => p.estimates[name]));
    const keys = ['correlation', 'noseTipCorrelation', 'sizeRatio', 'rmse', 'rank1'] as const;
    return [name, Object.fromEntries(keys.map((key) => [key, interval(records, key)])) as unknown as ProfileEstimateFigures];
  }));
  // The others' mean profile as everyone's estimate: its records' deviations are the profiles' own means' and are not scored.
  const othersMean = recordsOf(profiles.map((profile, p) => profile.map((v, c) => v - profileDeviations[p][c])));
  const split = people.filter((p) => p.profiles.length >= 2);
  const halves = split.length >= 3
    ? (() => {
        const half = (k: 0 | 1) => leaveOneOutDeviations(split.map((p) => mean(p.profiles.filter((_, i) => i % 2 === k))));
        const [a, b] = [half(0), half(1)];
        return correlation(a.flatMap((row) => [...row]), b.flatMap((row) => [...row]));
      })()
    : Number.NaN;
  return {
    people: people.length,
    measures: PROFILE_MEASURE_POINTS.length,
    profileDeviationRms: rms(profileDeviations.flatMap((d) => [...d])),
    profileReliability: { halves, all: (2 * halves) / (1 + halves) },
    chanceRank1: 1 / people.length,
    estimates,
    meanOfOthersProfilesRmse: interval(othersMean, 'rmse'),
    bootstrap: resamples,
  };
}
