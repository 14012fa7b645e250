import { describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import ort from 'onnxruntime-node';
import { convertFrFeature, facepluginModelPath } from '../../tools/faceplugin-to-onnx/build.js';
import { mulberry32 } from '../../src/training/random.js';

/** Two random crops in the network's input range, NCHW. */
function crops(count: number): Float32Array {
  const random = mulberry32(5);
  return Float32Array.from({ length: count * 3 * 112 * 112 }, () => random() * 2 - 1);
}

describe('fr_feature rewritten for ONNX Runtime (tools/faceplugin-to-onnx)', () => {
  it('gives the shipped graph\'s embeddings, and a batch of two equals two single runs', async () => {
    const source = await readFile(facepluginModelPath('model/fr_feature.onnx'));
    const shipped = await ort.InferenceSession.create(source, { intraOpNumThreads: 1, graphOptimizationLevel: 'disabled' });
    const rewritten = await ort.InferenceSession.create(convertFrFeature(source), { intraOpNumThreads: 1 });
    const input = crops(2);
    const plane = 3 * 112 * 112;
    const batch = (await rewritten.run({ input: new ort.Tensor('float32', input, [2, 3, 112, 112]) })).output;
    expect(batch.dims).toEqual([2, 512]);
    for (let item = 0; item < 2; item++) {
      const single = (await shipped.run({ input: new ort.Tensor('float32', input.slice(item * plane, (item + 1) * plane), [1, 3, 112, 112]) })).output.data as Float32Array;
      const scale = Math.max(...single.map(Math.abs));
      let worst = 0;
      for (let i = 0; i < 512; i++) worst = Math.max(worst, Math.abs((batch.data as Float32Array)[item * 512 + i] - single[i]));
      expect(worst / scale).toBeLessThan(1e-4);
    }
    await Promise.all([shipped.release(), rewritten.release()]);
  });
});
