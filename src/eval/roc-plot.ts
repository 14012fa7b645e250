import type { RocPoint } from './metrics.js';

export interface MarkedPoint {
  readonly label: string;
  readonly falseAcceptRate: number;
  readonly trueAcceptRate: number;
}

const SIZE = 480;
const MARGIN = 56;
/**
 * The x axis is log10 of the false-accept rate from here to 1: face verification is judged at
 * FARs of 1% and 0.1%, which a linear axis squeezes into its first pixel. Lower rates (and 0)
 * sit on the left edge.
 */
export const FAR_FLOOR = 1e-4;
const LABEL_LINE = 14;

/** x of a false-accept rate on the log axis, 0 (left edge) to 1 (right edge). */
export function logFarPosition(falseAcceptRate: number): number {
  const decades = -Math.log10(FAR_FLOOR);
  return Math.min(1, Math.max(0, (Math.log10(Math.max(falseAcceptRate, FAR_FLOOR)) + decades) / decades));
}

/** The axes of a plot on a log x axis of false-accept (or false-positive identification) rates. */
export interface RatePlotAxes {
  readonly xLabel: string;
  readonly yLabel: string;
  /** Where chance lies, drawn dashed (y = x for an ROC curve); none for identification, where it depends on the gallery. */
  readonly chance?: (x: number) => number;
}

const ROC_AXES: RatePlotAxes = { xLabel: 'false accept rate (log scale)', yLabel: 'true accept rate', chance: (far) => far };

/** A DET curve of open-set identification: FNIR against FPIR. */
export const DET_AXES: RatePlotAxes = { xLabel: 'false positive identification rate (log scale)', yLabel: 'false negative identification rate' };

/** An ROC curve (false-accept rate on a log x axis, true-accept rate on y) as a standalone SVG document, `marked` points labelled. */
export function rocSvg(curve: readonly RocPoint[], marked: readonly MarkedPoint[], title: string): string {
  return ratePlotSvg(curve.map((p) => ({ x: p.falseAcceptRate, y: p.trueAcceptRate })), marked.map((m) => ({ label: m.label, x: m.falseAcceptRate, y: m.trueAcceptRate })), title, ROC_AXES);
}

/** Any curve of a rate on a log x axis (from {@link FAR_FLOOR} to 1) against a rate on a linear y axis, as a standalone SVG document. */
export function ratePlotSvg(curve: readonly { x: number; y: number }[], marked: readonly { label: string; x: number; y: number }[], title: string, axes: RatePlotAxes): string {
  const plot = SIZE - 2 * MARGIN;
  const x = (rate: number) => MARGIN + logFarPosition(rate) * plot;
  const y = (rate: number) => SIZE - MARGIN - rate * plot;
  const line = (points: readonly { x: number; y: number }[]) => points.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p.x).toFixed(2)},${y(p.y).toFixed(2)}`).join(' ');
  const decades = Array.from({ length: -Math.log10(FAR_FLOOR) + 1 }, (_, i) => FAR_FLOOR * 10 ** i);
  const yTicks = [0, 0.25, 0.5, 0.75, 1];
  // Chance is a curve on a log axis.
  const chanceAt = axes.chance;
  const chance = chanceAt && Array.from({ length: 41 }, (_, i) => FAR_FLOOR ** (1 - i / 40)).map((rate) => ({ x: rate, y: chanceAt(rate) }));
  const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${SIZE}" height="${SIZE}" viewBox="0 0 ${SIZE} ${SIZE}" font-family="sans-serif" font-size="12">`,
    `<rect width="${SIZE}" height="${SIZE}" fill="white"/>`,
    `<text x="${SIZE / 2}" y="24" text-anchor="middle" font-size="14">${escape(title)}</text>`,
    `<rect x="${MARGIN}" y="${MARGIN}" width="${plot}" height="${plot}" fill="none" stroke="#444"/>`,
    ...decades.map((rate) => `<line x1="${x(rate)}" y1="${MARGIN}" x2="${x(rate)}" y2="${SIZE - MARGIN}" stroke="#eee"/><text x="${x(rate)}" y="${SIZE - MARGIN + 16}" text-anchor="middle">${rate >= 0.01 ? rate : rate.toExponential(0)}</text>`),
    ...yTicks.map((t) => `<text x="${MARGIN - 8}" y="${y(t) + 4}" text-anchor="end">${t}</text>`),
    `<text x="${SIZE / 2}" y="${SIZE - 12}" text-anchor="middle">${escape(axes.xLabel)}</text>`,
    `<text transform="translate(16 ${SIZE / 2}) rotate(-90)" text-anchor="middle">${escape(axes.yLabel)}</text>`,
    ...(chance ? [`<path d="${line(chance)}" fill="none" stroke="#bbb" stroke-dasharray="4 4"/>`] : []),
    `<path d="${line(curve)}" fill="none" stroke="#1f5fbf" stroke-width="2"/>`,
    // Labels stacked one line apart: operating points often share a rate.
    ...marked.map((m, i) => `<circle cx="${x(m.x)}" cy="${y(m.y)}" r="4" fill="#d0302f"/><text x="${x(m.x) + 8}" y="${y(m.y) + LABEL_LINE * (i + 1)}" fill="#d0302f">${escape(m.label)}</text>`),
    '</svg>',
  ].join('\n');
}
