import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { closeAllModels, loadModel, type RuntimeOptions, type TensorData } from '../../../src/inference/onnx-runtime.js';
import { denseReluModel, scratchDir, writeModel } from '../../helpers/onnx-model.js';

const CPU: RuntimeOptions = { device: 'cpu', threads: 1 };
const WEIGHTS = [
  [1, -2],
  [0.5, 1],
  [-1, 3],
];
const BIAS = [0.25, -1];

/** The model's maths in plain JS: relu(x · W + b) per row. */
function expected(rows: readonly (readonly number[])[]): number[] {
  return rows.flatMap((row) =>
    BIAS.map((b, j) => Math.max(0, row.reduce((sum, x, i) => sum + x * WEIGHTS[i][j], b))),
  );
}

function rowsTensor(rows: readonly (readonly number[])[]): TensorData {
  return { data: Float32Array.from(rows.flat()), dims: [rows.length, 3] };
}

let dir: Awaited<ReturnType<typeof scratchDir>>;
let modelPath: string;

beforeAll(async () => {
  dir = await scratchDir();
  modelPath = await writeModel(dir.path, 'dense.onnx', denseReluModel({ inputShape: ['N', 3], weights: WEIGHTS, bias: BIAS }));
});
afterEach(() => closeAllModels());
afterAll(() => dir.remove());

// First in the file: the provider choice and its log line happen once per process.
describe('device auto', () => {
  it('logs exactly one line naming the provider, for any number of models', async () => {
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const second = await writeModel(dir.path, 'second.onnx', denseReluModel({ inputShape: [1, 3], weights: WEIGHTS, bias: BIAS }));
      const auto: RuntimeOptions = { device: 'auto', threads: 0 };
      const models = await Promise.all([loadModel(modelPath, auto), loadModel(second, auto), loadModel(modelPath, auto)]);

      expect(stderr).toHaveBeenCalledTimes(1);
      const line = String(stderr.mock.calls[0][0]);
      expect(line).toMatch(/^face3d: ONNX Runtime uses the (cpu|cuda) execution provider \(FACE3D_DEVICE=auto.*\)\n$/);
      expect(line).toContain(`the ${models[0].provider} execution provider`);
      expect(models.map((m) => m.provider)).toEqual([models[0].provider, models[0].provider, models[0].provider]);
    } finally {
      stderr.mockRestore();
    }
  });

  it('device cuda is MODEL_UNAVAILABLE exactly when auto fell back to the CPU', async () => {
    const autoProvider = (await loadModel(modelPath, { device: 'auto', threads: 0 })).provider;
    const cuda = loadModel(modelPath, { device: 'cuda', threads: 0 });
    if (autoProvider === 'cpu') {
      await expect(cuda).rejects.toMatchObject({
        code: 'MODEL_UNAVAILABLE',
        message: expect.stringContaining('FACE3D_DEVICE=cuda but the CUDA execution provider is unavailable'),
      });
    } else {
      expect((await cuda).provider).toBe('cuda');
    }
  });
});

describe('loadModel', () => {
  it('exposes names and runs the model on the CPU', async () => {
    const model = await loadModel(modelPath, CPU);
    const rows = [
      [1, 2, 3],
      [-4, 0.5, 2],
    ];

    const outputs = await model.run({ x: rowsTensor(rows) });

    expect([model.inputNames, model.outputNames, model.provider]).toEqual([['x'], ['y'], 'cpu']);
    expect(outputs.y.dims).toEqual([2, 2]);
    expect(outputs.y.data).toBeInstanceOf(Float32Array);
    expected(rows).forEach((value, i) => expect(outputs.y.data[i]).toBeCloseTo(value, 5));
  });

  it('creates one session per file, shared by concurrent first calls and by relative paths', async () => {
    const relativePath = relative(process.cwd(), modelPath);
    const [a, b, c] = await Promise.all([loadModel(modelPath, CPU), loadModel(modelPath, CPU), loadModel(relativePath, CPU)]);

    expect(b).toBe(a);
    expect(c).toBe(a);
    expect(await loadModel(modelPath, CPU)).toBe(a);
  });

  it('closeAllModels releases sessions; the next load creates a working one', async () => {
    const before = await loadModel(modelPath, CPU);
    await closeAllModels();

    const after = await loadModel(modelPath, CPU);

    expect(after).not.toBe(before);
    expect(Array.from((await after.run({ x: rowsTensor([[1, 1, 1]]) })).y.data)).toEqual(expected([[1, 1, 1]]));
  });

  it('a missing file is MODEL_UNAVAILABLE telling how to build it, and is retried once it exists', async () => {
    const path = join(dir.path, 'later.onnx');

    await expect(loadModel(path, CPU)).rejects.toMatchObject({
      code: 'MODEL_UNAVAILABLE',
      message: `model later.onnx not found at ${path}: run npm run models:build`,
    });
    await writeModel(dir.path, 'later.onnx', denseReluModel({ inputShape: ['N', 3], weights: WEIGHTS, bias: BIAS }));
    expect((await loadModel(path, CPU)).outputNames).toEqual(['y']);
  });

  it('a file that is not a model is MODEL_UNAVAILABLE', async () => {
    const path = join(dir.path, 'garbage.onnx');
    await writeFile(path, 'not a protobuf at all');

    await expect(loadModel(path, CPU)).rejects.toMatchObject({
      code: 'MODEL_UNAVAILABLE',
      message: expect.stringContaining('model garbage.onnx could not be loaded'),
    });
  });

  it('feeds of the wrong shape are an INTERNAL error naming the model', async () => {
    const model = await loadModel(modelPath, CPU);
    const wrong = { data: new Float32Array(4), dims: [1, 4] };

    await expect(model.run({ x: wrong })).rejects.toMatchObject({
      code: 'INTERNAL',
      message: expect.stringContaining('model dense.onnx failed to run'),
    });
  });
});
