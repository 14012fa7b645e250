import { beforeAll, describe, expect, it } from '@jest/globals';

import { meshSideView, NOSE_TIP_MEASURE, profileDepthAgreement, profileMeasures, type ProfilePerson } from '../../../src/eval/profile-depth.js';
import { defaultBundleDir } from '../../../src/inference/face-encoder.js';
import { loadBundle } from '../../../src/morphable/bundle.js';
import { CFP_TO_DLIB68, orientCfpView } from '../../../src/morphable/cfp-markup.js';
import { FACEMESH_TO_DLIB68 } from '../../../src/morphable/facemesh-dlib68.js';
import { mulberry32, randomNormal, type Random } from '../../../src/training/random.js';

/** The model's mean face, mm, y up, +z towards the viewer. */
let meanFace: Float32Array;

beforeAll(async () => {
  meanFace = Float32Array.from((await loadBundle(defaultBundleDir())).shape.mean);
});

/** A vertex's position on the face: the mean face's points nearest the nose tip, the brow and the chin. */
function vertex(shape: Float32Array, markup: number): [number, number, number] {
  const [v] = FACEMESH_TO_DLIB68[markup];
  return [shape[3 * v], shape[3 * v + 1], shape[3 * v + 2]];
}

/** A person: the mean face with their own nose, brow and chin depth (smooth bumps, millimetres). */
function person(random: Random): Float32Array {
  const bumps = [30, 19, 8].map((markup) => ({ centre: vertex(meanFace, markup), height: 3 * randomNormal(random) }));
  return Float32Array.from(meanFace, (v, c) => {
    if (c % 3 !== 2) return v;
    const i = Math.floor(c / 3);
    return v + bumps.reduce((sum, b) => sum + b.height * Math.exp(-((meanFace[3 * i] - b.centre[0]) ** 2 + (meanFace[3 * i + 1] - b.centre[1]) ** 2) / (2 * 15 ** 2)), 0);
  });
}

/**
 * A full-profile photo's 30 CFP points of `shape`: the head pitched, seen from its right side at
 * some scale and place in the image (y down), facing left or right, each point marked within `noise` px.
 */
function profilePhoto(shape: Float32Array, random: Random, noise: number): Float64Array {
  const pitch = (8 * randomNormal(random) * Math.PI) / 180;
  const [scale, tx, ty, facing] = [2 + random(), 150 + 20 * random(), 150 + 20 * random(), random() < 0.5 ? 1 : -1];
  const points = new Float64Array(60);
  CFP_TO_DLIB68.forEach((markup, i) => {
    const sources = FACEMESH_TO_DLIB68[markup];
    const [y, z] = [1, 2].map((axis) => sources.reduce((s, v) => s + shape[3 * v + axis], 0) / sources.length);
    const [yp, zp] = [Math.cos(pitch) * y - Math.sin(pitch) * z, Math.sin(pitch) * y + Math.cos(pitch) * z];
    points[2 * i] = tx + facing * scale * zp + noise * randomNormal(random);
    points[2 * i + 1] = ty - scale * yp + noise * randomNormal(random);
  });
  return orientCfpView(points, 'profile');
}

describe('profileMeasures', () => {
  it("reads a mesh's side view as a profile photo of it reads, whichever way the photo faces and however it is pitched and scaled", () => {
    const random = mulberry32(1);
    const shape = person(random);
    const fromMesh = profileMeasures(meshSideView(shape));
    for (let k = 0; k < 4; k++) {
      const fromPhoto = profileMeasures(profilePhoto(shape, random, 0));
      fromPhoto.forEach((v, c) => expect(v).toBeCloseTo(fromMesh[c], 9));
    }
    // The nose tip stands in front of the chin–nasion line.
    expect(fromMesh[NOSE_TIP_MEASURE]).toBeGreaterThan(0.1);
  });

  it('rejects a view of another markup', () => {
    expect(() => profileMeasures(new Float64Array(20))).toThrow(RangeError);
  });
});

describe('profileDepthAgreement', () => {
  /** 60 people, four noisy profile photos each; estimates: their own face, the mean face, their deviations turned inside out. */
  function people(): ProfilePerson[] {
    const random = mulberry32(14);
    const meanMeasures = profileMeasures(meshSideView(meanFace));
    return Array.from({ length: 60 }, (_, p) => {
      const shape = person(random);
      const own = profileMeasures(meshSideView(shape));
      return {
        person: String(p),
        estimates: { own, meanFace: meanMeasures, inverted: own.map((v, c) => 2 * meanMeasures[c] - v) },
        profiles: Array.from({ length: 4 }, () => profileMeasures(profilePhoto(shape, random, 1))),
      };
    });
  }

  it("finds a person's own depth in their profiles, and neither the mean face nor its opposite", () => {
    const report = profileDepthAgreement(people(), { bootstrap: 200 });
    const { own, meanFace, inverted } = report.estimates;
    expect(own.correlation.value).toBeGreaterThan(0.7);
    expect(own.correlation.low).toBeGreaterThan(0.5);
    expect(own.noseTipCorrelation.value).toBeGreaterThan(0.8);
    expect(own.rank1.value).toBeGreaterThan(0.3);
    expect(own.sizeRatio.value).toBeGreaterThan(0.6);
    expect(own.sizeRatio.value).toBeLessThan(1.1);
    expect(meanFace.correlation.value).toBe(0);
    expect(meanFace.sizeRatio.value).toBe(0);
    expect(meanFace.rank1.value).toBeCloseTo(report.chanceRank1, 9);
    expect(inverted.correlation.value).toBeLessThan(-0.7);
    expect(inverted.rank1.value).toBeLessThan(0.05);
    // The profiles' own noise: reliable, not perfectly; the own face's error is the noise's alone.
    expect(report.profileReliability.all).toBeGreaterThan(0.5);
    expect(report.profileReliability.all).toBeLessThan(1);
    expect(own.rmse.value).toBeLessThan(meanFace.rmse.value);
  });

  it('needs three people with profiles', () => {
    const few = people().slice(0, 2);
    expect(() => profileDepthAgreement(few)).toThrow(RangeError);
    expect(() => profileDepthAgreement([...few, { ...few[0], person: 'x', profiles: [] }])).toThrow(RangeError);
  });
});
