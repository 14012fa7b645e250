import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { removePlane } from '../../../src/eval/depth-fidelity.js';
import { depthDifferences, depthFields, markedPoints, spreadDepth } from '../../../src/morphable/depth-correction.js';
import { BUNDLE_FORMAT_VERSION, loadBundle, neutralShape, synthesise, writeLinearModel, writeManifest, type BundleManifest, type LinearModel } from '../../../src/morphable/bundle.js';
import { reconstructMesh } from '../../../src/morphable/reconstruct.js';
import { defaultBundleDir } from '../../../src/inference/face-encoder.js';
import { FACEMESH_LANDMARKS, FACEMESH_UVS, FACEMESH_VERTEX_COUNT } from '../../../src/morphable/facemesh-topology.js';
import { alignSimilarity, eulerToRotation } from '../../../src/morphable/procrustes.js';

const D = FACEMESH_VERTEX_COUNT * 3;

/** A rounded face on FaceMesh's UV layout, mm: the mean shape of these tests. */
function roundFace(): Float32Array {
  return Float32Array.from({ length: D }, (_, c) => {
    const i = Math.floor(c / 3);
    const [x, y] = [(FACEMESH_UVS[2 * i] - 0.5) * 110, (0.5 - FACEMESH_UVS[2 * i + 1]) * 130];
    return c % 3 === 0 ? x : c % 3 === 1 ? y : 45 - (x * x + y * y) / 140;
  });
}

const SOURCES = [[FACEMESH_LANDMARKS.noseTip], [FACEMESH_LANDMARKS.rightEyeOuterCorner], [FACEMESH_LANDMARKS.rightEyeInnerCorner], [152], [61], [70], [234]];

describe('depth correction from marked points', () => {
  const mean = roundFace();

  it('measures depth against the model in the model\'s millimetres, whatever the frame and scale, with the scale set by x and y', () => {
    const model = markedPoints(mean, SOURCES);
    // The measured face is 30% deeper than the model, then seen in another frame at another scale.
    const centreZ = model.filter((_, c) => c % 3 === 2).reduce((a, b) => a + b, 0) / SOURCES.length;
    const deeper = model.map((v, c) => (c % 3 === 2 ? centreZ + 1.3 * (v - centreZ) : v));
    const r = eulerToRotation({ yaw: 20, pitch: -10, roll: 5 });
    const moved = Float64Array.from(deeper, (_, c) => {
      const i = Math.floor(c / 3);
      const row = 3 * (c % 3);
      return 0.02 * (r[row] * deeper[3 * i] + r[row + 1] * deeper[3 * i + 1] + r[row + 2] * deeper[3 * i + 2]) + 7;
    });
    const differences = depthDifferences(moved, model);
    // Up to a plane in x, y (a small turn of the head is one: planes are pose, and fidelity3d
    // removes them), each difference is 0.3 × the point's depth from the centre.
    const excess = Array.from(differences, (d, i) => d - 0.3 * (model[3 * i + 2] - centreZ));
    const all = new Uint8Array(SOURCES.length).fill(1);
    const residual = removePlane(excess, model, all);
    for (const r of residual) expect(Math.abs(r)).toBeLessThan(0.3);
    // A similarity alone lets the deeper face's depth set its scale, and misses by more.
    const similarityOnly = alignSimilarity(moved, model).aligned;
    const plainExcess = Array.from(differences, (_, i) => similarityOnly[3 * i + 2] - model[3 * i + 2] - 0.3 * (model[3 * i + 2] - centreZ));
    expect(Math.max(...removePlane(plainExcess, model, all).map(Math.abs))).toBeGreaterThan(Math.max(...residual.map(Math.abs)));
  });

  it('spreads a point\'s difference to the point, its mirror image and smoothly between, in depth only', () => {
    const fields = depthFields(mean, SOURCES, 0);
    expect(fields.rows).toBe(SOURCES.length);
    const noseField = spreadDepth(fields, [2, 0, 0, 0, 0, 0, 0]);
    expect(noseField[3 * FACEMESH_LANDMARKS.noseTip + 2]).toBeCloseTo(2, 5);
    expect(noseField[3 * FACEMESH_LANDMARKS.rightEyeInnerCorner + 2]).toBeCloseTo(0, 5);
    for (let c = 0; c < D; c++) if (c % 3 !== 2) expect(noseField[c]).toBe(0);
    const eyeField = spreadDepth(fields, [0, -3, 0, 0, 0, 0, 0]);
    expect(eyeField[3 * FACEMESH_LANDMARKS.rightEyeOuterCorner + 2]).toBeCloseTo(-3, 5);
    expect(eyeField[3 * FACEMESH_LANDMARKS.leftEyeOuterCorner + 2]).toBeCloseTo(-3, 5);
  });
});

