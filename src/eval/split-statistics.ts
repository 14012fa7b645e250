/**
 * Open-set figures over repeated splits (src/eval/open-set.ts repeatedSplits): each figure's mean and
 * spread over the splits, and the paired difference between two runs over the same splits (e.g. int8
 * against fp32), whose spread is far smaller than either run's because both see the same strangers.
 */
import { createHash } from 'node:crypto';
import { mean, sampleStandardDeviation } from 'simple-statistics';
import type { OpenSetSplit } from './open-set.js';

/** The figures kept per split ("01" is 0.1%). */
export const SPLIT_FIGURES = [
  'rank1',
  'tpirAtFpir1',
  'tpirAtFpir01',
  'thresholdAtFpir1',
  'thresholdAtFpir01',
  'defaultThreshold',
  'defaultFpir',
  'defaultTpir',
  'gallerySubjects',
  'enrollRefused',
  'matedNotEnrolled',
] as const;

export type SplitFigure = (typeof SPLIT_FIGURES)[number];
export type SplitFigures = Readonly<Record<SplitFigure, number>>;

export interface Spread {
  readonly mean: number;
  /** Sample standard deviation over the splits. */
  readonly sd: number;
  readonly min: number;
  readonly max: number;
}

export interface PairedDifference {
  /** Mean over splits of (this run − the baseline). */
  readonly mean: number;
  /** Sample standard deviation of the per-split differences. */
  readonly sd: number;
  /** sd / √splits: the uncertainty of the mean difference. */
  readonly standardError: number;
}

function figureValues(perSplit: readonly SplitFigures[], figure: SplitFigure): number[] {
  return perSplit.map((split) => split[figure]);
}

function spread(values: readonly number[]): Spread {
  return { mean: mean([...values]), sd: sampleStandardDeviation([...values]), min: Math.min(...values), max: Math.max(...values) };
}

function byFigure<T>(compute: (figure: SplitFigure) => T): Record<SplitFigure, T> {
  return Object.fromEntries(SPLIT_FIGURES.map((figure) => [figure, compute(figure)])) as Record<SplitFigure, T>;
}

/** Each figure's mean, sd, min and max over two splits or more. */
export function summariseSplits(perSplit: readonly SplitFigures[]): Record<SplitFigure, Spread> {
  if (perSplit.length < 2) throw new RangeError(`a spread needs two splits or more, got ${perSplit.length}`);
  return byFigure((figure) => spread(figureValues(perSplit, figure)));
}

/** Split by split, `current` − `baseline`: both must be the same splits, in the same order. */
export function pairedDifferences(current: readonly SplitFigures[], baseline: readonly SplitFigures[]): Record<SplitFigure, PairedDifference> {
  if (current.length !== baseline.length) throw new RangeError(`the baseline has ${baseline.length} splits, this run ${current.length}`);
  if (current.length < 2) throw new RangeError(`a paired difference needs two splits or more, got ${current.length}`);
  return byFigure((figure) => {
    const differences = current.map((split, i) => split[figure] - baseline[i][figure]);
    const sd = sampleStandardDeviation(differences);
    return { mean: mean(differences), sd, standardError: sd / Math.sqrt(differences.length) };
  });
}

/** Names the splits' exact composition, so that a baseline from other splits (another seed, set or count) is refused. */
export function splitsDigest(splits: readonly OpenSetSplit[]): string {
  return createHash('sha256').update(JSON.stringify(splits)).digest('hex').slice(0, 16);
}
