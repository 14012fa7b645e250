/**
 * When a similarity means "the same person". A bundle whose calibration carries its impostor curve
 * gets a threshold that knows the gallery: the lowest score at which at most the target share of
 * strangers (FPIR, FACE3D_TARGET_FPIR) would be given a name among the templates searched now, so
 * the threshold rises as the gallery grows. Each candidate carries its stranger chance: the
 * estimated share of strangers who would score that high against this gallery. Older bundles keep
 * their per-pair threshold (CALIBRATION); a bundle without calibration falls back to
 * {@link UNCALIBRATED_THRESHOLD}. The API reports which applies, so that an answer is never more
 * confident than its threshold's provenance.
 */
import type { BundleManifest } from '../morphable/bundle.js';
import { DEFAULT_TARGET_FPIR } from '../core/config.js';
import { Face3dError } from '../core/errors.js';
import { falseAcceptRate, falsePositiveIdentificationRate, thresholdForFpir, type ImpostorCurve } from '../training/impostor-tail.js';

/**
 * The cosine threshold of a bundle without calibration. Strict on purpose: an uncalibrated server
 * should rather call a known person unknown than a stranger known. With lfw-facemesh, held-out
 * photos of 10 enrolled LFW test people scored at least 0.55 (median 0.72) against their own
 * 3-photo template, and 40 never-enrolled people at most 0.56 (median 0.27) against any template.
 */
export const UNCALIBRATED_THRESHOLD = 0.6;

export type ThresholdSource = 'REQUEST' | 'TARGET_FPIR' | 'CALIBRATION' | 'DEFAULT';

export type Calibration = NonNullable<BundleManifest['calibration']>;

export interface Threshold {
  readonly value: number;
  /** The per-pair false-accept rate at this threshold; null when the bundle is not calibrated. */
  readonly falseAcceptRate: number | null;
  /** The share of strangers this threshold names against `templates` templates; null without an impostor curve. */
  readonly fpir: number | null;
  /** How many templates the decision was made against (1 for verify). */
  readonly templates: number;
  readonly source: ThresholdSource;
}

export class ThresholdPolicy {
  private readonly curve: ImpostorCurve | null;
  private readonly cache = new Map<number, Threshold>();

  constructor(
    private readonly calibration: Calibration | undefined,
    readonly targetFpir: number = DEFAULT_TARGET_FPIR,
  ) {
    if (!(targetFpir > 0 && targetFpir < 1)) throw new Face3dError('BAD_USER_INPUT', `the target FPIR must lie strictly between 0 and 1, got ${targetFpir}`);
    this.curve = calibration?.impostors ?? null;
  }

  /** Whether thresholds follow the gallery's size (the bundle publishes its impostor curve). */
  get knowsGallery(): boolean {
    return this.curve !== null;
  }

  /**
   * The confidence level (e.g. 0.95) at which FPIRs and stranger chances are upper bounds, when the
   * bundle's curve is a bootstrap bound of FAR; null when they are estimates or there is no curve.
   */
  get fpirConfidence(): number | null {
    return this.curve?.bound?.quantile ?? null;
  }

  /** The threshold in force against `templates` templates when the request gives none. */
  forGallery(templates: number): Threshold {
    const n = Math.max(1, Math.round(templates));
    let threshold = this.cache.get(n);
    if (!threshold) {
      threshold = this.build(n);
      if (this.cache.size > 4096) this.cache.clear();
      this.cache.set(n, threshold);
    }
    return threshold;
  }

  /** A requested threshold replaces the default; cosine similarities live in [-1, 1]. */
  choose(requested: number | null | undefined, templates: number): Threshold {
    if (requested === null || requested === undefined) return this.forGallery(templates);
    if (!Number.isFinite(requested) || requested < -1 || requested > 1) {
      throw new Face3dError('BAD_USER_INPUT', `threshold must be a number from -1 to 1, got ${requested}`);
    }
    return { ...this.describe(requested, templates), source: 'REQUEST' };
  }

  /** The estimated share of strangers scoring `similarity` or more against `templates` templates; null without an impostor curve. */
  strangerChance(similarity: number, templates: number): number | null {
    return this.curve ? falsePositiveIdentificationRate(this.curve, similarity, templates) : null;
  }

  private build(templates: number): Threshold {
    if (this.curve) return { ...this.describe(thresholdForFpir(this.curve, this.targetFpir, templates), templates), source: 'TARGET_FPIR' };
    if (this.calibration) return { value: this.calibration.threshold, falseAcceptRate: this.calibration.falseAcceptRate, fpir: null, templates, source: 'CALIBRATION' };
    return { value: UNCALIBRATED_THRESHOLD, falseAcceptRate: null, fpir: null, templates, source: 'DEFAULT' };
  }

  private describe(value: number, templates: number): Omit<Threshold, 'source'> {
    const n = Math.max(1, Math.round(templates));
    if (this.curve) return { value, falseAcceptRate: falseAcceptRate(this.curve, value), fpir: falsePositiveIdentificationRate(this.curve, value, n), templates: n };
    return { value, falseAcceptRate: null, fpir: null, templates: n };
  }
}

export function isMatch(similarity: number, threshold: Threshold): boolean {
  return similarity >= threshold.value;
}

/** No candidate at all, or the best one below the threshold: the probe is nobody we know. */
export function isUnknown(bestSimilarity: number | undefined, threshold: Threshold): boolean {
  return bestSimilarity === undefined || !isMatch(bestSimilarity, threshold);
}
