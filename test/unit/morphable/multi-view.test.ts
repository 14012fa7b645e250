import { describe, expect, it } from '@jest/globals';
import { reconstructFromViews } from '../../../src/morphable/multi-view.js';
import { CFP_POINT_COUNT, CFP_RIGID_POINTS, initialCfpShape, orientCfpView, rigidPoints } from '../../../src/morphable/cfp-markup.js';
import { alignSimilarity, eulerToRotation } from '../../../src/morphable/procrustes.js';
import { mulberry32, randomNormal } from '../../../src/training/random.js';

/**
 * A made-up right half of a face in CFP's 30-point order (model frame: mm, x to the image's right in
 * a frontal view, so the subject's right half has x < 0; y up; z towards the viewer): jaw from the
 * ear to the chin, brow, eye, nose bridge to tip, nostril base, mouth, plus per-person noise.
 */
function halfFace(seed: number): Float64Array {
  const random = mulberry32(seed);
  const base = [
    [-70, 20, -60], [-69, 5, -55], [-66, -10, -50], [-62, -25, -45], [-55, -40, -35], [-45, -52, -25], [-33, -62, -15], [-18, -70, -5], [0, -75, 0],
    [-55, 45, -10], [-38, 52, 5], [-15, 47, 15],
    [-45, 33, -12], [-38, 37, -4], [-27, 37, 0], [-18, 32, 2], [-27, 29, -1], [-38, 29, -5],
    [0, 30, 18], [0, 15, 24], [0, 2, 30], [0, -8, 34],
    [0, -17, 18], [-7, -15, 15], [-13, -11, 10],
    [-25, -33, 2], [0, -29, 14], [0, -35, 10], [0, -50, 6], [0, -40, 9],
  ];
  return Float64Array.from(base.flat(), (v) => v + 3 * randomNormal(random));
}

/** The points as a photo sees them: rotated, scaled, shifted, y down, with marking noise (pixels). */
function photo(points: Float64Array, yawDegrees: number, pitchDegrees: number, noise: number, random: () => number): Float64Array {
  const r = eulerToRotation({ yaw: yawDegrees, pitch: pitchDegrees, roll: 0 });
  const n = points.length / 3;
  return Float64Array.from({ length: 2 * n }, (_, c) => {
    const i = c >> 1;
    const [x, y, z] = [points[3 * i], points[3 * i + 1], points[3 * i + 2]];
    const row = c % 2 === 0 ? 0 : 3;
    const projected = r[row] * x + r[row + 1] * y + r[row + 2] * z;
    return (c % 2 === 0 ? 200 + 1.5 * projected : 150 - 1.5 * projected) + noise * randomNormal(random);
  });
}

function rmsAfterAlignment(estimate: Float64Array, truth: Float64Array): number {
  const aligned = alignSimilarity(estimate, truth).aligned;
  return Math.sqrt(aligned.reduce((s, v, c) => s + (v - truth[c]) ** 2, 0) / (truth.length / 3));
}

/** The yaw that turns the face's +z to the image's right, showing its right half (x < 0) to the camera. */
function profileYaw(): number {
  const r = eulerToRotation({ yaw: 90, pitch: 0, roll: 0 });
  return r[2] > 0 ? 90 : -90;
}

describe('rigid points from frontal and profile views', () => {
  it('recovers a known shape from noiseless frontal and profile views, up to a similarity', () => {
    const truth = rigidPoints(halfFace(1), 3);
    const random = mulberry32(2);
    const views = [photo(truth, 3, -4, 0, random), photo(truth, -6, 2, 0, random), photo(truth, profileYaw(), 5, 0, random)];
    const asUp = views.map((v) => v.map((value, c) => (c % 2 === 0 ? value : -value)));
    const initial = initialCfpShape(asUp.slice(0, 2), asUp.slice(2));
    // Alternation converges linearly: many rounds to reach exactness (the default 30 is within 0.2 mm here).
    const fit = reconstructFromViews(asUp, initial, { iterations: 400 });
    expect(rmsAfterAlignment(fit.points, truth)).toBeLessThan(0.05);
    expect(fit.rmsd).toBeLessThan(1e-3);
  });

  it('recovers a face marked the CFP way (10 frontal, 4 profiles facing either side, mirrored halves) within the marking noise', () => {
    const face = halfFace(3);
    // Faces are taken as symmetric: the left half is the right half mirrored.
    const leftHalf = face.map((v, c) => (c % 3 === 0 ? -v : v));
    const random = mulberry32(4);
    const frontal = Array.from({ length: 10 }, (_, k) => photo(k % 3 === 0 ? leftHalf : face, 8 * randomNormal(random), 5 * randomNormal(random), 1, random));
    // Profiles facing the image's right show the right half; facing left, the left half.
    const profiles = Array.from({ length: 4 }, (_, k) => photo(k % 2 === 0 ? face : leftHalf, (k % 2 === 0 ? 1 : -1) * profileYaw() + 4 * randomNormal(random), 5 * randomNormal(random), 1, random));
    const oriented = [...frontal.map((v) => orientCfpView(v, 'frontal')), ...profiles.map((v) => orientCfpView(v, 'profile'))].map((v) => rigidPoints(v, 2));
    // Oriented frontal views put the marked jaw left of the nose; oriented profiles face the right.
    for (const v of frontal.map((p) => orientCfpView(p, 'frontal'))) expect(v[0]).toBeLessThan(v[2 * 21]);
    for (const v of profiles.map((p) => orientCfpView(p, 'profile'))) expect(v[2 * 21]).toBeGreaterThan(v[0]);
    const fit = reconstructFromViews(oriented, initialCfpShape(oriented.slice(0, 10), oriented.slice(10)));
    const truth = rigidPoints(face, 3);
    // 1 px of marking noise at 1.5 px/mm is under 1 mm per point; the recovered depth is as good.
    const error = rmsAfterAlignment(fit.points, truth);
    expect(error).toBeLessThan(1.2);
    const depthOnly = alignSimilarity(fit.points, truth).aligned;
    const depthError = Math.sqrt(CFP_RIGID_POINTS.reduce((s, _, i) => s + (depthOnly[3 * i + 2] - truth[3 * i + 2]) ** 2, 0) / CFP_RIGID_POINTS.length);
    expect(depthError).toBeLessThan(1.5);
  });

  it('refuses views that all look from one direction (depth unseen)', () => {
    const truth = rigidPoints(halfFace(5), 3);
    const random = mulberry32(6);
    const view = photo(truth, 0, 0, 0, random);
    expect(() => reconstructFromViews([view, view], truth)).toThrow(RangeError);
  });

  it('refuses a markup without 30 points', () => {
    expect(() => orientCfpView(new Float64Array(2 * (CFP_POINT_COUNT - 1)), 'frontal')).toThrow(RangeError);
  });
});
