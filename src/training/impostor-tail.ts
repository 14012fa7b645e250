/**
 * The impostor score curve of a bundle and what it means for a gallery: the per-pair false-accept
 * rate FAR(t) (the share of pairs of different people scoring at least t), and the false-positive
 * identification rate FPIR(t, N) (the share of strangers whose best score against N templates is
 * at least t). FAR comes from measured pairs where they are plentiful and from a generalised
 * Pareto fit of the extreme tail beyond, where counts run out (peaks over a threshold: exceedances
 * above a high score u follow a GPD whatever the parent distribution, Pickands–Balkema–de Haan).
 * The GPD is fitted on many pairs (above u) but used only past the last score that enough pairs
 * reach, re-anchored there: above any t₀ > u the exceedances are GPD with the same shape ξ and
 * scale σ + ξ(t₀ − u), so measured rates stand wherever there are measurements.
 * FPIR(t, N) = 1 − (1 − FAR(t))^Nₑ, with Nₑ = N^b: b = 1 for independent templates; measured on
 * held-out people a stranger's scores against different templates are not independent (some faces
 * score high against everyone), so calibration fits b on a direct simulation of max-over-N scores.
 * Pure functions; the curve travels in the bundle manifest (`calibration.impostors`).
 */

/** A measured point of the body of the curve: FAR(score). */
export interface CurvePoint {
  readonly score: number;
  readonly falseAcceptRate: number;
}

/** Exceedances y = s − threshold of the impostor scores above `threshold`, GPD(shape ξ, scale σ). */
export interface ParetoTail {
  readonly threshold: number;
  /** FAR(threshold): the share of impostor pairs above it. */
  readonly exceedanceRate: number;
  readonly shape: number;
  readonly scale: number;
  /** How many measured pairs the fit used, and the score above which it took them (u, ≤ threshold). */
  readonly exceedances: number;
  readonly fittedAbove?: number;
}

export interface ImpostorCurve {
  /** Ascending scores, descending FAR: from the lowest measured score (FAR 1) to the tail's threshold. */
  readonly body: readonly CurvePoint[];
  readonly tail: ParetoTail;
  /** Nₑ = N^templateExponent: effective independent templates of a gallery of N. */
  readonly templateExponent: number;
  /** Present when FAR is an upper confidence bound rather than the estimate ({@link upperBoundCurve}). */
  readonly bound?: ConfidenceBound;
}

/** How an upper-bound curve was made: the `quantile` of `resamples` bootstraps of `people` people, from FAR `from` down. */
export interface ConfidenceBound {
  readonly quantile: number;
  readonly resamples: number;
  readonly people: number;
  readonly from: number;
  /** The largest bound / estimate ratio over the curve's points. */
  readonly largestRatio: number;
}

/**
 * Fits a GPD to the scores above the `exceedanceRate` quantile of `descending` (all impostor
 * scores, highest first) by probability-weighted moments (Hosking & Wallis 1987): closed form,
 * and less biased than maximum likelihood for the short tails of bounded scores.
 */
export function fitParetoTail(descending: ArrayLike<number>, exceedanceRate: number): ParetoTail {
  const total = descending.length;
  const count = Math.floor(exceedanceRate * total);
  if (count < 10) throw new RangeError(`a tail fit needs at least 10 exceedances, got ${count} of ${total} scores`);
  const threshold = descending[count];
  // a0 = E[y], a1 = E[y (1 − F(y))], from the exceedances in ascending order.
  let a0 = 0;
  let a1 = 0;
  for (let i = 0; i < count; i++) {
    const y = descending[count - 1 - i] - threshold;
    a0 += y;
    a1 += (y * (count - 1 - i)) / (count - 1);
  }
  a0 /= count;
  a1 /= count;
  const k = a0 / (a0 - 2 * a1) - 2;
  return { threshold, exceedanceRate: count / total, shape: -k, scale: (2 * a0 * a1) / (a0 - 2 * a1), exceedances: count };
}

/**
 * The same GPD seen from a higher score t₀ (threshold stability), where a share `far` of the pairs
 * exceed it; unchanged when t₀ is not above the fit's own threshold.
 */
export function anchorParetoTail(tail: ParetoTail, score: number, far: number): ParetoTail {
  if (score <= tail.threshold) return tail;
  return { ...tail, threshold: score, exceedanceRate: far, scale: tail.scale + tail.shape * (score - tail.threshold), fittedAbove: tail.threshold };
}

/** GPD survival P(Y > y), 0 beyond the upper endpoint of a short tail (ξ < 0). */
function paretoSurvival(tail: ParetoTail, y: number): number {
  if (y <= 0) return 1;
  const { shape, scale } = tail;
  if (Math.abs(shape) < 1e-9) return Math.exp(-y / scale);
  const base = 1 + (shape * y) / scale;
  return base <= 0 ? 0 : base ** (-1 / shape);
}

