import { beforeAll, describe, expect, it } from '@jest/globals';

import { choleskySolve } from '../../../../src/morphable/shading-depth.js';
import { jointShadingDepth } from '../../../../src/morphable/shading-joint.js';
import { downloadedDepth, jointRefinement, photoIntensity, type ShadingPhoto } from '../../../../src/morphable/shading-refine.js';
import { mulberry32 } from '../../../../src/training/random.js';
import { grid, renderFlat, rmsApart } from '../../../helpers/shaded-grid.js';
import { spaceInDepth, spaceRule } from '../../../../tools/depth/change-space.js';
import { meanFacePeople } from '../../../../tools/depth/shading-synthetic.js';

/** A Gaussian bump of height `k` at (cx, cy), `sigma` px wide. */
const bump = (k: number, cx: number, cy: number, sigma: number) => (x: number, y: number) => k * Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * sigma ** 2));

describe('the joint fit confined to a space', () => {
  it('finds the weights of the face its photos show and holds the change to that space', () => {
    const surface = grid(7, 12, bump(25, 46, 46, 18));
    // The face is the start plus the space's offset plus three known modes' worth: bumps apart from the start's own (a mode
    // that only scales the start's relief is what free lights can also explain: uncalibrated photometric stereo's ambiguity).
    const n = surface.depth.length;
    const offset = grid(7, 12, bump(2, 46, 30, 14)).depth;
    const data = Float64Array.from([bump(4, 30, 30, 12), bump(4, 62, 66, 12), bump(3, 70, 34, 12)].flatMap((mode) => Array.from(grid(7, 12, mode).depth)));
    const space = { offset, modes: { rows: 3, data } };
    const known = [1.2, -0.8, 0.5];
    const inSpace = (weights: ArrayLike<number>, i: number) => offset[i] + [0, 1, 2].reduce((s, k) => s + weights[k] * data[k * n + i], 0);
    const face = surface.depth.map((v, i) => v + inSpace(known, i));
    const photos = [[0.2, 0.5, 0.0, 0.7], [0.2, -0.5, 0.1, 0.7], [0.2, 0.0, 0.5, 0.7], [0.2, 0.1, -0.5, 0.7]].map((light) => ({
      points: surface.points,
      depth: surface.depth,
      depthPerUnit: 1,
      image: renderFlat({ ...surface, depth: face }, light, 92),
    }));

    const rule = spaceRule(space, 0.0001);
    const fit = jointShadingDepth({ photos, triangles: surface.triangles, rule });
    rule.weights.forEach((w, k) => expect(Math.abs(w - known[k])).toBeLessThan(0.15));
    expect(rmsApart(surface.depth.map((v, i) => v + fit.change[i]), face)).toBeLessThan(0.2 * rmsApart(surface.depth, face));
    // Every change is the offset plus the modes at the fitted weights, nothing else.
    fit.change.forEach((v, i) => expect(v).toBeCloseTo(inSpace(rule.weights, i), 9));
    // A prior that outweighs the photos leaves the offset alone.
    jointShadingDepth({ photos, triangles: surface.triangles, rule: spaceRule(space, 1e9) }).change.forEach((v, i) => expect(v).toBeCloseTo(offset[i], 3));
    expect(() => spaceRule({ offset, modes: { rows: 2, data } })).toThrow(RangeError);
  });

  describe("in model depth, a download's joint fit (a face rendered with known depth)", () => {
    let mean: Float32Array;
    let photos: ShadingPhoto[];

    beforeAll(async () => {
      const { mean: meanFace, people } = await meanFacePeople({ count: 1, photos: 8, rmsMm: 2.5, ownSkin: true }, { light: 'point', landmarkNoisePx: 0.7, pixelNoise: 0.01, albedoNoise: 0.08 }, mulberry32(61));
      mean = meanFace;
      photos = people[0].photos.map((photo) => ({ image: photoIntensity(photo.rgb), landmarks: photo.landmarks }));
    });

    it('serves the depth of the space: the template plus the offset plus the modes at some weights, nothing outside, gated as without it', () => {
      // A space of three smooth depth modes over the face and a small offset (model z, mm).
      const n = mean.length / 3;
      const at = (f: (x: number, y: number) => number) => Float64Array.from({ length: n }, (_, v) => f(mean[3 * v] / 40, mean[3 * v + 1] / 40));
      const modes = [at((x) => x * x), at((_, y) => y * y), at((x, y) => Math.exp(-(x * x + y * y)))];
      const space = { offset: at((x, y) => 0.5 * Math.exp(-(x * x + y * y) * 4)), modes: { rows: 3, data: Float64Array.from(modes.flatMap((m) => Array.from(m))) } };
      const served = downloadedDepth(mean, photos, { method: 'gated', rule: spaceInDepth(space) });
      expect(served).toEqual({ shape: jointRefinement(mean, photos, { rule: spaceInDepth(space) }).shape, method: 'joint' });
      expect(served.shape).not.toEqual(jointRefinement(mean, photos).shape);
      const change = Float64Array.from({ length: n }, (_, v) => served.shape[3 * v + 2] - mean[3 * v + 2] - space.offset[v]);
      const normal = modes.map((a) => modes.map((b) => a.reduce((s, v, i) => s + v * b[i], 0)));
      const weights = choleskySolve(Float64Array.from(normal.flat()), Float64Array.from(modes.map((a) => a.reduce((s, v, i) => s + v * change[i], 0))), 3)!;
      const outside = change.map((v, i) => v - modes.reduce((s, m, k) => s + weights[k] * m[i], 0));
      expect(Math.hypot(...outside)).toBeLessThan(1e-3 * Math.hypot(...change));
      expect(Math.hypot(...change)).toBeGreaterThan(0.1);
    });
  });
});
