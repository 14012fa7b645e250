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
});
