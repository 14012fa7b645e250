import { beforeAll, describe, expect, it } from '@jest/globals';

import type { DepthMap } from '../../../src/dataset/depth-dataset.js';
import { depthFidelity, removePlane, sampleDepth, type DepthPhoto } from '../../../src/eval/depth-fidelity.js';
import { defaultBundleDir } from '../../../src/inference/face-encoder.js';
import { loadBundle, synthesise, type Bundle } from '../../../src/morphable/bundle.js';
import { FACEMESH_TRIANGLES } from '../../../src/morphable/facemesh-topology.js';
import { eulerToRotation } from '../../../src/morphable/procrustes.js';
import { rasterizeTriangle } from '../../../src/mesh/raster.js';
import { mulberry32, randomNormal } from '../../../src/training/random.js';

const WIDTH = 168;
const HEIGHT = 192;
const PX_PER_MM = 1.45;

interface SyntheticPerson {
  readonly name: string;
  readonly shape: Float32Array;
  readonly depth: DepthMap;
  readonly landmarks: Float32Array;
}

/**
 * A person of our own 3DMM photographed as Yale B is: frontal, pitched a little, orthographic,
 * in one shared crop frame. Their real depth is the mesh rendered with a depth buffer (NaN where the
 * mesh is not), their landmarks the mesh's vertices in that view.
 */
function photograph(name: string, shape: Float32Array, pitch: number): SyntheticPerson {
  const rotation = eulerToRotation({ yaw: 0, pitch, roll: 0 });
  const n = shape.length / 3;
  const landmarks = new Float32Array(3 * n);
  const z = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const [x, y, w] = [0, 1, 2].map((r) => rotation[3 * r] * shape[3 * i] + rotation[3 * r + 1] * shape[3 * i + 1] + rotation[3 * r + 2] * shape[3 * i + 2]);
    landmarks[3 * i] = WIDTH / 2 + PX_PER_MM * x;
    landmarks[3 * i + 1] = HEIGHT / 2 - PX_PER_MM * y;
    z[i] = PX_PER_MM * w;
    landmarks[3 * i + 2] = -z[i];
  }
  const depth = new Float32Array(WIDTH * HEIGHT).fill(NaN);
  for (let t = 0; t < FACEMESH_TRIANGLES.length; t += 3) {
    const [a, b, c] = [FACEMESH_TRIANGLES[t], FACEMESH_TRIANGLES[t + 1], FACEMESH_TRIANGLES[t + 2]];
    rasterizeTriangle(landmarks[3 * a], landmarks[3 * a + 1], landmarks[3 * b], landmarks[3 * b + 1], landmarks[3 * c], landmarks[3 * c + 1], WIDTH, HEIGHT, (px, py, wa, wb, wc) => {
      const d = wa * z[a] + wb * z[b] + wc * z[c];
      const at = py * WIDTH + px;
      if (!(depth[at] >= d)) depth[at] = d;
    });
  }
  return { name, shape, depth: { width: WIDTH, height: HEIGHT, depth }, landmarks };
}

let bundle: Bundle;
let people: SyntheticPerson[];

beforeAll(async () => {
  bundle = await loadBundle(defaultBundleDir());
  const random = mulberry32(7);
  people = Array.from({ length: 8 }, (_, p) => {
    // The bundle's identity modes barely move depth (issue 14); at 4σ its people differ in depth by
    // about 2 px, as real faces do by 5, well above what sampling a rendered depth costs (0.2 px).
    const alpha = Float32Array.from({ length: bundle.shape.basis.rows }, () => 4 * randomNormal(random));
    return photograph(`person${p}`, synthesise(bundle.shape, alpha), 3 * randomNormal(random));
  });
});

const truths = (): Map<string, DepthMap> => new Map(people.map((p) => [p.name, p.depth]));

/** Two photos per person with the given estimate each (the second with its landmarks jittered by 0.3 px). */
function photosWith(estimate: (person: SyntheticPerson) => Float32Array): DepthPhoto[] {
  const random = mulberry32(3);
  return people.flatMap((person) => [
    { person: person.name, landmarks: person.landmarks, mesh: estimate(person) },
    { person: person.name, landmarks: person.landmarks.map((v) => v + 0.3 * randomNormal(random)), mesh: estimate(person) },
  ]);
}

/** μ + k (shape − μ): a person's own deviations from the mean face at k times their size. */
function shrunk(shape: Float32Array, k: number): Float32Array {
  return shape.map((v, c) => bundle.shape.mean[c] + k * (v - bundle.shape.mean[c]));
}

