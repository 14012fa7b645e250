import { describe, expect, it } from '@jest/globals';
import sharp from 'sharp';
import { FAR_FLOOR, logFarPosition, rocSvg } from '../../../src/eval/roc-plot.js';

const curve = [
  { threshold: 1, falseAcceptRate: 0, trueAcceptRate: 0 },
  { threshold: 0.8, falseAcceptRate: 0.001, trueAcceptRate: 0.6 },
  { threshold: 0.6, falseAcceptRate: 0.01, trueAcceptRate: 0.8 },
  { threshold: -1, falseAcceptRate: 1, trueAcceptRate: 1 },
];
const marked = [
  { label: 'FAR 1%', falseAcceptRate: 0.01, trueAcceptRate: 0.8 },
  { label: 'FAR 0.1%', falseAcceptRate: 0.001, trueAcceptRate: 0.8 },
];

function attributes(svg: string, element: string): Record<string, number>[] {
  return [...svg.matchAll(new RegExp(`<${element} ([^>]*)>`, 'g'))].map(([, attrs]) =>
    Object.fromEntries([...attrs.matchAll(/([\w-]+)="([-\d.]+)"/g)].map(([, name, value]) => [name, Number(value)])),
  );
}

describe('the ROC plot', () => {
  it('puts false-accept rates on a log axis, a decade per equal step', () => {
    expect(logFarPosition(1)).toBe(1);
    expect(logFarPosition(FAR_FLOOR)).toBe(0);
    expect(logFarPosition(0)).toBe(0);
    expect(logFarPosition(0.01) - logFarPosition(0.001)).toBeCloseTo(logFarPosition(0.1) - logFarPosition(0.01), 10);
  });

  it('marks each operating point apart from the others, with its label on a line of its own', () => {
    const svg = rocSvg(curve, marked, 'a & b < c');
    const circles = attributes(svg, 'circle');
    expect(circles).toHaveLength(2);
    expect(Math.abs(circles[0].cx - circles[1].cx)).toBeGreaterThan(40);
    expect(svg).toContain('>FAR 1%</text>');
    expect(svg).toContain('>FAR 0.1%</text>');
    const labels = [...svg.matchAll(/<text x="([\d.]+)" y="([\d.]+)" fill="#d0302f">/g)].map(([, , y]) => Number(y));
    expect(new Set(labels).size).toBe(2);
    expect(svg).toContain('a &amp; b &lt; c');
  });

  it('renders to a PNG', async () => {
    const png = await sharp(Buffer.from(rocSvg(curve, marked, 'roc'))).png().toBuffer();
    expect(await sharp(png).metadata()).toMatchObject({ format: 'png', width: 480, height: 480 });
  });
});
