import { beforeAll, describe, expect, it } from '@jest/globals';

import { grayIntensity, laplacianNormal, shadingBasis, shadingDepth, type IntensityImage } from '../../../src/morphable/shading-depth.js';
import { grid, renderFlat, rmsApart } from '../../helpers/shaded-grid.js';
import { FACEMESH_MIRROR } from '../../../src/morphable/facemesh-topology.js';
import { photoIntensity, pooledShadingChange, poseOnLandmarks, refinedByChanges, shadingChange, shadingRefinedShape } from '../../../src/morphable/shading-refine.js';
import { mirrorShape } from '../../../src/morphable/symmetry.js';
import { mulberry32 } from '../../../src/training/random.js';
import { compareDeviations } from '../../../tools/depth/shading-compare.js';
import { photographShaded, meanFacePeople, type SyntheticPerson } from '../../../tools/depth/shading-synthetic.js';

const PHOTO = { light: 'point', landmarkNoisePx: 0.7, pixelNoise: 0.01, albedoNoise: 0.08 } as const;

/** An image every pixel of which is `value`. */
const flat = (value: number): IntensityImage => grayIntensity({ width: 50, height: 50, data: new Float32Array(50 * 50).fill(value) });

describe('shadingDepth, the maths', () => {
  it('keeps a plane that already explains a uniform image where it is', () => {
    const result = shadingDepth({ ...grid(7, 6, () => 0), image: flat(0.5) }, { order: 1 });
    expect(result.triangles).toBe(72);
    for (const v of result.depth) expect(Math.abs(v)).toBeLessThan(1e-6);
    expect(result.residualAfter).toBeLessThan(1e-6);
  });

  it("takes back a dent the photo's shading does not show", () => {
    const bump = (k: number, cx: number, cy: number, sigma: number) => (x: number, y: number) => k * Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * sigma ** 2));
    const nose = bump(25, 46, 46, 18);
    const dent = bump(-8, 34, 58, 10);
    const truth = grid(7, 12, nose);
    const image = renderFlat(truth, [0.3, 0.4, 0.3, 0.8], 92);
    const start = grid(7, 12, (x, y) => nose(x, y) + dent(x, y)).depth;
    const result = shadingDepth({ ...truth, depth: start, image }, { order: 1, smoothness: 0.001, anchor: 0.0001, iterations: 15 });
    expect(rmsApart(result.depth, truth.depth)).toBeLessThan(0.5 * rmsApart(start, truth.depth));
    expect(result.residualAfter).toBeLessThan(result.residualBefore);
  });

  it('leaves the depth as it is when the photo shows too little of the surface', () => {
    // A 3 × 3 grid is 8 triangles: too few to fit a light and a shape.
    const start = grid(3, 20, (x, y) => 0.1 * x - 0.05 * y);
    const result = shadingDepth({ ...start, image: flat(0.5) });
    expect(Array.from(result.depth)).toEqual(Array.from(start.depth));
    expect(result.triangles).toBe(8);
  });

  it('refuses points that do not match the depths', () => {
    expect(() => shadingDepth({ points: new Float64Array(4), depth: new Float64Array(3), triangles: new Uint32Array([0, 1, 2]), image: flat(1) })).toThrow(RangeError);
  });

  it('has the spherical-harmonic basis of orders 1 and 2, and a Laplacian normal matrix that ignores constants', () => {
    expect(shadingBasis(0, 0, 1, 1)).toEqual([1, 0, 0, 1]);
    expect(shadingBasis(0, 0, 1, 2)).toEqual([1, 0, 0, 1, 0, 0, 0, 0, 2]);
    const { triangles } = grid(3, 20, () => 0);
    const lap = laplacianNormal(triangles, 9);
    for (let i = 0; i < 9; i++) expect(Math.abs(lap.slice(9 * i, 9 * i + 9).reduce((s, v) => s + v, 0))).toBeLessThan(1e-12);
  });
});