describe('depthFidelity on faces rendered from our own 3DMM', () => {
  it('scores the true shape as faithful: correlation ≈ 1, RMSE ≈ 0, full size, every person recognised', () => {
    const report = depthFidelity(photosWith((p) => p.shape), truths(), { bootstrap: 50 });
    expect(report.mesh.correlation.value).toBeGreaterThan(0.95);
    expect(report.mesh.r2.value).toBeGreaterThan(0.85);
    expect(report.mesh.sizeRatio.value).toBeGreaterThan(0.9);
    expect(report.mesh.sizeRatio.value).toBeLessThan(1.15);
    expect(report.mesh.rmsePx.value).toBeLessThan(0.3);
    expect(report.mesh.rmseMm.value).toBeCloseTo(report.mesh.rmsePx.value / PX_PER_MM, 1);
    expect(report.pxPerMm).toBeCloseTo(PX_PER_MM, 2);
    expect(report.mesh.rank1.value).toBe(1);
    // The baselines know only the average face, so they are worse than the truth and no better than each other's kind.
    expect(report.meanOfOthersMeshes.rmsePx.value).toBeGreaterThan(5 * report.mesh.rmsePx.value);
    expect(report.mesh.rmsePx.low).toBeLessThanOrEqual(report.mesh.rmsePx.value);
    expect(report.mesh.rmsePx.high).toBeGreaterThanOrEqual(report.mesh.rmsePx.value);
  });

  it('scores the mean face as knowing nothing of the person: correlation 0, size 0, RMSE of the mean-mesh baseline', () => {
    const report = depthFidelity(photosWith(() => Float32Array.from(bundle.shape.mean)), truths(), { bootstrap: 50 });
    expect(report.mesh.correlation.value).toBeCloseTo(0, 6);
    expect(report.mesh.sizeRatio.value).toBeCloseTo(0, 6);
    expect(report.mesh.r2.value).toBeCloseTo(0, 6);
    expect(report.mesh.rmsePx.value).toBeCloseTo(report.meanOfOthersMeshes.rmsePx.value, 6);
    expect(report.mesh.rank1.value).toBeCloseTo(report.chanceRank1, 6);
    expect(report.meanOfOthersRealFaces.rank1.value).toBeCloseTo(report.chanceRank1, 6);
  });

  it('tells a right but too small deviation by its size ratio, not its correlation', () => {
    const report = depthFidelity(photosWith((p) => shrunk(p.shape, 0.25)), truths(), { bootstrap: 50 });
    expect(report.mesh.correlation.value).toBeGreaterThan(0.95);
    expect(report.mesh.sizeRatio.value).toBeGreaterThan(0.2);
    expect(report.mesh.sizeRatio.value).toBeLessThan(0.3);
    // Explains 1 − 0.75² of the deviations' energy.
    expect(report.mesh.r2.value).toBeGreaterThan(0.35);
    expect(report.mesh.r2.value).toBeLessThan(0.5);
  });

  it('scores another person\'s true shape at chance, below its own', () => {
    const shifted = new Map(people.map((p, i) => [p.name, people[(i + 1) % people.length].shape]));
    const report = depthFidelity(photosWith((p) => shifted.get(p.name)!), truths(), { bootstrap: 50 });
    expect(report.mesh.rank1.value).toBe(0);
    expect(report.mesh.correlation.value).toBeLessThan(0.2);
  });

  it('refuses fewer than three people or a person without real depth', () => {
    const two = photosWith((p) => p.shape).filter((p) => p.person === 'person0' || p.person === 'person1');
    expect(() => depthFidelity(two, truths())).toThrow(RangeError);
    const partial = new Map([...truths()].slice(1));
    expect(() => depthFidelity(photosWith((p) => p.shape), partial)).toThrow(/no real depth for person0/);
  });
});

describe('depth sampling and plane removal', () => {
  it('samples bilinearly between known pixels, and gives NaN next to an unknown one or across a step', () => {
    const map = { width: 4, height: 2, depth: Float32Array.of(0, 1, NaN, 0, 1, 2, 3, 9) };
    expect(sampleDepth(map, 1, 1)).toBeCloseTo(1, 6);
    expect(sampleDepth(map, 2, 1)).toBeNaN();
    expect(sampleDepth(map, 0.2, 1)).toBeNaN();
    expect(sampleDepth({ ...map, depth: Float32Array.of(0, 1, 5, 0, 1, 2, 3, 9) }, 3, 1)).toBeNaN();
  });

  it('takes a tilted plane out entirely and leaves a bump', () => {
    const landmarks = Float32Array.from({ length: 30 }, (_, k) => (k % 3 === 0 ? k : k % 3 === 1 ? (k * 7) % 11 : 0));
    const valid = new Uint8Array(10).fill(1);
    const plane = Array.from({ length: 10 }, (_, i) => 3 + 0.5 * landmarks[3 * i] - 2 * landmarks[3 * i + 1]);
    for (const v of removePlane(plane, landmarks, valid)) expect(Math.abs(v)).toBeLessThan(1e-9);
    const bump = plane.map((v, i) => v + (i === 4 ? 5 : 0));
    expect(Math.max(...removePlane(bump, landmarks, valid))).toBeGreaterThan(3);
  });
});
