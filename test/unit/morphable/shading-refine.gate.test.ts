import { beforeAll, describe, expect, it } from '@jest/globals';

import {
  downloadedDepth,
  downloadedShape,
  EARLY_FLOOR,
  EARLY_ITERATIONS,
  JOINT_EVIDENCE,
  JOINT_PHOTOS,
  jointRefinement,
  lightingEvidence,
  lightingOrder,
  lightingSpread,
  photoIntensity,
  photoLightings,
  photosByLighting,
  RESIDUAL_FLOOR,
  shadingRefinedShape,
  spreadOfLightings,
  unrefinedResidual,
  type ShadingPhoto,
} from '../../../src/morphable/shading-refine.js';
import { mulberry32 } from '../../../src/training/random.js';
import { meanFacePeople, type SyntheticPerson } from '../../../tools/depth/shading-synthetic.js';

const PHOTO = { landmarkNoisePx: 0.7, pixelNoise: 0.01, albedoNoise: 0.08 } as const;
/** A person's photos as a download reads them: the stored 8-bit pixels. */
const stored = (person: SyntheticPerson): ShadingPhoto[] => person.photos.map((p) => ({ image: photoIntensity(p.rgb), landmarks: p.landmarks }));

describe("the download's gate between the joint fit and the per-photo mean (faces rendered with known depth)", () => {
  let mean: Float32Array;
  let varied: ShadingPhoto[];
  let alike: ShadingPhoto[];

  beforeAll(async () => {
    // One person whose photos are each lit from its own direction (photometric stereo's case), one whose photos share one light.
    const shape = { count: 1, photos: JOINT_PHOTOS, rmsMm: 2.5, ownSkin: true };
    let people: SyntheticPerson[];
    ({ mean, people } = await meanFacePeople(shape, { ...PHOTO, light: 'point' }, mulberry32(61)));
    varied = stored(people[0]);
    ({ people } = await meanFacePeople({ ...shape, sameLight: true }, { ...PHOTO, light: 'point' }, mulberry32(62)));
    alike = stored(people[0]);
  });

  it('sends photos lit from different directions to the joint fit, and its depth is the joint fit’s to the bit', () => {
    expect(lightingSpread(mean, varied)).toBeGreaterThan(4 * lightingSpread(mean, alike));
    const served = downloadedDepth(mean, varied, { method: 'gated' });
    expect(served.method).toBe('joint');
    expect(served.shape).toEqual(jointRefinement(mean, varied).shape);
    expect(downloadedShape(mean, varied, { method: 'gated' })).toEqual(served.shape);
  });

  it('keeps the per-photo mean, at its own settings, for photos lit alike', () => {
    const served = downloadedDepth(mean, alike, { method: 'gated' });
    expect(served.method).toBe('mean');
    expect(served.shape).toEqual(shadingRefinedShape(mean, alike));
    // The gate's threshold decides: the same photos with no bar go to the joint fit, and varied photos under a bar out of reach
    // keep the mean (the joint fit given up after its first iterations).
    expect(downloadedDepth(mean, alike, { method: 'gated', evidence: 0 }).method).toBe('joint');
    expect(downloadedDepth(mean, varied, { method: 'gated', evidence: 100 })).toEqual({ shape: shadingRefinedShape(mean, varied), method: 'mean' });
  });

  it('decides as the joint fit\'s own evidence would, whether or not it needed the fit to know', () => {
    for (const photos of [varied, alike, varied.slice(0, 3), alike.slice(0, 5)]) {
      const lightings = photoLightings(mean, photos, 1);
      const chosen = lightingOrder(lightings).slice(0, JOINT_PHOTOS);
      const joint = jointRefinement(mean, photos);
      // The floor is below the fit's residual, so a person the bound sends to the mean is one the fit's evidence would send there too.
      expect(joint.residual).toBeGreaterThan(RESIDUAL_FLOOR * unrefinedResidual(lightings, chosen));
      // And above the early floor: a fit given up after its first iterations is one whose evidence would have stayed short.
      expect(joint.residual).toBeGreaterThan(EARLY_FLOOR * jointRefinement(mean, photos, { iterations: EARLY_ITERATIONS }).residual);
      const evidence = lightingEvidence(lightingSpread(mean, photos), joint.residual);
      const served = downloadedDepth(mean, photos, { method: 'gated' });
      expect(served).toEqual(evidence >= JOINT_EVIDENCE ? { shape: joint.shape, method: 'joint' } : { shape: shadingRefinedShape(mean, photos), method: 'mean' });
    }
    // Photos lit alike are decided by the bound alone: even the least residual the fit reaches leaves their evidence short.
    const lightings = photoLightings(mean, alike, 1);
    expect(lightingEvidence(spreadOfLightings(lightings), RESIDUAL_FLOOR * unrefinedResidual(lightings, lightingOrder(lightings)))).toBeLessThan(JOINT_EVIDENCE);
  });

  it('reads the spread, the lights\' order and the unrefined residual from one reading of the lights', () => {
    const lightings = photoLightings(mean, varied, 1);
    expect(spreadOfLightings(lightings)).toBe(lightingSpread(mean, varied));
    expect(lightingOrder(lightings)).toEqual(photosByLighting(mean, varied));
    // The unrefined residual is the joint fit's measure before it moves anything: positive, and above what the fit leaves.
    const before = unrefinedResidual(lightings, lightingOrder(lightings));
    expect(before).toBeGreaterThan(jointRefinement(mean, varied).residual);
    expect(unrefinedResidual(lightings, [])).toBe(0);
  });

  it("with a rule for the change, decides as without it and serves the joint fit under that rule, in the rule's model depth", () => {
    // A rule that holds the change where it starts: a small bump of model depth (z, mm), made in the change's units for each fit.
    const offset = Float64Array.from({ length: mean.length / 3 }, (_, v) => 0.5 * Math.exp(-((mean[3 * v] / 40) ** 2 + (mean[3 * v + 1] / 40) ** 2) * 4));
    const rule = (changePerDepth: number) => ({ start: offset.map((v) => v * changePerDepth), step: () => true });
    const served = downloadedDepth(mean, varied, { method: 'gated', rule });
    expect(served.method).toBe('joint');
    expect(served.shape).toEqual(jointRefinement(mean, varied, { rule }).shape);
    offset.forEach((v, i) => expect(served.shape[3 * i + 2] - mean[3 * i + 2]).toBeCloseTo(v, 4));
    expect(downloadedDepth(mean, alike, { method: 'gated', rule })).toEqual({ shape: shadingRefinedShape(mean, alike), method: 'mean' });
  });

  it('reads no evidence from one photo or from a fit that saw nothing', () => {
    expect(lightingSpread(mean, varied.slice(0, 1))).toBe(0);
    expect(downloadedDepth(mean, varied.slice(0, 1), { method: 'gated' }).method).toBe('mean');
    expect(lightingEvidence(0.5, 0)).toBe(0);
    expect(lightingEvidence(0.5, 0.1)).toBeCloseTo(5, 12);
    expect(downloadedDepth(mean, [], { method: 'gated' })).toEqual({ shape: mean, method: 'mean' });
  });
});
