import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { WeightSpec } from '../../../../tools/tfjs-to-onnx/graph-model.js';
import { decodeWeights, float16ToFloat32, loadGraphModelFiles } from '../../../../tools/tfjs-to-onnx/weights.js';
import { a, expectSameAsTfjs, float16Bits, graphModel, op, placeholder, randomFeed, randomValues, type Weight } from '../../../helpers/tfjs-graphs.js';

const bytes = (array: ArrayBufferView): Uint8Array => new Uint8Array(array.buffer, array.byteOffset, array.byteLength);

describe('float16ToFloat32', () => {
  it.each([
    [0x0000, 0],
    [0x3c00, 1],
    [0xc000, -2],
    [0x3555, 0.333251953125],
    [0x7bff, 65504],
    [0x0400, 2 ** -14],
    [0x0001, 2 ** -24],
    [0x7c00, Infinity],
    [0xfc00, -Infinity],
  ])('half bits %i decode to %d', (bits, expected) => {
    expect(float16ToFloat32(bits)).toBe(expected);
  });

  it('decodes NaN', () => {
    expect(float16ToFloat32(0x7e00)).toBeNaN();
  });

  it('inverts the test encoder over the normal range', () => {
    for (const value of [0.5, -0.75, 3.140625, 1000, -0.0001220703125]) expect(float16ToFloat32(float16Bits(value))).toBe(value);
  });
});

describe('decodeWeights', () => {
  it('splits plain, float16 and affine-quantised weights, whatever their byte alignment', () => {
    const specs: WeightSpec[] = [
      { name: 'half', shape: [3], dtype: 'float32', quantization: { dtype: 'float16' } },
      { name: 'plain', shape: [2], dtype: 'float32' },
      { name: 'u8', shape: [3], dtype: 'float32', quantization: { dtype: 'uint8', scale: 0.5, min: -1 } },
      { name: 'u16', shape: [2], dtype: 'float32', quantization: { dtype: 'uint16', scale: 0.25, min: 10 } },
      { name: 'ints', shape: [2], dtype: 'int32', quantization: { dtype: 'uint8', scale: 0.4, min: 0 } },
      { name: 'int32', shape: [2, 1], dtype: 'int32' },
    ];
    const data = Buffer.concat([
      bytes(Uint16Array.of(0x3c00, 0xc000, 0x3800)), // 6 bytes: leaves the next weight unaligned
      bytes(Float32Array.of(1.5, -2.25)),
      bytes(Uint8Array.of(0, 1, 255)),
      bytes(Uint16Array.of(4, 65535)),
      bytes(Uint8Array.of(3, 4)),
      bytes(Int32Array.of(-7, 9)),
    ]);
    const weights = decodeWeights([{ paths: ['w.bin'], weights: specs }], new Uint8Array(data));
    expect(Array.from(weights.get('half')!.data)).toEqual([1, -2, 0.5]);
    expect(Array.from(weights.get('plain')!.data)).toEqual([1.5, -2.25]);
    expect(Array.from(weights.get('u8')!.data)).toEqual([-1, -0.5, 126.5]);
    expect(Array.from(weights.get('u16')!.data)).toEqual([11, 10 + 65535 * 0.25]);
    expect(weights.get('ints')).toEqual({ dtype: 'int32', shape: [2], data: Int32Array.of(1, 2) });
    expect(weights.get('int32')).toEqual({ dtype: 'int32', shape: [2, 1], data: Int32Array.of(-7, 9) });
  });

  it('rejects weight data that ends early', () => {
    const specs: WeightSpec[] = [{ name: 'w', shape: [4], dtype: 'float32' }];
    expect(() => decodeWeights([{ paths: [], weights: specs }], new Uint8Array(12))).toThrow(/past the 12 bytes/);
  });

  it('rejects dtypes it cannot hold', () => {
    const specs: WeightSpec[] = [{ name: 'flags', shape: [4], dtype: 'bool' }];
    expect(() => decodeWeights([{ paths: [], weights: specs }], new Uint8Array(4))).toThrow(/unsupported dtype bool/);
  });
});

describe('quantised weights end to end', () => {
  it.each(['float16', 'uint8', 'uint16'] as const)('%s filter and bias match tfjs', async (quantization) => {
    const weights: Weight[] = [
      { name: 'filter', shape: [3, 3, 3, 4], values: randomValues(108, 1), quantization },
      { name: 'bias', shape: [4], values: randomValues(4, 2), quantization },
    ];
    const attrs = {
      strides: a.ints([1, 1, 1, 1]),
      padding: a.s('SAME'),
      dilations: a.ints([1, 1, 1, 1]),
      data_format: a.s('NHWC'),
      fused_ops: a.strings(['BiasAdd']),
      num_args: a.i(1),
    };
    const source = graphModel([placeholder('x', [-1, 6, 6, 3]), op('conv', '_FusedConv2D', ['x', 'filter', 'bias'], attrs)], weights);
    await expectSameAsTfjs(source, { x: randomFeed([2, 6, 6, 3], 3) }, ['conv']);
  });
});

describe('loadGraphModelFiles', () => {
  it('concatenates the weight shards in manifest order and hashes json + shards', async () => {
    const directory = await mkdtemp(path.join(tmpdir(), 'tfjs-weights-'));
    try {
      const json = {
        modelTopology: { node: [] },
        weightsManifest: [{ paths: ['group1-shard1of2.bin', 'group1-shard2of2.bin'], weights: [{ name: 'w', shape: [3], dtype: 'float32' }] }],
      };
      const jsonText = JSON.stringify(json);
      const all = bytes(Float32Array.of(1, 2, 3));
      await writeFile(path.join(directory, 'model.json'), jsonText);
      await writeFile(path.join(directory, 'group1-shard1of2.bin'), all.subarray(0, 5));
      await writeFile(path.join(directory, 'group1-shard2of2.bin'), all.subarray(5));

      const loaded = await loadGraphModelFiles(path.join(directory, 'model.json'));

      expect(Array.from(decodeWeights(loaded.json.weightsManifest, loaded.weightData).get('w')!.data)).toEqual([1, 2, 3]);
      expect(loaded.files.map((file) => path.basename(file))).toEqual(['model.json', 'group1-shard1of2.bin', 'group1-shard2of2.bin']);
      expect(loaded.sha256).toBe(createHash('sha256').update(jsonText).update(all).digest('hex'));
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