/** The y with paretoSurvival(y) = p, 0 < p ≤ 1. */
function paretoQuantile(tail: ParetoTail, p: number): number {
  const { shape, scale } = tail;
  if (Math.abs(shape) < 1e-9) return -scale * Math.log(p);
  return (scale / shape) * (p ** -shape - 1);
}

/**
 * `points` measured points of the body, from FAR 1 to the tail's threshold, evenly spaced in log
 * FAR: the curve interpolates log FAR linearly between them.
 */
export function bodyPoints(descending: ArrayLike<number>, tail: ParetoTail, points = 48): CurvePoint[] {
  const total = descending.length;
  const bottom = Math.log(tail.exceedanceRate);
  return Array.from({ length: points }, (_, i) => {
    const falseAcceptRate = Math.exp((bottom * i) / (points - 1));
    return { score: descending[Math.min(total - 1, Math.round(falseAcceptRate * total))], falseAcceptRate };
  });
}

/**
 * The curve of measured impostor scores (`descending`, highest first): measured down to the score
 * `minPairs` pairs exceed, the GPD fitted on the top `tailRate` share of pairs beyond it.
 */
export function measuredCurve(descending: ArrayLike<number>, tailRate: number, minPairs: number): ImpostorCurve {
  const fitted = fitParetoTail(descending, tailRate);
  const end = Math.max(1, Math.min(fitted.exceedances, Math.round(minPairs)));
  const tail = anchorParetoTail(fitted, descending[end], end / descending.length);
  return { body: bodyPoints(descending, tail), tail, templateExponent: 1 };
}

/** FAR(score): the tail above its threshold, the body's log-linear interpolation below, 1 below the body. */
export function falseAcceptRate(curve: ImpostorCurve, score: number): number {
  const { body, tail } = curve;
  if (score >= tail.threshold) return tail.exceedanceRate * paretoSurvival(tail, score - tail.threshold);
  for (let i = body.length - 1; i > 0; i--) {
    const [high, low] = [body[i], body[i - 1]];
    if (score >= low.score) {
      const t = high.score === low.score ? 1 : (score - low.score) / (high.score - low.score);
      return Math.exp(Math.log(low.falseAcceptRate) + t * (Math.log(high.falseAcceptRate) - Math.log(low.falseAcceptRate)));
    }
  }
  return 1;
}

/** The lowest score whose FAR is at most `far` (0 < far < 1). */
export function scoreAtFalseAcceptRate(curve: ImpostorCurve, far: number): number {
  const { body, tail } = curve;
  if (!(far > 0 && far < 1)) throw new RangeError(`a false-accept rate must lie strictly between 0 and 1, got ${far}`);
  if (far <= tail.exceedanceRate) return tail.threshold + paretoQuantile(tail, far / tail.exceedanceRate);
  for (let i = body.length - 1; i > 0; i--) {
    const [high, low] = [body[i], body[i - 1]];
    if (far <= low.falseAcceptRate) {
      const t = (Math.log(far) - Math.log(low.falseAcceptRate)) / (Math.log(high.falseAcceptRate) - Math.log(low.falseAcceptRate));
      return low.score + t * (high.score - low.score);
    }
  }
  return body[0].score;
}

/** Nₑ for a gallery of `templates` (at least 1). */
export function effectiveTemplates(curve: ImpostorCurve, templates: number): number {
  return Math.max(1, templates) ** curve.templateExponent;
}

/** 1 − (1 − far)^n without cancellation at tiny rates. */
function atLeastOnce(far: number, n: number): number {
  return far >= 1 ? 1 : -Math.expm1(n * Math.log1p(-far));
}

/** FPIR(score, N): the estimated share of strangers whose best score against `templates` templates reaches `score`. */
export function falsePositiveIdentificationRate(curve: ImpostorCurve, score: number, templates: number): number {
  return atLeastOnce(falseAcceptRate(curve, score), effectiveTemplates(curve, templates));
}

/** The per-pair FAR at which a gallery of `templates` names `targetFpir` of strangers. */
export function pairRateForFpir(curve: ImpostorCurve, targetFpir: number, templates: number): number {
  return -Math.expm1(Math.log1p(-targetFpir) / effectiveTemplates(curve, templates));
}

/** threshold(N, target): the lowest score at which at most `targetFpir` of strangers get a name among `templates` templates. */
export function thresholdForFpir(curve: ImpostorCurve, targetFpir: number, templates: number): number {
  return scoreAtFalseAcceptRate(curve, pairRateForFpir(curve, targetFpir, templates));
}

/** A high-scoring impostor pair: its score and the indices of the two people it joins. */
export interface ImpostorPair {
  readonly score: number;
  readonly a: number;
  readonly b: number;
}

