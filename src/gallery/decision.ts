/**
 * When a similarity means "the same person". The default threshold is the bundle's calibration
 * (measured at a stated false-accept rate); a bundle without one falls back to
 * {@link UNCALIBRATED_THRESHOLD}, and the API reports which applies, so that an answer is never
 * more confident than its threshold's provenance.
 */
import type { BundleManifest } from '../morphable/bundle.js';
import { Face3dError } from '../errors.js';

/**
 * The cosine threshold of a bundle without calibration. Strict on purpose: an uncalibrated server
 * should rather call a known person unknown than a stranger known. With lfw-facemesh, held-out
 * photos of 10 enrolled LFW test people scored at least 0.55 (median 0.72) against their own
 * 3-photo template, and 40 never-enrolled people at most 0.56 (median 0.27) against any template.
 * A calibrated bundle (`calibration` in its manifest) gives a threshold at a stated FAR instead.
 */
export const UNCALIBRATED_THRESHOLD = 0.6;

export type ThresholdSource = 'REQUEST' | 'CALIBRATION' | 'DEFAULT';

export interface Threshold {
  readonly value: number;
  /** The false-accept rate the calibration measured at this threshold; null when not calibrated. */
  readonly falseAcceptRate: number | null;
  readonly source: ThresholdSource;
}

export function defaultThreshold(calibration: BundleManifest['calibration']): Threshold {
  return calibration
    ? { value: calibration.threshold, falseAcceptRate: calibration.falseAcceptRate, source: 'CALIBRATION' }
    : { value: UNCALIBRATED_THRESHOLD, falseAcceptRate: null, source: 'DEFAULT' };
}

/** A requested threshold replaces the default; cosine similarities live in [-1, 1]. */
export function chooseThreshold(requested: number | null | undefined, fallback: Threshold): Threshold {
  if (requested === null || requested === undefined) return fallback;
  if (!Number.isFinite(requested) || requested < -1 || requested > 1) {
    throw new Face3dError('BAD_USER_INPUT', `threshold must be a number from -1 to 1, got ${requested}`);
  }
  return { value: requested, falseAcceptRate: null, source: 'REQUEST' };
}

export function isMatch(similarity: number, threshold: Threshold): boolean {
  return similarity >= threshold.value;
}

/** No candidate at all, or the best one below the threshold: the probe is nobody we know. */
export function isUnknown(bestSimilarity: number | undefined, threshold: Threshold): boolean {
  return bestSimilarity === undefined || !isMatch(bestSimilarity, threshold);
}
