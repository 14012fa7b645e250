import type { RocPoint } from './metrics.js';

export interface MarkedPoint {
  readonly label: string;
  readonly falseAcceptRate: number;
  readonly trueAcceptRate: number;
}

const SIZE = 480;
const MARGIN = 56;

/** An ROC curve (false-accept rate on x, true-accept rate on y) as a standalone SVG document. */
export function rocSvg(curve: readonly RocPoint[], marked: readonly MarkedPoint[], title: string): string {
  const plot = SIZE - 2 * MARGIN;
  const x = (far: number) => MARGIN + far * plot;
  const y = (tar: number) => SIZE - MARGIN - tar * plot;
  const path = curve.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p.falseAcceptRate).toFixed(2)},${y(p.trueAcceptRate).toFixed(2)}`).join(' ');
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${SIZE}" height="${SIZE}" viewBox="0 0 ${SIZE} ${SIZE}" font-family="sans-serif" font-size="12">`,
    `<rect width="${SIZE}" height="${SIZE}" fill="white"/>`,
    `<text x="${SIZE / 2}" y="24" text-anchor="middle" font-size="14">${escape(title)}</text>`,
    `<rect x="${MARGIN}" y="${MARGIN}" width="${plot}" height="${plot}" fill="none" stroke="#444"/>`,
    ...ticks.map((t) => `<text x="${x(t)}" y="${SIZE - MARGIN + 16}" text-anchor="middle">${t}</text><text x="${MARGIN - 8}" y="${y(t) + 4}" text-anchor="end">${t}</text>`),
    `<text x="${SIZE / 2}" y="${SIZE - 12}" text-anchor="middle">false accept rate</text>`,
    `<text transform="translate(16 ${SIZE / 2}) rotate(-90)" text-anchor="middle">true accept rate</text>`,
    `<line x1="${x(0)}" y1="${y(0)}" x2="${x(1)}" y2="${y(1)}" stroke="#bbb" stroke-dasharray="4 4"/>`,
    `<path d="${path}" fill="none" stroke="#1f5fbf" stroke-width="2"/>`,
    ...marked.map((m) => `<circle cx="${x(m.falseAcceptRate)}" cy="${y(m.trueAcceptRate)}" r="4" fill="#d0302f"/><text x="${x(m.falseAcceptRate) + 8}" y="${y(m.trueAcceptRate) + 14}" fill="#d0302f">${escape(m.label)}</text>`),
    '</svg>',
  ].join('\n');
}
