/** Pieces shared by Identify and Verify: similarity bars and the threshold in words. */
import { formatSimilarity, h } from './dom.js';

const SOURCE_WORDS: Readonly<Record<string, string>> = { TARGET_FPIR: 'set for the gallery', CALIBRATION: 'calibrated', REQUEST: 'requested', DEFAULT: 'strict default' };

/** A threshold as the API reports it (serverInfo, identify, verify). */
export interface ThresholdFacts {
  readonly threshold: number;
  readonly thresholdSource: string;
  readonly falseAcceptRate: number | null;
  readonly fpir: number | null;
  /** Set (e.g. 0.95) when `fpir` is an upper confidence bound (serverInfo.fpirConfidence). */
  readonly fpirConfidence?: number | null;
  readonly templates: number;
}

/** A rate as a percentage with two significant digits: 1.0%, 0.035%. */
export function percent(rate: number): string {
  return `${(100 * rate).toPrecision(2)}%`;
}

/**
 * "0.755 (set for the gallery; about 1.0% of strangers would be named among 378 templates)" ("at most"
 * when the FPIR is an upper bound), or for a bundle without an impostor curve "0.612 (calibrated;
 * 0.10% of strangers reach it, one by one)".
 */
export function thresholdText(facts: ThresholdFacts): string {
  const reach =
    facts.fpir !== null
      ? `${facts.fpirConfidence ? 'at most' : 'about'} ${percent(facts.fpir)} of strangers would be ${facts.templates === 1 ? 'accepted as this person' : `named among ${facts.templates} templates`}`
      : facts.falseAcceptRate !== null
        ? `${percent(facts.falseAcceptRate)} of strangers reach it, one by one`
        : undefined;
  const notes = [SOURCE_WORDS[facts.thresholdSource], reach].filter(Boolean);
  return notes.length > 0 ? `${formatSimilarity(facts.threshold)} (${notes.join('; ')})` : formatSimilarity(facts.threshold);
}

/**
 * A bar from similarity 0 to 1 with the threshold marked; the number is in the text next to it,
 * so the bar itself is decoration for screen readers.
 */
export function similarityBar(similarity: number, threshold: number): HTMLElement {
  const fill = h('div', { class: 'bar-fill' });
  fill.style.width = `${Math.max(0, Math.min(1, similarity)) * 100}%`;
  const mark = h('div', { class: 'bar-threshold' });
  mark.style.left = `${Math.max(0, Math.min(1, threshold)) * 100}%`;
  return h('div', { class: `similarity-bar${similarity >= threshold ? ' above' : ''}`, 'aria-hidden': 'true' }, fill, mark);
}