export interface BoundOptions {
  /** The upper quantile of the bootstrap FARs taken as the bound (e.g. 0.95). */
  readonly quantile: number;
  readonly resamples: number;
  readonly random: () => number;
}

/**
 * The curve with FAR replaced by an upper confidence bound where its pairs are few. Deep in the
 * tail a handful of people (lookalikes) make most of the high-scoring pairs, so the uncertainty of
 * FAR is that of which people happened to be measured, not of how many pairs: each bootstrap
 * resamples the people (with replacement) and weighs each pair by how often both of its people
 * were drawn; FAR under a resample is the weighted share of pairs at or above the score, over the
 * resample's weighted count of pairs of different people. `top` holds every impostor pair down to
 * some score, highest first, with `photosPerPerson[i]` photos of person i behind the pair count;
 * body points above the lowest score of `top` (and the tail, scaled by the bound at its threshold)
 * get max(estimate, quantile), then FAR is made non-increasing again.
 */
export function upperBoundCurve(curve: ImpostorCurve, top: readonly ImpostorPair[], photosPerPerson: ArrayLike<number>, options: BoundOptions): ImpostorCurve {
  const people = photosPerPerson.length;
  if (top.length === 0) throw new RangeError('an upper bound needs the highest impostor pairs');
  const lowest = top[top.length - 1].score;
  const bounded = curve.body.map((p, i) => ({ ...p, i })).filter((p) => p.score >= lowest);
  // For each bounded point, how many of `top` reach its score (top is descending).
  const reach = bounded.map((p) => {
    let n = 0;
    while (n < top.length && top[n].score >= p.score) n++;
    return n;
  });
  const byReach = reach.map((n, k) => [n, k] as const).sort((x, y) => x[0] - y[0]);
  const farOf = bounded.map(() => new Float64Array(options.resamples));
  const weights = new Float64Array(people);
  for (let r = 0; r < options.resamples; r++) {
    weights.fill(0);
    for (let draw = 0; draw < people; draw++) weights[Math.floor(options.random() * people)]++;
    let photos = 0;
    let squares = 0;
    for (let i = 0; i < people; i++) {
      const w = weights[i] * photosPerPerson[i];
      photos += w;
      squares += w * w;
    }
    const pairs = (photos * photos - squares) / 2;
    let cumulative = 0;
    let next = 0;
    for (const [n, k] of byReach) {
      for (; next < n; next++) cumulative += weights[top[next].a] * weights[top[next].b];
      farOf[k][r] = pairs > 0 ? cumulative / pairs : 0;
    }
  }
  const far = curve.body.map((p) => p.falseAcceptRate);
  let largestRatio = 1;
  bounded.forEach((p, k) => {
    const sorted = farOf[k].sort();
    const upper = sorted[Math.min(sorted.length - 1, Math.floor(options.quantile * sorted.length))];
    if (upper > far[p.i]) {
      largestRatio = Math.max(largestRatio, upper / far[p.i]);
      far[p.i] = upper;
    }
  });
  for (let i = far.length - 2; i >= 0; i--) far[i] = Math.max(far[i], far[i + 1]);
  const body = curve.body.map((p, i) => ({ score: p.score, falseAcceptRate: far[i] }));
  const last = curve.body.length - 1;
  const tailRate = curve.body[last].score === curve.tail.threshold ? far[last] : curve.tail.exceedanceRate;
  return {
    ...curve,
    body,
    tail: { ...curve.tail, exceedanceRate: tailRate },
    bound: { quantile: options.quantile, resamples: options.resamples, people, from: curve.body[bounded[0]?.i ?? last].falseAcceptRate, largestRatio },
  };
}

/** One simulated operating point: at threshold t, galleries of N templates named `fpir` of strangers, while FAR(t) = `far`. */
export interface ScalingObservation {
  readonly templates: number;
  readonly falseAcceptRate: number;
  readonly fpir: number;
}

/**
 * The exponent b of Nₑ = N^b that best explains simulated FPIRs: least squares of log Nₑ on log N
 * through the origin (Nₑ = 1 for a gallery of one), with Nₑ = log(1 − FPIR) / log(1 − FAR).
 */
export function fitTemplateExponent(observations: readonly ScalingObservation[]): number {
  let numerator = 0;
  let denominator = 0;
  for (const o of observations) {
    if (o.templates < 2 || !(o.fpir > 0 && o.fpir < 1) || !(o.falseAcceptRate > 0 && o.falseAcceptRate < 1)) continue;
    const logN = Math.log(o.templates);
    numerator += logN * Math.log(Math.log1p(-o.fpir) / Math.log1p(-o.falseAcceptRate));
    denominator += logN * logN;
  }
  if (denominator === 0) throw new RangeError('fitTemplateExponent needs observations with 0 < FPIR < 1 for galleries of 2 or more');
  return numerator / denominator;
}
