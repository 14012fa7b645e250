import { beforeAll, describe, expect, it } from '@jest/globals';

import { jointShadingDepth, lightDirection, lightingDiverseOrder } from '../../../src/morphable/shading-joint.js';
import { jointRefinement, jointShadingChange, photosByLighting, pooledShadingChange, poseOnLandmarks, shadingChange } from '../../../src/morphable/shading-refine.js';
import { mulberry32 } from '../../../src/training/random.js';
import { grid, renderFlat, rmsApart } from '../../helpers/shaded-grid.js';
import { compareDeviations, type DeviationComparison } from '../../../tools/depth/shading-compare.js';
import { meanFacePeople, type SyntheticPerson } from '../../../tools/depth/shading-synthetic.js';

const PHOTO = { light: 'point', landmarkNoisePx: 0.7, pixelNoise: 0.01, albedoNoise: 0.08 } as const;

describe('jointShadingDepth, the maths', () => {
  const bump = (k: number, cx: number, cy: number, sigma: number) => (x: number, y: number) => k * Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * sigma ** 2));
  const nose = bump(25, 46, 46, 18);
  const dent = bump(-8, 34, 58, 10);
  const truth = grid(7, 12, nose);
  // The start is the face with a dent its photos do not show (uncalibrated lights do not fix the depth's scale: the start does).
  const start = grid(7, 12, (x, y) => nose(x, y) + dent(x, y)).depth;
  // Darker skin on one side of the bump: a single light cannot tell it from a surface turned away.
  const patch = (t: number) => (t % 12 < 4 && t < 36 ? 0.6 : 1);
  const lights = [[0.2, 0.5, 0.0, 0.7], [0.2, -0.5, 0.1, 0.7], [0.2, 0.0, 0.5, 0.7], [0.2, 0.1, -0.5, 0.7]];
  const photo = (light: readonly number[]) => ({ points: truth.points, depth: start, depthPerUnit: 1, image: renderFlat(truth, light, 92, patch) });
  const refined = (change: ArrayLike<number>) => Float64Array.from(start, (v, i) => v + change[i]);

  it('takes back a dent its photos under several lights do not show, nearer than each light alone, and reads a darker patch as skin', () => {
    const options = { smoothness: 0.001, anchor: 0.0001, iterations: 8, albedoPrior: 0.3 };
    const joint = jointShadingDepth({ photos: lights.map(photo), triangles: truth.triangles }, options);
    const singles = lights.map((light) => jointShadingDepth({ photos: [photo(light)], triangles: truth.triangles }, options).change);
    const mean = Float64Array.from(start, (_, i) => singles.reduce((s, change) => s + change[i], 0) / singles.length);
    const before = rmsApart(start, truth.depth);
    expect(joint.photos).toBe(4);
    expect(rmsApart(refined(joint.change), truth.depth)).toBeLessThan(0.6 * before);
    expect(rmsApart(refined(joint.change), truth.depth)).toBeLessThan(0.8 * rmsApart(refined(mean), truth.depth));
    // The darker patch is read as skin, not shape: its triangles' albedo below the rest's.
    const dark = Array.from(joint.albedo).filter((_, t) => patch(t) < 1);
    const light = Array.from(joint.albedo).filter((_, t) => patch(t) === 1);
    expect(Math.max(...dark)).toBeLessThan(Math.min(...light));
  });

  it('scales the change by each photo\'s depth per unit and its priors by the photos when asked, skips photos that show too little, and refuses mismatched input', () => {
    // Twice the pixels per unit: the same change in pixels, so half the change in units.
    const unit = jointShadingDepth({ photos: [photo(lights[0])], triangles: truth.triangles });
    const doubled = jointShadingDepth({ photos: [{ ...photo(lights[0]), depthPerUnit: 2 }], triangles: truth.triangles });
    doubled.change.forEach((v, i) => expect(2 * v).toBeCloseTo(unit.change[i], 6));
    expect(Math.max(...unit.change.map(Math.abs))).toBeGreaterThan(0.1);
    const tiny = grid(3, 20, () => 0);
    const none = jointShadingDepth({ photos: [{ points: tiny.points, depth: tiny.depth, depthPerUnit: 1, image: photo(lights[0]).image }], triangles: tiny.triangles });
    expect(none.photos).toBe(0);
    expect(Array.from(none.change)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(Array.from(none.lighting[0])).toEqual([0, 0, 0, 0]);
    // Priors scaled per photo change nothing for one photo, and hold several photos' change nearer the start.
    const one = { photos: [photo(lights[0])], triangles: truth.triangles };
    expect(Array.from(jointShadingDepth(one, { perPhotoPriors: true }).change)).toEqual(Array.from(jointShadingDepth(one).change));
    const all = { photos: lights.map(photo), triangles: truth.triangles };
    const size = (change: Float64Array) => Math.hypot(...change);
    expect(size(jointShadingDepth(all, { perPhotoPriors: true }).change)).toBeLessThan(size(jointShadingDepth(all).change));
    expect(() => jointShadingDepth({ photos: [{ points: new Float64Array(4), depth: new Float64Array(3), depthPerUnit: 1, image: photo(lights[0]).image }], triangles: new Uint32Array([0, 1, 2]) })).toThrow(RangeError);
  });

  it("starts a caller's rule where it says and moves the change by its steps alone, given each iteration's system, and refuses a rule for other vertices", () => {
    const photos = lights.map(photo);
    const systems: { size: number; observationWeight: number }[] = [];
    const rule = {
      start: Float64Array.from(start, (_, i) => (i % 5) / 4),
      step: (h: Float64Array, g: Float64Array, observationWeight: number) => systems.push({ size: h.length / g.length, observationWeight }) > 0,
    };
    const fit = jointShadingDepth({ photos, triangles: truth.triangles, rule }, { iterations: 3 });
    expect(Array.from(fit.change)).toEqual(Array.from(rule.start));
    expect(systems).toEqual(Array.from({ length: 3 }, () => ({ size: start.length, observationWeight: expect.any(Number) })));
    systems.forEach(({ observationWeight }) => expect(observationWeight).toBeGreaterThan(0));
    // A step that cannot be solved ends the fit where the last good change stood.
    expect(Array.from(jointShadingDepth({ photos, triangles: truth.triangles, rule: { ...rule, step: () => false } }).change)).toEqual(Array.from(rule.start));
    expect(() => jointShadingDepth({ photos, triangles: truth.triangles, rule: { ...rule, start: [0, 0] } })).toThrow(RangeError);
  });

  it('gives the fit up after its first iterations when asked, as if it had been run that far, and only then', () => {
    const input = { photos: lights.map(photo), triangles: truth.triangles };
    const full = jointShadingDepth(input);
    const short = jointShadingDepth(input, { iterations: 2 });
    let seen = Number.NaN;
    const stopped = jointShadingDepth({ ...input, giveUp: { after: 2, when: (residual) => ((seen = residual), true) } });
    expect(stopped.stopped).toBe(true);
    expect(seen).toBe(short.residual);
    expect(stopped).toEqual({ ...short, stopped: true });
    // Later iterations lower the residual; a fit not given up is the full fit.
    expect(full.residual).toBeLessThan(short.residual);
    expect(jointShadingDepth({ ...input, giveUp: { after: 2, when: () => false } })).toEqual(full);
    expect(full.stopped).toBe(false);
    expect(jointShadingDepth({ ...input, giveUp: { after: 8, when: () => true } })).toEqual(full);
  });

  it('orders lights by their spread: after the first, the most different, and repeats last', () => {
    const front: [number, number, number] = [0, 0, 1];
    const left: [number, number, number] = [-0.7, 0, 0.7];
    const right: [number, number, number] = [0.7, 0, 0.7];
    const above: [number, number, number] = [0, 0.7, 0.7];
    expect(lightingDiverseOrder([front, front, left, front, right, above])).toEqual([0, 2, 5, 4, 1, 3]);
    expect(lightingDiverseOrder([])).toEqual([]);
    expect(lightDirection([0.5, 0, 0, 2])).toEqual([0, 0, 1]);
    expect(lightDirection([0.5, 0, 0, 0])).toEqual([0, 0, 0]);
  });
});

