import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { BUNDLE_FORMAT_VERSION, loadBundle, synthesise, writeLinearModel, writeManifest, type Bundle, type LinearModel } from '../../../src/morphable/bundle.js';
import { fitShape, fitTexture, poseAndExpressionFitter, SHAPE_FIT_LAMBDA } from '../../../src/morphable/fit.js';
import { findPackageRoot } from '../../../src/core/config.js';
import { reconstructMesh } from '../../../src/morphable/reconstruct.js';
import { alignSimilarity, eulerToRotation, rotationToEuler } from '../../../src/morphable/procrustes.js';
import { imageToModelSpace } from '../../../src/mesh/mesh.js';
import { FACEMESH_TRIANGLES, FACEMESH_UVS, FACEMESH_VERTEX_COUNT } from '../../../src/morphable/facemesh-topology.js';
import { mulberry32, randomNormal } from '../../../src/training/random.js';

const D = FACEMESH_VERTEX_COUNT * 3;
const TEXTURE_SIZE = 8;

/** k orthonormal rows of length d (Gram-Schmidt on seeded Gaussian rows). */
function orthonormalRows(k: number, d: number, seed: number): Float32Array {
  const random = mulberry32(seed);
  const rows: Float64Array[] = [];
  while (rows.length < k) {
    const v = Float64Array.from({ length: d }, () => randomNormal(random));
    for (const r of rows) {
      const dot = r.reduce((s, x, i) => s + x * v[i], 0);
      for (let i = 0; i < d; i++) v[i] -= dot * r[i];
    }
    const norm = Math.hypot(...v);
    rows.push(v.map((x) => x / norm));
  }
  const out = new Float32Array(k * d);
  rows.forEach((r, i) => out.set(r, i * d));
  return out;
}

/** A face-sized mean shape: the FaceMesh UV layout, 100 mm across, bulging towards the viewer. */
function meanShape(): Float32Array {
  const out = new Float32Array(D);
  for (let i = 0; i < FACEMESH_VERTEX_COUNT; i++) {
    const x = (FACEMESH_UVS[i * 2] - 0.5) * 100;
    const y = (0.5 - FACEMESH_UVS[i * 2 + 1]) * 120;
    out.set([x, y, 40 - (x * x + y * y) / 150], i * 3);
  }
  return out;
}

function linearModel(mean: Float32Array, k: number, sigma: number[], seed: number): LinearModel {
  return { mean, basis: { rows: k, cols: mean.length, data: orthonormalRows(k, mean.length, seed) }, sigma: Float32Array.from(sigma) };
}

let bundle: Bundle;

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'face3d-bundle-'));
  const mean = meanShape();
  const textureDims = TEXTURE_SIZE * TEXTURE_SIZE * 3;
  await writeManifest(dir, {
    format: BUNDLE_FORMAT_VERSION,
    id: 'synthetic',
    description: 'test bundle',
    vertexCount: FACEMESH_VERTEX_COUNT,
    topology: 'mediapipe-facemesh-468',
    units: 'mm',
    shape: await writeLinearModel(dir, 'shape', linearModel(mean, 4, [20, 12, 8, 5], 1)),
    expression: await writeLinearModel(dir, 'expression', linearModel(mean, 2, [10, 6], 2)),
    texture: { ...(await writeLinearModel(dir, 'texture', linearModel(new Float32Array(textureDims).fill(128), 3, [300, 200, 100], 3))), size: TEXTURE_SIZE },
    preprocessing: {},
  });
  bundle = await loadBundle(dir);
});

/** The model's face placed in a photo: rotated, scaled to pixels, y down, z away from the camera. */
function photoLandmarks(shape: Float32Array, pose: { yaw: number; pitch: number; roll: number }, scale: number): Float32Array {
  const r = eulerToRotation(pose);
  const out = new Float32Array(shape.length);
  for (let i = 0; i < shape.length; i += 3) {
    const [x, y, z] = [shape[i], shape[i + 1], shape[i + 2]];
    const rx = r[0] * x + r[1] * y + r[2] * z;
    const ry = r[3] * x + r[4] * y + r[5] * z;
    const rz = r[6] * x + r[7] * y + r[8] * z;
    out.set([200 + scale * rx, 150 - scale * ry, -scale * rz], i);
  }
  return out;
}

