import { describe, expect, it } from '@jest/globals';
import { MODEL_CONFIGS, convertConfiguredModel, locateSourcePackage, modelConfig, sourceJsonPath } from '../../../../tools/tfjs-to-onnx/models.js';
import { syntheticImages } from '../../../../tools/tfjs-to-onnx/synthetic-input.js';
import { loadGraphModelFiles } from '../../../../tools/tfjs-to-onnx/weights.js';
import { expectClose, runOnnx, sample } from '../../../helpers/tfjs-graphs.js';

describe('a real model converted with a dynamic batch', () => {
  // BlazeFace was exported at batch 1 and hard-codes it in its output Reshapes.
  it('gives the same results for a batch of 3 as for 3 single runs (blazeface)', async () => {
    const pkg = locateSourcePackage();
    const config = modelConfig('blazeface');
    const { onnx, inputs } = convertConfiguredModel(config, await loadGraphModelFiles(sourceJsonPath(pkg, config)), pkg);
    const [input] = inputs;
    expect(input.shape).toEqual(['batch', null, null, 3]);
    const outputs = config.outputs.map((o) => o.name);
    const count = 3;
    const batch = syntheticImages([count, 256, 256, 3], config.inputRange, 42);
    const batched = await runOnnx(onnx, { [input.name]: { shape: [count, 256, 256, 3], data: batch } }, outputs);
    expect(batched.map((r) => r.shape)).toEqual([
      [3, 512, 1],
      [3, 512, 16],
      [3, 384, 1],
      [3, 384, 16],
    ]);
    const imageSize = batch.length / count;
    for (let i = 0; i < count; i++) {
      const single = { shape: [1, 256, 256, 3], data: batch.slice(i * imageSize, (i + 1) * imageSize) };
      const alone = await runOnnx(onnx, { [input.name]: single }, outputs);
      alone.forEach((result, o) => expectClose(sample(batched[o], i), result));
    }
  });

  // Converted with its input size open: a smaller input has a smaller anchor grid, same weights.
  it('runs blazeface at a smaller input, with one anchor per cell of each smaller grid', async () => {
    const pkg = locateSourcePackage();
    const config = modelConfig('blazeface');
    const { onnx, inputs } = convertConfiguredModel(config, await loadGraphModelFiles(sourceJsonPath(pkg, config)), pkg);
    const data = syntheticImages([1, 160, 160, 3], config.inputRange, 7);
    const results = await runOnnx(onnx, { [inputs[0].name]: { shape: [1, 160, 160, 3], data } }, config.outputs.map((o) => o.name));
    // 10x10 cells x 2 anchors at stride 16, 5x5 cells x 6 anchors at stride 32.
    expect(results.map((r) => r.shape)).toEqual([
      [1, 200, 1],
      [1, 200, 16],
      [1, 150, 1],
      [1, 150, 16],
    ]);
  });

  it('every configured model has a symbolic batch on its input and outputs', async () => {
    const pkg = locateSourcePackage();
    for (const config of MODEL_CONFIGS) {
      const converted = convertConfiguredModel(config, await loadGraphModelFiles(sourceJsonPath(pkg, config)), pkg);
      for (const tensor of [...converted.inputs, ...converted.outputs]) expect(tensor.shape[0]).toBe('batch');
      expect(converted.outputs.map((o) => o.name)).toEqual(config.outputs.map((o) => o.name));
    }
  });
});