describe('the joint fit on faces rendered with known depth (never real depth)', () => {
  let mean: Float32Array;
  let people: SyntheticPerson[];

  beforeAll(async () => {
    ({ mean, people } = await meanFacePeople({ count: 5, photos: 4, rmsMm: 2.5, ownSkin: true }, PHOTO, mulberry32(43)));
  });

  /** Each person's change and true deviation less the other people's means, as fidelity3d measures. */
  function lessOthers(changes: readonly Float64Array[]): DeviationComparison[] {
    return people.map((person, p) => {
      const others = people.filter((_, q) => q !== p);
      const otherChanges = changes.filter((_, q) => q !== p);
      const truth = person.deviation.map((v, i) => v - others.reduce((s, o) => s + o.deviation[i], 0) / others.length);
      const change = changes[p].map((v, c) => v - otherChanges.reduce((s, o) => s + o[c], 0) / otherChanges.length);
      return compareDeviations(mean, truth, change);
    });
  }
  const average = (list: DeviationComparison[], key: keyof DeviationComparison) => list.reduce((s, c) => s + c[key], 0) / list.length;

  it("recovers each face's own depth better than the mean of its photos' separate refinements", () => {
    const joint = lessOthers(people.map(({ photos }) => jointShadingChange(mean, photos)));
    const pooled = lessOthers(people.map(({ photos }) => pooledShadingChange(photos.map((photo) => shadingChange(mean, photo)))));
    expect(average(joint, 'rmseRatio')).toBeLessThan(average(pooled, 'rmseRatio') - 0.03);
    expect(average(joint, 'correlation')).toBeGreaterThan(average(pooled, 'correlation') + 0.03);
    expect(average(joint, 'correlation')).toBeGreaterThan(0.45);
    for (const c of joint) expect(c.rmseRatio).toBeLessThan(1);
  });

  it('moves every vertex along one direction, near each photo\'s line of sight, and refines nothing from no photos', () => {
    const { photos } = people[0];
    const change = jointShadingChange(mean, photos);
    const direction = [change[0], change[1], change[2]].map((v) => v / Math.hypot(change[0], change[1], change[2]));
    for (let i = 0; i < mean.length / 3; i++) {
      const [x, y, z] = [change[3 * i], change[3 * i + 1], change[3 * i + 2]];
      const along = x * direction[0] + y * direction[1] + z * direction[2];
      expect(Math.hypot(x - along * direction[0], y - along * direction[1], z - along * direction[2])).toBeLessThan(1e-9);
    }
    for (const photo of photos) {
      const { view } = poseOnLandmarks(mean, photo.landmarks);
      expect(Math.abs(view[0] * direction[0] + view[1] * direction[1] + view[2] * direction[2])).toBeGreaterThan(0.95);
    }
    expect(jointRefinement(mean, []).shape).toEqual(mean);
    expect(Array.from(jointShadingChange(mean, []))).toEqual(Array.from(new Float64Array(mean.length)));
  });

  it("takes the photos whose lights differ most first, and no more than asked", () => {
    const { photos } = people[1];
    // The same photo three times and two others: the repeats come last.
    const candidates = [photos[0], photos[0], photos[1], photos[0], photos[2]];
    const order = photosByLighting(mean, candidates);
    expect(order.slice(0, 3).sort()).toEqual([0, 2, 4]);
    const two = jointRefinement(mean, candidates, { photos: 2 }).shape;
    const direct = jointShadingChange(mean, [photos[0], order[1] === 2 ? photos[1] : photos[2]]);
    two.forEach((v, c) => expect(v).toBeCloseTo(mean[c] + direct[c], 4));
  });
});
