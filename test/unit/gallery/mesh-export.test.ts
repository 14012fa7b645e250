import { describe, expect, it } from '@jest/globals';
import { validateBytes } from 'gltf-validator';

import { exportableMesh, EXPORT_TEXTURE_SIZE } from '../../../src/gallery/mesh-export.js';
import { defaultBundleDir } from '../../../src/inference/face-encoder.js';
import { readGlb } from '../../helpers/glb-reader.js';
import { writeGlb } from '../../../src/mesh/glb.js';
import { vertexCount } from '../../../src/mesh/mesh.js';
import { readPly } from '../../helpers/ply-reader.js';
import { writePly } from '../../../src/mesh/ply.js';
import { loadBundle } from '../../../src/morphable/bundle.js';
import { reconstructMesh } from '../../../src/morphable/reconstruct.js';
import { downloadedShape, photoIntensity } from '../../../src/morphable/shading-refine.js';
import { subdivide } from '../../../src/mesh/subdivide.js';
import { mulberry32 } from '../../../src/training/random.js';
import { faceWithDepth, photographShaded, randomDepthDeviation } from '../../../tools/depth/shading-synthetic.js';

describe('the exported face', () => {
  it(`is dense, textured at ${EXPORT_TEXTURE_SIZE}² at least, a valid GLB and a PLY that reads back`, async () => {
    const bundle = await loadBundle(defaultBundleDir());
    const mesh = await exportableMesh(bundle, { shape: [0.5, -1], texture: [1] });
    expect(vertexCount(mesh)).toBeGreaterThan(7000);
    expect(mesh.texture!.width).toBeGreaterThanOrEqual(EXPORT_TEXTURE_SIZE);
    expect(mesh.texture!.height).toBeGreaterThanOrEqual(EXPORT_TEXTURE_SIZE);
    const glb = await writeGlb(mesh);
    const report = await validateBytes(new Uint8Array(glb), { format: 'glb', writeTimestamp: false });
    expect(report.issues.messages.filter((message) => message.severity <= 1)).toEqual([]);
    const read = await readGlb(glb);
    expect(read.positions.length).toBe(mesh.positions.length);
    expect(read.texture!.width).toBe(mesh.texture!.width);
    const ply = readPly(writePly(mesh));
    expect(ply.positions).toEqual(mesh.positions);
    expect(ply.indices).toEqual(mesh.indices);
  });

  it("takes its depth from the shading of the face's own photos: nearer the face photographed than the model's", async () => {
    const bundle = await loadBundle(defaultBundleDir());
    const coefficients = { shape: [], texture: [] };
    const base = reconstructMesh(bundle, coefficients);
    const random = mulberry32(12);
    // A face of known depth (the model's own with a real-size deviation), photographed under three lights.
    const truth = faceWithDepth(base.positions, randomDepthDeviation(bundle.shape.basis, 2.5, random));
    const photos = Array.from({ length: 3 }, () => {
      const photo = photographShaded(truth, { light: 'point', landmarkNoisePx: 0.7, pixelNoise: 0.01, albedoNoise: 0.08 }, random);
      return { image: photo.rgb, landmarks: photo.landmarks };
    });
    const refined = (await exportableMesh(bundle, coefficients, photos)).positions;
    const plain = (await exportableMesh(bundle, coefficients)).positions;
    const real = subdivide({ positions: truth, indices: base.indices }, 2).positions;
    const depthError = (positions: Float32Array) => {
      // z only, less its mean: the face's own shape, not where it sits.
      const d = Array.from({ length: positions.length / 3 }, (_, i) => positions[3 * i + 2] - real[3 * i + 2]);
      const m = d.reduce((s, v) => s + v, 0) / d.length;
      return Math.sqrt(d.reduce((s, v) => s + (v - m) ** 2, 0) / d.length);
    };
    expect(refined.length).toBe(plain.length);
    expect(depthError(refined)).toBeLessThan(0.95 * depthError(plain));
    // The depth fidelity3d and the CFP check measure (`downloadedShape`) is the download's, to the bit.
    const measured = downloadedShape(base.positions, photos.map((photo) => ({ image: photoIntensity(photo.image), landmarks: photo.landmarks })));
    expect(refined).toEqual(subdivide({ ...base, positions: measured }, 2).positions);
  });
});
