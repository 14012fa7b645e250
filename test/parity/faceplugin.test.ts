import { describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import onnxPkg from 'onnx-proto';
import ort from 'onnxruntime-node';
import { convertFrFeature, facepluginModelPath } from '../../tools/faceplugin-to-onnx/build.js';
import { floatValues } from '../../tools/quantize/graph.js';
import { cosineSimilarity } from '../../src/core/vector.js';
import { FEATURE_NETWORKS, featureInput, featureRegion } from '../../src/inference/feature-networks.js';
import { analysePhoto, closeFaceNetworks, openFaceNetworks } from '../../src/inference/pipeline.js';
import { mulberry32 } from '../../src/training/random.js';
import { lfwPeople } from '../helpers/lfw.js';

const { onnx } = onnxPkg;
const FR_FEATURE = FEATURE_NETWORKS['fr-feature'];
/** One photo each of the first people of LFW dev (the dataset's test split). */
const photos = lfwPeople(1)?.slice(0, 12).map((person) => person.photos[0]);
const describeWithLfw = photos ? describe : describe.skip;
if (!photos) console.warn('faceplugin parity on real faces skipped: no LFW dev photos at ../shared/datasets/lfw/dev');

async function openPair(): Promise<{ shipped: ort.InferenceSession; rewritten: ort.InferenceSession }> {
  const source = await readFile(facepluginModelPath('model/fr_feature.onnx'));
  return {
    shipped: await ort.InferenceSession.create(source, { intraOpNumThreads: 1, graphOptimizationLevel: 'disabled' }),
    rewritten: await ort.InferenceSession.create(convertFrFeature(source), { intraOpNumThreads: 1, graphOptimizationLevel: FR_FEATURE.graphOptimization }),
  };
}

function floatWeights(model: Uint8Array): Float32Array[] {
  return (onnx.ModelProto.decode(model).graph!.initializer ?? []).filter((t) => t.dataType === onnx.TensorProto.DataType.FLOAT).map(floatValues);
}

/** Two random crops in the network's input range, NCHW. */
function crops(count: number): Float32Array {
  const random = mulberry32(5);
  return Float32Array.from({ length: count * 3 * 112 * 112 }, () => random() * 2 - 1);
}

describe('fr_feature rewritten for ONNX Runtime (tools/faceplugin-to-onnx)', () => {
  it('gives the shipped graph\'s embeddings, and a batch of two equals two single runs', async () => {
    const { shipped, rewritten } = await openPair();
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

  it('drops the channels training left dead: a fifth fewer weights, none of them subnormal (the CPU\'s slow path)', async () => {
    const source = await readFile(facepluginModelPath('model/fr_feature.onnx'));
    const count = (tensors: Float32Array[]) => tensors.reduce((sum, t) => sum + t.length, 0);
    const subnormal = (tensors: Float32Array[]) => tensors.reduce((sum, t) => sum + t.filter((v) => v !== 0 && Math.abs(v) < 2 ** -126).length, 0);
    const [before, after] = [floatWeights(source), floatWeights(convertFrFeature(source))];
    expect(subnormal(before)).toBeGreaterThan(0);
    expect(subnormal(after)).toBe(0);
    expect(count(after)).toBeLessThan(0.8 * count(before));
  });

  it('writes each PRelu as Max(x, slope · x) where its slopes are all ≤ 1, and as Relu(x) − slope · Relu(−x) where one is not', async () => {
    const source = await readFile(facepluginModelPath('model/fr_feature.onnx'));
    const shipped = onnx.ModelProto.decode(source).graph!;
    const slopes = new Map((shipped.initializer ?? []).filter((t) => t.dataType === onnx.TensorProto.DataType.FLOAT).map((tensor) => [tensor.name, floatValues(tensor)]));
    const prelus = (shipped.node ?? []).filter((node) => node.opType === 'PRelu');
    const maxForm = prelus.filter((node) => slopes.get(node.input![1])!.every((slope) => slope <= 1)).length;
    const rewritten = onnx.ModelProto.decode(convertFrFeature(source)).graph!.node ?? [];
    const count = (opType: string) => rewritten.filter((node) => node.opType === opType).length;
    expect(maxForm).toBeGreaterThan(0);
    expect(count('PRelu')).toBe(0);
    expect(count('Max')).toBe(maxForm);
    expect(count('Neg')).toBe(prelus.length - maxForm);
  });
});

describeWithLfw('fr_feature rewritten, on real faces (LFW dev)', () => {
  it('embeds each five-point crop as the shipped graph does (cosine ≥ 0.9999)', async () => {
    const networks = await openFaceNetworks(undefined, FR_FEATURE);
    const { shipped, rewritten } = await openPair();
    try {
      const cosines: number[] = [];
      for (const photo of photos!) {
        const { image, faces: [face] } = await analysePhoto(networks, await readFile(photo));
        if (!face) continue;
        const input = { input: new ort.Tensor('float32', featureInput(FR_FEATURE, image, featureRegion(FR_FEATURE, face.landmarks.points)), [1, 3, 112, 112]) };
        const [a, b] = await Promise.all([shipped.run(input), rewritten.run(input)]);
        cosines.push(cosineSimilarity(a.output.data as Float32Array, b.output.data as Float32Array));
      }
      expect(cosines.length).toBeGreaterThanOrEqual(photos!.length - 2);
      expect(Math.min(...cosines)).toBeGreaterThanOrEqual(0.9999);
    } finally {
      await Promise.all([shipped.release(), rewritten.release(), closeFaceNetworks(networks)]);
    }
  });
});