describe('a bundle with a depth offset', () => {
  const model = (mean: Float32Array, rows: number): LinearModel => ({
    mean,
    basis: { rows, cols: mean.length, data: Float32Array.from({ length: rows * mean.length }, (_, i) => (i % mean.length === Math.floor(i / mean.length) * 3 ? 1 : 0)) },
    sigma: new Float32Array(rows).fill(2),
  });

  async function writeBundle(offsetDims: number): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'face3d-depth-'));
    const mean = roundFace();
    const manifest: BundleManifest = {
      format: BUNDLE_FORMAT_VERSION,
      id: 'depth-test',
      description: 'test bundle with a depth offset',
      vertexCount: FACEMESH_VERTEX_COUNT,
      topology: 'mediapipe-facemesh-468',
      units: 'mm',
      shape: await writeLinearModel(dir, 'shape', model(mean, 2)),
      expression: await writeLinearModel(dir, 'expression', model(mean, 1)),
      texture: { ...(await writeLinearModel(dir, 'texture', model(new Float32Array(4 * 4 * 3).fill(128), 1))), size: 4 },
      preprocessing: {},
      depth: { offset: 'depth-offset.f32', dims: offsetDims, source: 'test' },
    };
    await writeFile(join(dir, 'depth-offset.f32'), Float32Array.from({ length: D }, (_, c) => (c % 3 === 2 ? 1.5 + (c === 2 ? 1 : 0) : 0)));
    await writeManifest(dir, manifest);
    return dir;
  }

  it('adds the offset to every neutral mesh, with or without an expression, and to nothing else', async () => {
    const bundle = await loadBundle(await writeBundle(D));
    const shape = [1, 2];
    const plain = synthesise(bundle.shape, shape);
    const neutral = neutralShape(bundle, shape);
    expect(neutral[2] - plain[2]).toBeCloseTo(2.5, 5);
    expect(neutral[5] - plain[5]).toBeCloseTo(1.5, 5);
    expect(neutral[0]).toBeCloseTo(plain[0], 5);
    const withExpression = reconstructMesh(bundle, { shape, texture: [0], expression: [1] });
    expect(withExpression.positions[5]).toBeCloseTo(neutral[5], 4);
    // The identity model itself is untouched: fitting and the identity vector never see the offset.
    expect(bundle.shape.mean[2]).toBeCloseTo(roundFace()[2], 5);
  });

  it('is refused when the offset does not cover every vertex', async () => {
    await expect(loadBundle(await writeBundle(D - 3))).rejects.toMatchObject({ code: 'MODEL_UNAVAILABLE' });
  });
});

describe('the committed bundle', () => {
  it('carries the depth offset from CFP (train:depth): the nose tip further back, the chin forward, x and y untouched', async () => {
    const bundle = await loadBundle(defaultBundleDir());
    const offset = bundle.depthOffset;
    expect(offset).toBeDefined();
    const z = (v: number) => offset![3 * v + 2];
    expect(z(FACEMESH_LANDMARKS.noseTip)).toBeLessThan(-1);
    expect(z(FACEMESH_LANDMARKS.chin)).toBeGreaterThan(1);
    for (let c = 0; c < D; c++) if (c % 3 !== 2) expect(offset![c]).toBe(0);
  });
});
