import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Command } from 'commander';
import h5wasm from 'h5wasm/node';
import { bfmFromHdf5 } from '../../../../src/import/bfm/bfm-hdf5.js';
import { bfmFromMat, trimLikeSeed } from '../../../../src/import/bfm/bfm-mat.js';
import { writeImportedBundle } from '../../../../src/import/bundle-writer.js';
import { readMat } from '../../../../src/import/matlab/mat-reader.js';
import { registerImportCommands } from '../../../../src/cli/import-commands.js';
import { loadBundle, type BundleManifest } from '../../../../src/morphable/bundle.js';
import { reconstructMesh } from '../../../../src/morphable/reconstruct.js';
import { closeAllModels, loadModel } from '../../../../src/inference/onnx-runtime.js';
import { seedNetworkInput, SEED_INPUT_SIZE } from '../../../../src/inference/seed-input.js';
import { writeCaffemodel, writeMeanBinaryproto, writePrototxt } from '../../../../tools/import/caffe-synthetic.js';
import { matColumn, matMatrix, writeMat, type MatInput } from '../../../helpers/mat-writer.js';

/**
 * A 4-vertex, 2-triangle "Basel Face Model 2009" in its own conventions: µm, x y z interleaved,
 * one basis column per component (unit vectors, so the expected mesh is easy to write by hand),
 * σ in shapeEV/texEV, 1-based triangles in tl.
 */
const SHAPE_MU_UM = [10000, 20000, 30000, -10000, 5000, 0, 0, -20000, 1000, 40000, 0, -3000];
const TEX_MU = [100, 150, 200, 10, 20, 30, 250, 240, 230, 0, 128, 255];
function unitColumns(dims: number, hot: readonly number[]): number[] {
  const out = new Array<number>(dims * hot.length).fill(0);
  hot.forEach((index, k) => (out[k * dims + index] = 1));
  return out;
}
const BFM_2009: Record<string, MatInput> = {
  shapeMU: matColumn(SHAPE_MU_UM, 'single'),
  // Component 0 moves x of vertex 0, component 1 y of vertex 1, component 2 z of vertex 3.
  shapePC: { kind: 'numeric', class: 'single', dims: [12, 3], data: unitColumns(12, [0, 4, 11]) },
  shapeEV: matColumn([2000, 1000, 500], 'single'),
  texMU: matColumn(TEX_MU, 'single'),
  texPC: { kind: 'numeric', class: 'single', dims: [12, 3], data: unitColumns(12, [0, 8, 9]) },
  texEV: matColumn([50, 20, 10], 'single'),
  tl: matMatrix(2, 3, [1, 2, 3, 1, 3, 4], 'double', 'uint16'),
};

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'face3d-bfm-'));
  await h5wasm.ready;
});
afterAll(closeAllModels);

