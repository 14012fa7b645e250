import { beforeAll, describe, expect, it } from '@jest/globals';

import { defaultBundleDir } from '../../../src/inference/face-encoder.js';
import { loadBundle, neutralShape, type Bundle } from '../../../src/morphable/bundle.js';
import { FACEMESH_LANDMARKS, FACEMESH_REGIONS, FACEMESH_TRIANGLES } from '../../../src/morphable/facemesh-topology.js';
import { INNER_LIP_PAIRS, lipGap, LOWER_LIP_RINGS, ringDistances } from '../../../src/morphable/mouth-closure.js';
import { reconstructMesh } from '../../../src/morphable/reconstruct.js';
import { mulberry32, randomNormal } from '../../../src/training/random.js';

/** The bound every neutral template's lips must meet within, millimetres. */
const LIP_GAP_BOUND_MM = 1;

let bundle: Bundle;
let identities: Float32Array[];

beforeAll(async () => {
  bundle = await loadBundle(defaultBundleDir());
  const random = mulberry32(14);
  // People of the prior, some far out in it (2.5σ), and the mean face.
  identities = [
    new Float32Array(bundle.shape.basis.rows),
    ...Array.from({ length: 200 }, (_, i) => Float32Array.from({ length: bundle.shape.basis.rows }, () => (i % 4 === 0 ? 2.5 : 1) * randomNormal(random))),
  ];
});

const neutral = (shape: Float32Array) => reconstructMesh(bundle, { shape, texture: [] });
const lipGapOf = (p: Float32Array, a: number, b: number) => Math.hypot(p[3 * a] - p[3 * b], p[3 * a + 1] - p[3 * b + 1], p[3 * a + 2] - p[3 * b + 2]);

describe('the neutral face has its mouth closed', () => {
  it('pairs the nine inner-lip vertices of each lip, corners left out', () => {
    expect(INNER_LIP_PAIRS).toHaveLength(9);
    expect(INNER_LIP_PAIRS[4]).toEqual([FACEMESH_LANDMARKS.upperLipCentre, FACEMESH_LANDMARKS.lowerLipCentre]);
  });

  it('closes the mouth the average face keeps open', () => {
    expect(lipGap(neutralShape(bundle, []))).toBeGreaterThan(5);
    expect(lipGap(neutral(identities[0]).positions)).toBeLessThan(LIP_GAP_BOUND_MM);
  });

  it(`brings every template's lips within ${LIP_GAP_BOUND_MM} mm, each lip halfway`, () => {
    for (const shape of identities) {
      const open = neutralShape(bundle, shape);
      const closed = neutral(shape).positions;
      expect(lipGap(closed)).toBeLessThan(LIP_GAP_BOUND_MM);
      const [upper, lower] = INNER_LIP_PAIRS[4];
      const moved = (v: number) => Math.hypot(closed[3 * v] - open[3 * v], closed[3 * v + 1] - open[3 * v + 1], closed[3 * v + 2] - open[3 * v + 2]);
      expect(moved(upper)).toBeCloseTo(moved(lower), 3);
    }
  });

  it('moves the lips and chin smoothly, not the upper face, and folds no triangle over', () => {
    const fromLower = ringDistances(FACEMESH_REGIONS.lipsLowerInner);
    const fromUpper = ringDistances(FACEMESH_REGIONS.lipsUpperInner);
    const normalZ = (p: Float32Array, t: number) => {
      const [a, b, c] = [3 * FACEMESH_TRIANGLES[t], 3 * FACEMESH_TRIANGLES[t + 1], 3 * FACEMESH_TRIANGLES[t + 2]];
      return (p[b] - p[a]) * (p[c + 1] - p[a + 1]) - (p[b + 1] - p[a + 1]) * (p[c] - p[a]);
    };
    for (const shape of identities.slice(0, 40)) {
      const open = neutralShape(bundle, shape);
      const closed = neutral(shape).positions;
      const moved = (v: number) => Math.hypot(closed[3 * v] - open[3 * v], closed[3 * v + 1] - open[3 * v + 1], closed[3 * v + 2] - open[3 * v + 2]);
      const { upperLipCentre, lowerLipCentre } = FACEMESH_LANDMARKS;
      expect(moved(upperLipCentre) + moved(lowerLipCentre)).toBeCloseTo(lipGapOf(open, upperLipCentre, lowerLipCentre), 3);
      expect(moved(FACEMESH_LANDMARKS.chin)).toBeGreaterThan(0.02 * moved(lowerLipCentre));
      for (const v of [FACEMESH_LANDMARKS.foreheadTop, FACEMESH_LANDMARKS.rightEyeInnerCorner, FACEMESH_LANDMARKS.leftEyeOuterCorner, FACEMESH_LANDMARKS.midwayBetweenEyes, FACEMESH_LANDMARKS.noseTip, FACEMESH_LANDMARKS.noseBottom]) {
        expect(moved(v)).toBe(0);
      }
      // Smooth: below the mouth, one ring further from the lower lip, a vertex moves no more than the ring before it did.
      const largest = (ring: number) => Math.max(...[...fromLower.keys()].filter((v) => fromLower[v] === ring && fromLower[v] < fromUpper[v]).map(moved));
      for (let ring = 2; ring <= LOWER_LIP_RINGS + 1; ring++) expect(largest(ring)).toBeLessThanOrEqual(largest(ring - 1) + 1e-6);
      // Every triangle that faced the viewer (+z) before still does, but for slivers under 1 mm² at the
      // mouth's corners, which the lips, meeting there, may fold (as a closed mouth's corner does).
      for (let t = 0; t < FACEMESH_TRIANGLES.length; t += 3) if (normalZ(open, t) > 2) expect(normalZ(closed, t)).toBeGreaterThan(0);
    }
  });

  it("keeps a photo's own expression as it is, open mouth included", () => {
    const zeroExpression = new Float32Array(bundle.expression.basis.rows);
    const mesh = reconstructMesh(bundle, { shape: identities[1], texture: [], expression: zeroExpression });
    expect(lipGap(mesh.positions)).toBeCloseTo(lipGap(neutralShape(bundle, identities[1])), 4);
  });
});
