import { describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import ort from 'onnxruntime-node';
import { fuseNetworks } from '../../tools/fuse-networks/build.js';
import { dotProduct, l2Normalise } from '../../src/core/vector.js';
import { FEATURE_NETWORKS, featureModelPath, featureNetworkSpec } from '../../src/inference/feature-networks.js';
import { mulberry32 } from '../../src/training/random.js';

const FUSED = FEATURE_NETWORKS['fr-feature-expo'];
const PLANE = 3 * 112 * 112;

async function session(model: string | Uint8Array): Promise<ort.InferenceSession> {
  // The overloads take a path or bytes, not their union.
  return typeof model === 'string' ? ort.InferenceSession.create(model, { intraOpNumThreads: 1 }) : ort.InferenceSession.create(model, { intraOpNumThreads: 1 });
}

/** Two crops as fr-feature's row normalises them, NCHW. */
function crops(): Float32Array {
  const random = mulberry32(3);
  return Float32Array.from({ length: 2 * PLANE }, () => random() * 2 - 1);
}

describe('a fused identity network (tools/fuse-networks)', () => {
  it('is each part\'s unit embedding × √weight side by side, each part fed its own normalisation', async () => {
    const parts = FUSED.fusion.map((part) => ({ spec: featureNetworkSpec(part.network), weight: part.weight }));
    const fused = await session(fuseNetworks(FUSED, await Promise.all(parts.map(async (part) => ({ ...part, model: await readFile(featureModelPath(part.spec)) })))));
    const input = crops();
    const { embedding } = await fused.run({ input: new ort.Tensor('float32', input, [2, 3, 112, 112]) });
    expect(embedding.dims).toEqual([2, FUSED.dim]);
    const got = embedding.data as Float32Array;
    let offset = 0;
    for (const { spec, weight } of parts) {
      // What the part's own row feeds it: (pixel − mean') · scale', from the fused row's (pixel − mean) · scale.
      const own = input.map((x, i) => ((x / FUSED.scale + FUSED.mean[Math.floor(i / (112 * 112)) % 3]) - spec.mean[Math.floor(i / (112 * 112)) % 3]) * spec.scale);
      const alone = await session(featureModelPath(spec));
      const out = (await alone.run({ input: new ort.Tensor('float32', own, [2, 3, 112, 112]) }))[spec.output].data as Float32Array;
      for (let item = 0; item < 2; item++) {
        const expected = l2Normalise(out.slice(item * spec.dim, (item + 1) * spec.dim)).map((v) => v * Math.sqrt(weight));
        const slice = got.slice(item * FUSED.dim + offset, item * FUSED.dim + offset + spec.dim);
        expect(Math.max(...slice.map((v, i) => Math.abs(v - expected[i])))).toBeLessThan(1e-5);
      }
      offset += spec.dim;
      await alone.release();
    }
    expect(offset).toBe(FUSED.dim);
    // Unit length: the cosine of two fused vectors is the weighted sum of the parts' cosines.
    expect(dotProduct(got.slice(0, FUSED.dim), got.slice(0, FUSED.dim))).toBeCloseTo(1, 5);
    await fused.release();
  });

  it('refuses parts that do not share the fused row\'s crop', async () => {
    const faceres = featureNetworkSpec('faceres');
    expect(() => fuseNetworks(FUSED, [{ spec: faceres, weight: 1, model: new Uint8Array(0) }])).toThrow('cannot share');
  });
});