describe('shading refinement on faces rendered with known depth (never real depth)', () => {
  let mean: Float32Array;
  let people: SyntheticPerson[];

  beforeAll(async () => {
    ({ mean, people } = await meanFacePeople({ count: 5, photos: 3, rmsMm: 2.5, ownSkin: false }, PHOTO, mulberry32(41)));
  });

  it('recovers what makes each face differ from the others when pooled over its photos under different lights', () => {
    const pooled = people.map(({ photos }) => {
      const changes = photos.map((photo) => shadingChange(mean, photo));
      return Float64Array.from(changes[0], (_, c) => changes.reduce((s, ch) => s + ch[c], 0) / changes.length);
    });
    // As fidelity3d measures: each person's change and true deviation less the other people's mean.
    const comparisons = people.map((person, p) => {
      const others = people.filter((_, q) => q !== p);
      const otherChanges = pooled.filter((_, q) => q !== p);
      const truth = person.deviation.map((v, i) => v - others.reduce((s, o) => s + o.deviation[i], 0) / others.length);
      const change = pooled[p].map((v, c) => v - otherChanges.reduce((s, o) => s + o[c], 0) / otherChanges.length);
      return compareDeviations(mean, truth, change);
    });
    const correlation = comparisons.reduce((s, c) => s + c.correlation, 0) / comparisons.length;
    expect(correlation).toBeGreaterThan(0.35);
    for (const c of comparisons) expect(c.rmseRatio).toBeLessThan(1);
  });

  it('changes the mean face, photographed, much less than real faces differ', () => {
    const photo = photographShaded(mean, PHOTO, mulberry32(5));
    const change = shadingChange(mean, photo);
    const depthChange = Float64Array.from({ length: mean.length / 3 }, (_, i) => change[3 * i + 2]);
    const comparison = compareDeviations(mean, people[0].deviation, change);
    // Its change's size relative to a real-size deviation (2.5 mm RMS) is what the method invents.
    expect(Math.sqrt(depthChange.reduce((s, v) => s + v * v, 0) / depthChange.length)).toBeLessThan(0.7 * 2.5);
    expect(Math.abs(comparison.correlation)).toBeLessThan(0.5);
  });

  it("moves vertices only along the camera's line of sight, and pools nothing from no photos", () => {
    const photo = people[0].photos[0];
    const change = shadingChange(mean, photo);
    const { view } = poseOnLandmarks(mean, photo.landmarks);
    for (let i = 0; i < mean.length / 3; i++) {
      const [x, y, z] = [change[3 * i], change[3 * i + 1], change[3 * i + 2]];
      const along = x * view[0] + y * view[1] + z * view[2];
      expect(Math.hypot(x - along * view[0], y - along * view[1], z - along * view[2])).toBeLessThan(1e-6);
    }
    expect(shadingRefinedShape(mean, [])).toEqual(mean);
  });

  it("pools a person's photos symmetrically: a side light's one-sided error goes, what both halves of the face share stays", () => {
    const changes = people[0].photos.map((photo) => shadingChange(mean, photo));
    const plain = pooledShadingChange(changes, false);
    const symmetric = pooledShadingChange(changes, true);
    const mirrored = mirrorShape(symmetric);
    symmetric.forEach((v, c) => expect(v).toBeCloseTo(mirrored[c], 9));
    // Its symmetric part is the plain pool's own: pooling the mirrored photos' changes gives the same.
    const fromMirrors = pooledShadingChange(changes.map((change) => mirrorShape(change)), true);
    fromMirrors.forEach((v, c) => expect(v).toBeCloseTo(symmetric[c], 9));
    // A one-sided change (one cheek pushed in) is halved and shared by both cheeks.
    const oneSided = new Float64Array(mean.length);
    const cheek = Array.from({ length: mean.length / 3 }, (_, i) => i).filter((i) => FACEMESH_MIRROR[i] !== i)[0];
    oneSided[3 * cheek + 2] = -2;
    const pooled = pooledShadingChange([oneSided], true);
    expect(pooled[3 * cheek + 2]).toBeCloseTo(-1, 9);
    expect(pooled[3 * FACEMESH_MIRROR[cheek] + 2]).toBeCloseTo(-1, 9);
    expect(Math.hypot(...symmetric)).toBeLessThan(Math.hypot(...plain));
    expect(refinedByChanges(mean, changes, { symmetric: true })).toEqual(Float32Array.from(mean, (v, c) => v + symmetric[c]));
  });

  it('reads an RGB photo as the mean of its channels, 0 to 1', () => {
    const image = photoIntensity({ width: 2, height: 1, data: Uint8Array.from([255, 255, 255, 0, 51, 102]) });
    expect(image.intensity(0.5, 0.5)).toBeCloseTo(1, 6);
    expect(image.intensity(1.5, 0.5)).toBeCloseTo(0.2, 6);
    expect(image.intensity(1, 0.5)).toBeCloseTo(0.6, 6);
  });
});
