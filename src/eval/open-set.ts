/**
 * Open-set identification ("who is this, or nobody we know?") on a folder-per-person set, as a
 * gallery service meets it: mated probes (a second photo of an enrolled person), distractors (people
 * enrolled with one photo and never probed) and non-mated probes (people never enrolled). A probe
 * is named when its best template scores at or above the threshold; a mated probe is a true
 * positive only when that best template is its own (TPIR), a non-mated probe named at all is a false
 * positive (FPIR). Pure functions: the command (src/cli/eval-commands.ts) encodes and searches.
 */
import { mulberry32, randomInt, shuffleInPlace, type Random } from '../training/random.js';

export interface PersonPhotos {
  readonly name: string;
  /** Paths, in the dataset's order. */
  readonly images: readonly string[];
}

export interface OpenSetSplit {
  /** Enrolled with their first photo, probed with their second. */
  readonly mated: readonly { readonly person: string; readonly enrolled: string; readonly probe: string }[];
  /** Enrolled with one photo, never probed. */
  readonly distractors: readonly { readonly person: string; readonly enrolled: string }[];
  /** Never enrolled, probed with one photo. */
  readonly strangers: readonly { readonly person: string; readonly probe: string }[];
}

/**
 * People with two photos or more are mated (enrolled with their first photo, probed with their
 * second); of the others (in a seeded shuffle), `distractors` are enrolled and the rest are strangers
 * (default: half of them).
 */
export function splitOpenSet(people: readonly PersonPhotos[], distractors?: number, seed = 13): OpenSetSplit {
  return drawSplit(people, distractors, mulberry32(seed), (images) => [images[0], images[1]]);
}

/**
 * `count` splits of the same sizes as {@link splitOpenSet}'s, each drawn afresh from one seeded
 * stream: which people with one photo are distractors and which are strangers, and which two photos
 * of each mated person are enrolled and probed. One split's figures turn on a few strangers (FPIR 1%
 * of 273 is the third-highest stranger score); their spread over splits says how much.
 */
export function repeatedSplits(people: readonly PersonPhotos[], count: number, seed: number, distractors?: number): OpenSetSplit[] {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`--splits must be a whole number from 1, got ${count}`);
  const random = mulberry32(seed);
  const twoOf = (images: readonly string[]): [string, string] => {
    const enrolled = randomInt(random, images.length);
    const probe = (enrolled + 1 + randomInt(random, images.length - 1)) % images.length;
    return [images[enrolled], images[probe]];
  };
  return Array.from({ length: count }, () => drawSplit(people, distractors, random, twoOf));
}

function drawSplit(people: readonly PersonPhotos[], distractors: number | undefined, random: Random, twoOf: (images: readonly string[]) => [string, string]): OpenSetSplit {
  const shuffled = [...people].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  shuffleInPlace(shuffled, random);
  const single = shuffled.filter((p) => p.images.length === 1);
  const count = distractors ?? Math.floor(single.length / 2);
  if (!Number.isInteger(count) || count < 0 || count >= single.length) {
    throw new RangeError(`--distractors must be an integer from 0 to ${single.length - 1} (people with one photo, at least one left as a stranger), got ${count}`);
  }
  const mated = shuffled.filter((p) => p.images.length >= 2).map((p) => {
    const [enrolled, probe] = twoOf(p.images);
    return { person: p.name, enrolled, probe };
  });
  if (mated.length === 0) throw new RangeError('an open-set evaluation needs people with two photos or more');
  return {
    mated,
    distractors: single.slice(0, count).map((p) => ({ person: p.name, enrolled: p.images[0] })),
    strangers: single.slice(count).map((p) => ({ person: p.name, probe: p.images[0] })),
  };
}

/** A mated probe's best candidate: its score, and whether it is the probe's own subject. −∞ when nothing was found or searched. */
export interface MatedResult {
  readonly score: number;
  readonly correct: boolean;
}

export interface OpenSetScores {
  readonly mated: readonly MatedResult[];
  /** Each stranger's best score against the gallery (NO_FACE_SCORE when no face was found). */
  readonly nonMated: readonly number[];
}

export function fpirAt(scores: OpenSetScores, threshold: number): number {
  return scores.nonMated.filter((s) => s >= threshold).length / scores.nonMated.length;
}

export function tpirAt(scores: OpenSetScores, threshold: number): number {
  return scores.mated.filter((m) => m.correct && m.score >= threshold).length / scores.mated.length;
}

export function rank1(scores: OpenSetScores): number {
  return scores.mated.filter((m) => m.correct).length / scores.mated.length;
}

export interface OpenSetPoint {
  readonly threshold: number;
  readonly fpir: number;
  readonly tpir: number;
  /** 1 − TPIR: mated probes not named, or named as somebody else. */
  readonly fnir: number;
}

export function operatingPoint(scores: OpenSetScores, threshold: number): OpenSetPoint {
  const tpir = tpirAt(scores, threshold);
  return { threshold, fpir: fpirAt(scores, threshold), tpir, fnir: 1 - tpir };
}

/** The lowest threshold naming at most `maxFpir` of the strangers (just above the score that would pass it), and TPIR there. */
export function atFpir(scores: OpenSetScores, maxFpir: number): OpenSetPoint {
  const descending = [...scores.nonMated].sort((a, b) => b - a);
  const allowed = Math.floor(maxFpir * descending.length + 1e-9);
  const threshold = allowed >= descending.length ? -Infinity : nextAbove(descending[allowed]);
  return operatingPoint(scores, threshold);
}

function nextAbove(score: number): number {
  return score === -Infinity ? -Number.MAX_VALUE : score + Math.max(1e-12, Math.abs(score) * 1e-12);
}

/** The DET curve: one point per distinct score, from naming nobody to naming everybody. */
export function detCurve(scores: OpenSetScores): OpenSetPoint[] {
  const thresholds = [...new Set([...scores.nonMated, ...scores.mated.map((m) => m.score)])].filter(Number.isFinite).sort((a, b) => b - a);
  return [Infinity, ...thresholds, -Infinity].map((t) => operatingPoint(scores, t));
}
