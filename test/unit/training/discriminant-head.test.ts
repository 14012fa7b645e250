import { describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trainDiscriminantHead } from '../../../src/training/discriminant-head.js';
import { applyHeadBatch } from '../../../src/training/head.js';
import type { Matrix } from '../../../src/core/linear-algebra.js';
import { mulberry32, randomNormal } from '../../../src/training/random.js';
import { loadModel } from '../../../src/inference/onnx-runtime.js';
import { headToOnnx } from '../../../tools/train/export-head.js';

/**
 * People in a 12-d feature space: each person a random centre, photos scattered around it; the
 * label (4 values) is a linear function of the first two centre coordinates only, so the other
 * discriminant directions say who someone is but not their label.
 */
function people(count: number, photos: number, seed: number): { x: Matrix<Float32Array>; y: Matrix<Float32Array>; groups: string[] } {
  const random = mulberry32(seed);
  const d = 12, k = 4;
  const rows = count * photos;
  const x = { rows, cols: d, data: new Float32Array(rows * d) };
  const y = { rows, cols: k, data: new Float32Array(rows * k) };
  const groups: string[] = [];
  for (let p = 0; p < count; p++) {
    // The label's two directions separate people most; the others separate them too.
    const centre = Array.from({ length: d }, (_, c) => (c < 2 ? 2 : 1) * randomNormal(random));
    const label = [centre[0] + centre[1], centre[0] - centre[1], 0.5 * centre[0], 0];
    for (let i = 0; i < photos; i++) {
      const row = p * photos + i;
      // An offset keeps the unit-length rows informative; a random length checks that it is ignored.
      const length = 1 + 3 * Math.abs(randomNormal(random));
      for (let c = 0; c < d; c++) x.data[row * d + c] = length * (10 + centre[c] + 0.3 * randomNormal(random));
      y.data.set(label, row * k);
      groups.push(`p${p}`);
    }
  }
  return { x, y, groups };
}

function rowOf(m: Matrix, r: number): Float32Array {
  return Float32Array.from(m.data.subarray(r * m.cols, (r + 1) * m.cols));
}

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) { dot += a[i] * b[i]; na += a[i] ** 2; nb += b[i] ** 2; }
  return dot / Math.sqrt(na * nb);
}

/** Share of probes (each person's second photo) whose most similar first photo is their own. */
function rankOne(out: Matrix, photos: number): number {
  const count = out.rows / photos;
  let hits = 0;
  for (let p = 0; p < count; p++) {
    const probe = rowOf(out, p * photos + 1);
    let best = -2, who = -1;
    for (let q = 0; q < count; q++) {
      const score = cosine(probe, rowOf(out, q * photos));
      if (score > best) [best, who] = [score, q];
    }
    if (who === p) hits++;
  }
  return hits / count;
}

describe('the discriminant regression head', () => {
  const train = people(300, 4, 1);
  const test = people(100, 2, 2);

  it('predicts the labels of people it never saw', () => {
    const { head } = trainDiscriminantHead(train.x, train.groups, train.y, { components: 4, withinShrinkage: 0.05, ridge: 1, floor: 0 });
    const predicted = applyHeadBatch(head, test.x);
    let residual = 0, total = 0;
    for (let i = 0; i < test.y.data.length; i++) {
      residual += (predicted.data[i] - test.y.data[i]) ** 2;
      total += test.y.data[i] ** 2;
    }
    expect(1 - residual / total).toBeGreaterThan(0.8);
  });

  it('keeps identity the labels do not carry when the singular values are floored', () => {
    const plain = trainDiscriminantHead(train.x, train.groups, train.y, { components: 4, withinShrinkage: 0.05, ridge: 1, floor: 0 });
    const floored = trainDiscriminantHead(train.x, train.groups, train.y, { components: 4, withinShrinkage: 0.05, ridge: 1, floor: 0.5 });
    const plainRank = rankOne(applyHeadBatch(plain.head, test.x), 2);
    const flooredRank = rankOne(applyHeadBatch(floored.head, test.x), 2);
    expect(flooredRank).toBeGreaterThan(plainRank + 0.1);
    expect(floored.report.singularValues[0]).toBeGreaterThan(floored.report.singularValues[3]);
  });

  it('refuses more components than outputs', () => {
    expect(() => trainDiscriminantHead(train.x, train.groups, train.y, { components: 5, withinShrinkage: 0, ridge: 1, floor: 0 })).toThrow(RangeError);
  });

  it('exports to ONNX with the unit-length input step, matching the TypeScript head', async () => {
    const { head } = trainDiscriminantHead(train.x, train.groups, train.y, { components: 4, withinShrinkage: 0.05, ridge: 1, floor: 0.5 });
    const dir = await mkdtemp(join(tmpdir(), 'face3d-head-'));
    try {
      const file = join(dir, 'head.onnx');
      await writeFile(file, headToOnnx(head, 'test head'));
      const model = await loadModel(file, { device: 'cpu', threads: 1 });
      const { coefficients } = await model.run({ features: { data: test.x.data, dims: [test.x.rows, test.x.cols] } });
      const expected = applyHeadBatch(head, test.x).data;
      let worst = 0;
      for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(coefficients.data[i] - expected[i]));
      expect(worst).toBeLessThan(1e-4);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