describe('Basel Face Model import', () => {
  it('reads BFM 2009 (compressed MAT), converts µm to mm, and reconstructs the hand-computed mesh', async () => {
    const model = bfmFromMat(readMat(writeMat(BFM_2009, { compress: true })), '01_MorphableModel.mat');
    const out = join(dir, 'bfm2009');
    const manifest = await writeImportedBundle(out, model, { id: 'bfm2009', components: 2 });
    expect(manifest).toMatchObject({ topology: 'custom', vertexCount: 4, triangles: { count: 2 }, texture: { kind: 'per-vertex', components: 2 }, expression: { components: 0 } });
    const bundle = await loadBundle(out);
    const mesh = reconstructMesh(bundle, { shape: [1.5, -2], texture: [2, -1] });
    // S = (μ + PC (EV ⊙ α)) / 1000: x0 = (10000 + 2000·1.5)/1000, y1 = (5000 − 1000·2)/1000; component 2 was dropped.
    expect(Array.from(mesh.positions)).toEqual([13, 20, 30, -10, 3, 0, 0, -20, 1, 40, 0, -3]);
    // T = μ + PC (EV ⊙ β), clamped: r0 = 100 + 50·2, b2 = 230 − 20 = 210.
    expect(Array.from(mesh.colors!)).toEqual([200, 150, 200, 10, 20, 30, 250, 240, 210, 0, 128, 255]);
    expect(Array.from(mesh.indices)).toEqual([0, 1, 2, 0, 2, 3]);
    expect(mesh.uvs).toBeUndefined();
    expect(reconstructMesh(bundle, { shape: [], texture: [10] }).colors![0]).toBe(255);
  });

  it('trims the 2009 model as the seed does: vertex subset, x shift, its faces, 3DDFA expressions', () => {
    const full = bfmFromMat(readMat(writeMat(BFM_2009)), '01_MorphableModel.mat');
    const modStruct = readMat(writeMat({
      mod_struct: {
        kind: 'struct',
        fields: {
          vertex_indices: matColumn([2, 4, 1]),
          tx: matColumn([5]),
          faces: matMatrix(1, 3, [1, 3, 2]),
          vertex_expr_ref: matColumn([2, 1, 1, 3]),
          expEV: matColumn([4]),
        },
      },
    }));
    const expressions = readMat(writeMat({ mu_exp: matColumn([1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000]), w_exp: matColumn([0, 0, 0, 1000, 0, 0, 0, 0, 0]) }, { compress: true }));
    const trimmed = trimLikeSeed(full, modStruct, expressions);
    expect(trimmed.vertexCount).toBe(3);
    // Vertices 2, 4, 1 (1-based) in mm, x + 5.
    expect(Array.from(trimmed.shape.mean)).toEqual([-5, 5, 0, 45, 0, -3, 15, 20, 30]);
    expect(Array.from(trimmed.shape.sigma)).toEqual([2, 1, 0.5]);
    expect(Array.from(trimmed.texture.mean.subarray(0, 3))).toEqual([10, 20, 30]);
    expect(Array.from(trimmed.triangles)).toEqual([0, 2, 1]);
    // Expression vertices via vertex_expr_ref: BFM 2 → 1, 4 → 3, 1 → 2; mean and basis / 1000, σ = expEV.
    expect(Array.from(trimmed.expression!.mean)).toEqual([1, 2, 3, 7, 8, 9, 4, 5, 6]);
    expect(Array.from(trimmed.expression!.basis.data)).toEqual([0, 0, 0, 0, 0, 0, 1, 0, 0]);
    expect(Array.from(trimmed.expression!.sigma)).toEqual([4]);
  });

  it("reads the seed's trimmed BaselFaceModel_mod.mat (one struct, mm, faces, expression)", () => {
    const seedFile = writeMat({
      BFM: {
        kind: 'struct',
        fields: {
          faces: matMatrix(1, 3, [3, 2, 1]),
          shapeMU: matColumn([1, 2, 3, 4, 5, 6, 7, 8, 9]),
          shapePC: matColumn([0, 0, 1, 0, 0, 0, 0, 0, 0]),
          shapeEV: matColumn([2]),
          texMU: matColumn([9, 8, 7, 6, 5, 4, 3, 2, 1]),
          texPC: matColumn([1, 0, 0, 0, 0, 0, 0, 0, 0]),
          texEV: matColumn([3]),
          expMU: matColumn(new Array(9).fill(0)),
          expPC: matColumn([0, 0, 0, 0, 0, 0, 0, 0, 0.5]),
          expEV: matColumn([7]),
        },
      },
    });
    const model = bfmFromMat(readMat(seedFile), 'BaselFaceModel_mod.mat');
    expect(model.source).toContain('struct BFM');
    expect(Array.from(model.shape.mean)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]); // already mm: unchanged
    expect(Array.from(model.triangles)).toEqual([2, 1, 0]);
    expect(model.expression?.sigma[0]).toBe(7);
  });

  it('reads Basel Face Model 2017/2019 HDF5 (statismo layout): σ = √variance, colour 0..1 → 0..255, 0-based cells', async () => {
    const path = join(dir, 'model2017.h5');
    const file = new h5wasm.File(path, 'w');
    const put = (group: string, name: string, data: Float32Array | Uint32Array, shape: number[]) => {
      let node = file as unknown as InstanceType<typeof h5wasm.Group>;
      for (const part of group.split('/')) node = (node.get(part) as InstanceType<typeof h5wasm.Group> | null) ?? node.create_group(part);
      node.create_dataset({ name, data, shape });
    };
    const mean = Float32Array.of(10, 20, 30, -10, 5, 0, 0, -20, 1);
    // pcaBasis [9 x 2]: component 0 = x of vertex 0, component 1 = z of vertex 2 (rows are coordinates).
    const basis = new Float32Array(18);
    basis[0 * 2 + 0] = 1;
    basis[8 * 2 + 1] = 1;
    put('shape/model', 'mean', mean, [9]);
    put('shape/model', 'pcaBasis', basis, [9, 2]);
    put('shape/model', 'pcaVariance', Float32Array.of(4, 9), [2]);
    put('color/model', 'mean', Float32Array.of(0.5, 0.5, 0.5, 1, 0, 0, 0, 0, 1), [9]);
    put('color/model', 'pcaBasis', basis, [9, 2]);
    put('color/model', 'pcaVariance', Float32Array.of(0.01, 0.04), [2]);
    put('expression/model', 'mean', new Float32Array(9), [9]);
    put('expression/model', 'pcaBasis', basis, [9, 2]);
    put('expression/model', 'pcaVariance', Float32Array.of(1, 1), [2]);
    put('shape/representer', 'cells', Uint32Array.of(0, 1, 2), [3, 1]);
    file.close();

    const model = await bfmFromHdf5(path);
    expect(model.vertexCount).toBe(3);
    expect(Array.from(model.triangles)).toEqual([0, 1, 2]);
    expect(Array.from(model.shape.sigma)).toEqual([2, 3]);
    expect(model.texture.mean[0]).toBeCloseTo(127.5, 4);
    expect(model.texture.sigma[1]).toBeCloseTo(0.2 * 255, 3);
    expect(model.expression?.basis.rows).toBe(2);
    const out = join(dir, 'bfm2017');
    await writeImportedBundle(out, model, { id: 'bfm2017' });
    const mesh = reconstructMesh(await loadBundle(out), { shape: [1, -1], texture: [0, 0], expression: [0, 1] });
    // x0 = 10 + 2·1, z2 = 1 − 3·1 + 1·1 (expression component 1 is z of vertex 2 too, σ 1).
    expect(Array.from(mesh.positions)).toEqual([12, 20, 30, -10, 5, 0, 0, -20, -1]);
  });

  it('rejects triangle indices outside the vertices, on import and on load', async () => {
    const broken = { ...BFM_2009, tl: matMatrix(1, 3, [1, 2, 9]) };
    expect(() => bfmFromMat(readMat(writeMat(broken)), 'x.mat')).toThrow(/triangle index 9 is outside the 4 vertices/);
    const out = join(dir, 'tampered');
    const manifest = await writeImportedBundle(out, bfmFromMat(readMat(writeMat(BFM_2009)), 'x.mat'), { id: 'tampered' });
    await writeFile(join(out, 'triangles.u32'), Uint32Array.of(0, 1, 4, 0, 2, 3));
    await expect(loadBundle(out)).rejects.toMatchObject({ code: 'MODEL_UNAVAILABLE', message: expect.stringContaining('triangle index 4') });
    await writeFile(join(out, 'manifest.json'), JSON.stringify({ ...manifest, triangles: undefined }));
    await expect(loadBundle(out)).rejects.toThrow(/custom topology but no triangles file/);
  });
});

