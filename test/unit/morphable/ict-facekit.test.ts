import { describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { ICT_CM_TO_MM, loadIctFaceKit, type IctFaceModel } from '../../../src/morphable/ict-facekit.js';
import { FACEMESH_TO_DLIB68, facemeshToDlib68 } from '../../../src/morphable/facemesh-dlib68.js';
import { fitLandmarks2d, fitLandmarks3d, modelShape } from '../../../src/morphable/landmark-fit.js';
import { applySimilarity, eulerToRotation } from '../../../src/morphable/procrustes.js';
import { mulberry32, randomNormal, type Random } from '../../../src/training/random.js';

const VERTICES = 80;
const IDENTITY_MODES = 5;
const EXPRESSIONS = 3;
const LANDMARKS = Array.from({ length: 68 }, (_, i) => i + 7);

/** A tiny random face-sized model in the ICT file format (centimetres), written to a temp dir. */
async function writeSyntheticModel(dir: string, random: Random): Promise<void> {
  const stride = VERTICES * 3;
  const neutral = Float32Array.from({ length: stride }, (_, c) => (c % 3 === 2 ? 2 : 8) * randomNormal(random));
  const modes = (count: number, size: number) => Float32Array.from({ length: count * stride }, () => size * randomNormal(random));
  await writeFile(join(dir, 'neutral.f32'), neutral);
  await writeFile(join(dir, 'identity.f32'), modes(IDENTITY_MODES, 0.3));
  await writeFile(join(dir, 'expression.f32'), modes(EXPRESSIONS, 0.2));
  const manifest = { vertices: VERTICES, identityModes: IDENTITY_MODES, expressionShapes: EXPRESSIONS, expressionNames: ['a', 'b', 'c'], landmarks68: LANDMARKS };
  await writeFile(join(dir, 'model.json'), JSON.stringify(manifest));
}

async function withSyntheticModel(test: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'ict-'));
  try {
    await writeSyntheticModel(dir, mulberry32(7));
    await test(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A posed, scaled, shifted view of the model with known coefficients. */
function posedShape(model: IctFaceModel, identity: number[], expression: number[]): Float64Array {
  const rotation = eulerToRotation({ yaw: 20, pitch: -10, roll: 5 });
  return applySimilarity(modelShape(model, identity, expression), rotation, 3.5, [200, 150, 40]);
}

describe('loadIctFaceKit', () => {
  it('keeps the chosen vertices and leading modes, in millimetres', async () => {
    await withSyntheticModel(async (dir) => {
      const all = await loadIctFaceKit(dir, { vertices: Array.from({ length: VERTICES }, (_, i) => i) });
      const model = await loadIctFaceKit(dir, { identityModes: 2 });
      expect(Array.from(model.vertices)).toEqual(LANDMARKS);
      expect(model.identity.basis.rows).toBe(2);
      expect(model.expression.basis.rows).toBe(EXPRESSIONS);
      expect(model.identity.basis.cols).toBe(68 * 3);
      // Landmark 3 is full vertex 10; identity mode 1 of it must match the full model's.
      expect(model.identity.mean[3 * 3 + 1]).toBeCloseTo(all.identity.mean[10 * 3 + 1], 5);
      expect(model.identity.basis.data[68 * 3 + 3 * 3 + 2]).toBeCloseTo(all.identity.basis.data[VERTICES * 3 + 10 * 3 + 2], 5);
      expect(model.expressionNames).toEqual(['a', 'b', 'c']);
    });
  });

  it('converts centimetres to millimetres', async () => {
    await withSyntheticModel(async (dir) => {
      const model = await loadIctFaceKit(dir);
      const bytes = await readFile(join(dir, 'neutral.f32'));
      const neutral = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
      expect(model.identity.mean[0]).toBeCloseTo(neutral[3 * LANDMARKS[0]] * ICT_CM_TO_MM, 4);
    });
  });

  it('rejects a truncated file with MODEL_UNAVAILABLE', async () => {
    await withSyntheticModel(async (dir) => {
      await writeFile(join(dir, 'identity.f32'), new Float32Array(10));
      await expect(loadIctFaceKit(dir)).rejects.toMatchObject({ code: 'MODEL_UNAVAILABLE' });
    });
  });
});

describe('fitting identity + expression to landmarks', () => {
  const identity = [1.2, -0.8, 0.5, 0, -1.5];
  const expression = [0.7, 0, 0.3];

  it('recovers known coefficients from posed 3D landmarks', async () => {
    await withSyntheticModel(async (dir) => {
      const model = await loadIctFaceKit(dir);
      const fit = fitLandmarks3d(model, posedShape(model, identity, expression), { lambda: 1e-6, iterations: 6 });
      identity.forEach((value, j) => expect(fit.identity[j]).toBeCloseTo(value, 2));
      expression.forEach((value, j) => expect(fit.expression[j]).toBeCloseTo(value, 2));
      expect(fit.pose.yaw).toBeCloseTo(20, 1);
      expect(fit.rmsd).toBeLessThan(1e-3);
    });
  });

  it('recovers them from x, y only (scaled orthographic view)', async () => {
    await withSyntheticModel(async (dir) => {
      const model = await loadIctFaceKit(dir);
      const posed = posedShape(model, identity, expression);
      const xy = Float64Array.from({ length: 68 * 2 }, (_, k) => posed[3 * Math.floor(k / 2) + (k % 2)]);
      const fit = fitLandmarks2d(model, xy, { lambda: 1e-6, iterations: 30 });
      identity.forEach((value, j) => expect(fit.identity[j]).toBeCloseTo(value, 1));
      expect(fit.pose.roll).toBeCloseTo(5, 0);
    });
  });

  it('shrinks coefficients towards zero as lambda grows', async () => {
    await withSyntheticModel(async (dir) => {
      const model = await loadIctFaceKit(dir);
      const norm = (lambda: number) => Math.hypot(...fitLandmarks3d(model, posedShape(model, identity, expression), { lambda }).identity);
      expect(norm(1e4)).toBeLessThan(0.5 * norm(1e-6));
    });
  });
});

describe('FaceMesh to 68-point markup', () => {
  it('averages the listed FaceMesh vertices for each markup point', () => {
    const points = Float32Array.from({ length: 468 * 3 }, (_, c) => c);
    const out = facemeshToDlib68(points);
    expect(FACEMESH_TO_DLIB68).toHaveLength(68);
    expect(out[36 * 3]).toBe(33 * 3); // right eye outer corner = FaceMesh 33
    expect(out[27 * 3 + 1]).toBe(((168 + 6) / 2) * 3 + 1);
  });

  const ictDir = join(process.cwd(), '..', 'shared', 'models3d', 'ict-facekit');
  const real = existsSync(join(ictDir, 'model.json')) ? it : it.skip;
  real('(needs ../shared ICT-FaceKit) loads the real model at its landmarks: eye corners about 89 mm apart, right eye at -x', async () => {
    const model = await loadIctFaceKit(ictDir, { identityModes: 4 });
    const [right, left] = [36, 45].map((i) => Array.from(model.identity.mean.subarray(3 * i, 3 * i + 3)));
    expect(right[0]).toBeLessThan(0);
    expect(Math.hypot(right[0] - left[0], right[1] - left[1], right[2] - left[2])).toBeGreaterThan(80);
    expect(Math.hypot(right[0] - left[0], right[1] - left[1], right[2] - left[2])).toBeLessThan(100);
  });
});
