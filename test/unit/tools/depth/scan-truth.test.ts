import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, it } from '@jest/globals';

import { FACEMESH_REGIONS } from '../../../../src/morphable/facemesh-topology.js';
import { FACEMESH_TO_DLIB68 } from '../../../../src/morphable/facemesh-dlib68.js';
import { applySimilarity } from '../../../../src/morphable/procrustes.js';
import { mulberry32 } from '../../../../src/training/random.js';
import { deviationRms } from '../../../../tools/depth/shading-compare.js';
import { bundleMeanFace } from '../../../../tools/depth/shading-synthetic.js';
import { depthDeviation, identitySpace, loadScanModel, randomScanShape, resolveSpace, scanCorrespondence, scanOnTemplate, scanTruthPeople, type ScanCorrespondence, type ScanModel } from '../../../../tools/depth/scan-truth.js';
import { choleskySolve } from '../../../../src/morphable/shading-depth.js';

const ICT = '../shared/models3d/ict-facekit';
const present = existsSync(`${ICT}/model.json`);
if (!present) console.warn(`scan-truth tests skipped: ICT-FaceKit not found at ${ICT}`);
const describeWithScans = present ? describe : describe.skip;

describeWithScans('scan-truth: ICT-FaceKit scan shapes carried onto the FaceMesh template', () => {
  let template: Float32Array;
  let scan: ScanModel;
  let correspondence: ScanCorrespondence;

  beforeAll(async () => {
    template = await bundleMeanFace();
    scan = await loadScanModel(ICT, 20);
    correspondence = scanCorrespondence(template, scan);
  });

  it('carries the face\'s inner vertices and not its outline', () => {
    const carried = correspondence.valid.reduce((s, v) => s + v, 0);
    expect(carried).toBeGreaterThan(250);
    expect(carried).toBeLessThan(468);
    const outline = FACEMESH_REGIONS.faceOval.filter((v) => correspondence.valid[v]).length;
    expect(outline).toBeLessThan(FACEMESH_REGIONS.faceOval.length);
    // Barycentric weights of a point inside its triangle.
    correspondence.valid.forEach((keep, v) => {
      if (!keep) return;
      const w = correspondence.weights.subarray(3 * v, 3 * v + 3);
      expect(Math.min(...w)).toBeGreaterThanOrEqual(0);
      expect(w[0] + w[1] + w[2]).toBeCloseTo(1, 9);
    });
  });

  it('puts the scans\' mean face on the template\'s landmarks, with a depth of its own that differs as real faces do', () => {
    const neutral = scanOnTemplate(template, correspondence, scan.model.identity.mean);
    // Each carried markup point of one FaceMesh vertex is the scan's own markup vertex (the warp's anchors), to about a millimetre in 3D (the spline smooths a little).
    const placed = applySimilarity(scan.model.identity.mean, correspondence.rotation, correspondence.scale, correspondence.translation);
    let checked = 0;
    FACEMESH_TO_DLIB68.forEach((source, m) => {
      if (m < 17 || source.length !== 1 || !correspondence.valid[source[0]]) return;
      const v = scan.model.landmarks68[m];
      const apart = Math.hypot(...[0, 1, 2].map((axis) => neutral[3 * source[0] + axis] - placed[3 * v + axis]));
      expect(apart).toBeLessThan(1.5);
      checked++;
    });
    expect(checked).toBeGreaterThan(20);
    // The scans' depth is not FaceMesh's: a bias of millimetres (BENCHMARKS §25: nose and chin several mm apart), not tens.
    const bias = deviationRms(template, depthDeviation(template, neutral, correspondence.valid), correspondence.valid);
    expect(bias).toBeGreaterThan(0.5);
    expect(bias).toBeLessThan(5);
    // The template measured against itself has no deviation; vertices not carried move only as their neighbours do.
    expect(deviationRms(template, depthDeviation(template, template, correspondence.valid), correspondence.valid)).toBeLessThan(1e-4);
    correspondence.valid.forEach((keep, v) => {
      if (!keep) for (let axis = 0; axis < 3; axis++) expect(Number.isFinite(neutral[3 * v + axis])).toBe(true);
    });
  });

  it("carries the scans' identity space onto the template: a known scan face's depth projects back onto its own weights", () => {
    const space = identitySpace(template, scan);
    const n = template.length / 3;
    const { rows, data } = space.modes;
    expect(rows).toBe(20);
    // A known face of the scan model: its mean plus modes at chosen weights, carried as any scan shape is.
    const known = Array.from({ length: rows }, (_, k) => (k % 3 === 0 ? 1.5 : k % 3 === 1 ? -1 : 0.5) * (k < 10 ? 1 : 0.3));
    const { mean, basis } = scan.model.identity;
    const face = scanOnTemplate(template, correspondence, Float32Array.from(mean, (v, c) => v + known.reduce((s, w, k) => s + w * basis.data[k * basis.cols + c], 0)));
    const neutral = scanOnTemplate(template, correspondence, mean);
    const depth = Float64Array.from({ length: n }, (_, v) => face[3 * v + 2] - neutral[3 * v + 2]);
    // Least squares of that depth on the modes recovers the weights: the carrying is linear and the modes are independent on the template.
    const normal = new Float64Array(rows * rows);
    const right = new Float64Array(rows);
    for (let k = 0; k < rows; k++) {
      for (let l = 0; l < rows; l++) for (let v = 0; v < n; v++) normal[k * rows + l] += data[k * n + v] * data[l * n + v];
      for (let v = 0; v < n; v++) right[k] += data[k * n + v] * depth[v];
    }
    const weights = choleskySolve(normal, right, rows)!;
    weights.forEach((w, k) => expect(w).toBeCloseTo(known[k], 2));
    // The offset is the scans' mean less the template, a plane less: millimetres, as the bias above.
    expect(deviationRms(template, space.offset, correspondence.valid)).toBeGreaterThan(0.5);
    expect(deviationRms(template, space.offset, correspondence.valid)).toBeLessThan(5);
    // Without the scans' mean the space is the same modes about the template.
    const own = identitySpace(template, scan, false);
    expect(Array.from(own.offset).every((v) => v === 0)).toBe(true);
    expect(Array.from(own.modes.data)).toEqual(Array.from(data));
  });

  it('draws people whose depths differ from one another by millimetres, and photographs them', () => {
    const random = mulberry32(5);
    const [p, q] = [0, 1].map(() => scanOnTemplate(template, correspondence, randomScanShape(scan, random)));
    const apart = deviationRms(template, depthDeviation(template, p, correspondence.valid).map((d, i) => d - depthDeviation(template, q, correspondence.valid)[i]), correspondence.valid);
    expect(apart).toBeGreaterThan(0.5);
    expect(apart).toBeLessThan(6);
    const { people, valid } = scanTruthPeople(template, scan, { count: 2, photos: 2, ownSkin: true }, { light: 'point', landmarkNoisePx: 0.7, pixelNoise: 0.01, albedoNoise: 0.08 }, mulberry32(6));
    expect(valid).toEqual(correspondence.valid);
    expect(people.map((person) => person.photos.length)).toEqual([2, 2]);
    expect(deviationRms(template, people[0].deviation, valid)).toBeGreaterThan(0.5);
    // The photo shows the face: its nose tip's landmark lies inside the crop, on lit skin.
    const { image, landmarks } = people[0].photos[0];
    const [x, y] = [Math.round(landmarks[3 * 4]), Math.round(landmarks[3 * 4 + 1])];
    expect(x).toBeGreaterThan(0);
    expect(x).toBeLessThan(image.width);
    expect(image.intensity(x, y)).toBeGreaterThan(0.05);
  });
});

describe("the tools' named spaces", () => {
  it("make a joint or gated depth's named space its fit's rule, with the space's prior, and leave other depths as they are", async () => {
    const space = { offset: [0.5, 0, 0], modes: { rows: 1, data: [0, 1, 0] } };
    const asked: string[] = [];
    const spaces = async (name: string) => (asked.push(name), space);
    const { rule, ...rest } = (await resolveSpace({ method: 'gated', space: 'scans', spacePrior: 1e9, photos: 4 }, spaces)) as { rule?: (changePerDepth: number) => { start: ArrayLike<number> } };
    expect(asked).toEqual(['scans']);
    expect(rest).toEqual({ method: 'gated', photos: 4 });
    // The space's depths in the change's units: twice as many where one unit of depth is two of the change.
    expect(Array.from(rule!(2).start)).toEqual([1, 0, 0]);
    const free = { method: 'joint', photos: 2 } as const;
    expect(await resolveSpace(free, spaces)).toBe(free);
    expect(asked).toHaveLength(1);
  });
});