describe('morphable model bundle', () => {
  it('loads what was written and synthesises mean + basis · (sigma ⊙ coefficients)', () => {
    expect(bundle.manifest.id).toBe('synthetic');
    const shape = synthesise(bundle.shape, [1, 0, 0, 0]);
    const basis0 = bundle.shape.basis.data.subarray(0, D);
    for (const i of [0, 100, 1403]) expect(shape[i]).toBeCloseTo(bundle.shape.mean[i] + 20 * basis0[i], 4);
  });

  it('reconstructs a mesh on the FaceMesh topology with colours from the texture', () => {
    const mesh = reconstructMesh(bundle, { shape: [0.5, -1, 0, 0], texture: [0, 0, 0], expression: [1, 0] });
    expect(mesh.positions).toHaveLength(D);
    expect(mesh.indices).toBe(FACEMESH_TRIANGLES);
    expect(mesh.texture?.width).toBe(TEXTURE_SIZE);
    // A zero texture vector is the mean texture, uniformly 128.
    expect(new Set(mesh.colors)).toEqual(new Set([128]));
    const expected = synthesise(bundle.shape, [0.5, -1, 0, 0]);
    const withExpression = synthesise(bundle.expression, [1, 0], expected.slice());
    for (const c of [0, 1, 2, 700, 1403]) expect(mesh.positions[c]).toBeCloseTo(withExpression[c], 3);
  });

  it('fits pose, identity and expression back from posed landmarks', () => {
    const truth = [0.8, -0.5, 0.3, 0];
    const expression = [0.6, 0];
    const shape = synthesise(bundle.shape, truth);
    const offsets = synthesise(bundle.expression, expression, new Float32Array(D));
    for (let c = 0; c < D; c++) shape[c] += offsets[c];
    const pose = { yaw: 20, pitch: -10, roll: 5 };
    const fit = fitShape(bundle, photoLandmarks(shape, pose, 2.5), 1e-6);
    // The pose is read against the mean face, so identity and expression tilt it slightly.
    expect(Math.abs(fit.pose.yaw - pose.yaw)).toBeLessThan(0.5);
    expect(Math.abs(fit.pose.pitch - pose.pitch)).toBeLessThan(0.5);
    expect(Math.abs(fit.pose.roll - pose.roll)).toBeLessThan(0.5);
    // Similarity alignment absorbs a little of the identity deformation into scale and rotation.
    truth.forEach((t, j) => expect(fit.identity[j]).toBeCloseTo(t, 1));
    expect(fit.expression[0]).toBeCloseTo(0.6, 2);
  });

  it("gives fitShape's pose and expression (within 1e-6) without the identity, on the synthetic and the shipped bundle", async () => {
    const shipped = await loadBundle(join(findPackageRoot(), 'models/lfw-facemesh-v2'));
    const random = mulberry32(16);
    for (const model of [bundle, shipped]) {
      for (let trial = 0; trial < 8; trial++) {
        const shape = synthesise(model.shape, Array.from({ length: model.shape.basis.rows }, () => randomNormal(random)));
        const offsets = synthesise(model.expression, Array.from({ length: model.expression.basis.rows }, () => randomNormal(random)), new Float32Array(D));
        // Landmark noise of a millimetre or so, as FaceMesh's.
        for (let c = 0; c < D; c++) shape[c] += offsets[c] + randomNormal(random);
        const pose = { yaw: 60 * (random() - 0.5), pitch: 40 * (random() - 0.5), roll: 30 * (random() - 0.5) };
        const points = photoLandmarks(shape, pose, 1 + 3 * random());
        for (const lambda of [SHAPE_FIT_LAMBDA, 1e-3, 100]) {
          const full = fitShape(model, points, lambda);
          const fast = poseAndExpressionFitter(model, lambda)(points);
          expect(fast.pose).toEqual(full.pose);
          // The pose as the alignment from the mean face to the photo reads it.
          const reverse = rotationToEuler(alignSimilarity(Float64Array.from(model.expression.mean), imageToModelSpace(points)).rotation);
          for (const angle of ['yaw', 'pitch', 'roll'] as const) expect(Math.abs(fast.pose[angle] - reverse[angle])).toBeLessThan(1e-6);
          expect(fast.scale).toBe(full.scale);
          expect(fast.aligned).toEqual(full.aligned);
          expect(fast.expression).toHaveLength(full.expression.length);
          fast.expression.forEach((value, j) => expect(Math.abs(value - full.expression[j])).toBeLessThan(1e-6));
        }
      }
    }
  });

  it('leaves the identity at full scale and lets the ridge hold the expression back', () => {
    const shape = synthesise(bundle.shape, [1, 1, 1, 1]);
    const offsets = synthesise(bundle.expression, [1, 0], new Float32Array(D));
    for (let c = 0; c < D; c++) shape[c] += offsets[c];
    const loose = fitShape(bundle, photoLandmarks(shape, { yaw: 0, pitch: 0, roll: 0 }, 1), 1e-6);
    const tight = fitShape(bundle, photoLandmarks(shape, { yaw: 0, pitch: 0, roll: 0 }, 1), 1e9);
    expect(loose.expression[0]).toBeCloseTo(1, 1);
    expect(Math.abs(tight.expression[0])).toBeLessThan(0.01);
    // The identity is a projection, never shrunk by the ridge.
    expect(Math.hypot(...loose.identity)).toBeGreaterThan(1.5);
  });

  it('fits texture coefficients from the visible texels only', () => {
    const truth = [0.5, -1, 0.25];
    const texture = synthesise(bundle.texture, truth);
    const visibility = new Float32Array(texture.length).fill(1);
    for (let c = 0; c < texture.length / 2; c++) {
      visibility[c] = 0;
      texture[c] = 0; // hidden texels hold garbage and must not matter
    }
    const beta = fitTexture(bundle.texture, texture, visibility, 1e-6);
    truth.forEach((t, j) => expect(beta[j]).toBeCloseTo(t, 3));
  });
});