describe('face3d import (CLI)', () => {
  it('imports a BFM and a Caffe regressor into one bundle whose outputs reconstruct a face', async () => {
    const bundleDir = join(dir, 'cnn3dmm');
    const files = { mat: join(dir, 'bfm.mat'), prototxt: join(dir, 'deploy.prototxt'), caffemodel: join(dir, 'net.caffemodel'), mean: join(dir, 'mean.binaryproto') };
    await writeFile(files.mat, writeMat(BFM_2009, { compress: true }));
    // A 2 + 2 output "regressor": global average pool of the BGR input, then a fully connected layer.
    const size = SEED_INPUT_SIZE;
    const net = {
      name: 'tiny', input: { name: 'data', dims: [3, size, size] as const },
      layers: [
        { name: 'pool', type: 'Pooling', bottom: ['data'], top: ['pool'], params: 'pooling_param { pool: AVE global_pooling: true }' },
        { name: 'fc_ftnew', type: 'InnerProduct', bottom: ['pool'], top: ['fc_ftnew'], params: 'inner_product_param { num_output: 4 }', blobs: [{ dims: [4, 3], data: Float32Array.of(0.01, 0, 0, 0, 0.01, 0, 0, 0, 0.01, 0, 0, 0) }, { dims: [4], data: Float32Array.of(0, 0, 0, 1) }] },
      ],
    };
    await writeFile(files.prototxt, writePrototxt(net));
    await writeFile(files.caffemodel, writeCaffemodel(net));
    await writeFile(files.mean, writeMeanBinaryproto({ dims: [1, 3, 1, 1], data: Float32Array.of(100, 100, 100) }));
    /** Runs `face3d import ...` in-process; returns the JSON line it prints. */
    const run = async (...args: string[]): Promise<Record<string, unknown>> => {
      const program = new Command().exitOverride();
      registerImportCommands(program);
      const write = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
      try {
        await program.parseAsync(['node', 'face3d', 'import', ...args]);
        return JSON.parse(String(write.mock.calls[0][0])) as Record<string, unknown>;
      } finally {
        write.mockRestore();
      }
    };
    const caffeArgs = ['caffe', '--prototxt', files.prototxt, '--caffemodel', files.caffemodel, '--mean', files.mean, '-o', join(bundleDir, 'regressor.onnx')];
    // Regressor before the model: nothing to record it in yet; the model keeps it once both exist, whatever the order.
    expect(await run(...caffeArgs)).toMatchObject({ bundleManifestUpdated: false, outputs: [{ name: 'fc_ftnew', dims: [4] }] });
    expect(await run('bfm', '--mat', files.mat, '--components', '2', '-o', bundleDir)).toMatchObject({ vertices: 4, triangles: 2, regressor: null });
    expect(await run(...caffeArgs)).toMatchObject({ bundleManifestUpdated: true });
    expect(await run('bfm', '--mat', files.mat, '--components', '2', '-o', bundleDir)).toMatchObject({ regressor: 'regressor.onnx' });
    const manifest = JSON.parse(await readFile(join(bundleDir, 'manifest.json'), 'utf8')) as BundleManifest;
    expect(manifest.id).toBe('cnn3dmm');
    expect(manifest.regressor).toMatchObject({ file: 'regressor.onnx', inputDim: 3 * size * size, outputDim: 4 });
    expect(manifest.preprocessing).toMatchObject({ kind: 'cnn3dmm', channelOrder: 'bgr', meanSubtractedInGraph: true });

    // A uniform photo of RGB (120, 140, 160): the network sees BGR means 160, 140, 120 minus 100.
    const image = { width: 400, height: 400, data: new Uint8Array(400 * 400 * 3).map((_, i) => [120, 140, 160][i % 3]) };
    const input = seedNetworkInput(image, { x: 150, y: 150, width: 100, height: 100 }, { source: 'landmarks' });
    const regressor = await loadModel(join(bundleDir, manifest.regressor!.file), { device: 'cpu', threads: 1 });
    const { fc_ftnew } = await regressor.run({ data: { data: input, dims: [1, 3, size, size] } });
    const coefficients = Array.from(fc_ftnew.data);
    expect(coefficients[0]).toBeCloseTo(0.6, 4);
    expect(coefficients[1]).toBeCloseTo(0.4, 4);
    const bundle = await loadBundle(bundleDir);
    const k = bundle.manifest.shape.components;
    const mesh = reconstructMesh(bundle, { shape: coefficients.slice(0, k), texture: coefficients.slice(k) });
    expect(mesh.positions[0]).toBeCloseTo(10 + 2 * 0.6, 3);
    expect(mesh.positions[4]).toBeCloseTo(5 + 1 * 0.4, 3);
  });
});
