/** Pieces shared by Identify and Verify: similarity bars and the threshold in words. */
import { formatSimilarity, h } from './dom.js';

const SOURCE_WORDS: Readonly<Record<string, string>> = { CALIBRATION: 'calibrated', REQUEST: 'requested', DEFAULT: 'strict default' };

/** "0.612 (calibrated; 0.10% of strangers reach it)" */
export function thresholdText(threshold: number, falseAcceptRate: number | null, source: string): string {
  const notes = [SOURCE_WORDS[source], falseAcceptRate === null ? undefined : `${(100 * falseAcceptRate).toFixed(2)}% of strangers reach it`].filter(Boolean);
  return notes.length > 0 ? `${formatSimilarity(threshold)} (${notes.join('; ')})` : formatSimilarity(threshold);
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
