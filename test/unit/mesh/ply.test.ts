import { describe, expect, it } from '@jest/globals';

import { Face3dError } from '../../../src/core/errors.js';
import type { Mesh } from '../../../src/mesh/mesh.js';
import { readPly } from '../../helpers/ply-reader.js';
import { writePly } from '../../../src/mesh/ply.js';
import { cube, facemeshDome, sphere } from '../../helpers/mesh-fixtures.js';

function colouredFace(): Mesh {
  const face = facemeshDome();
  return { ...face, colors: Uint8Array.from({ length: face.positions.length }, (_, i) => (i * 37) % 256) };
}

/** ASCII writes -0 as 0; the value is the same. */
const withoutNegativeZero = (values: Float32Array): number[] => Array.from(values, (value) => value + 0);

function expectSameMesh(actual: Mesh, expected: Mesh): void {
  expect(withoutNegativeZero(actual.positions)).toEqual(withoutNegativeZero(expected.positions));
  expect(actual.indices).toEqual(expected.indices);
  expect(actual.colors).toEqual(expected.colors);
  if (expected.uvs) {
    expect(actual.uvs).toHaveLength(expected.uvs.length);
    expected.uvs.forEach((value, i) => expect(actual.uvs?.[i]).toBeCloseTo(value, 6));
  } else {
    expect(actual.uvs).toBeUndefined();
  }
}

describe('writePly / readPly', () => {
  it('writes a binary little-endian file of the exact expected size and header', () => {
    const mesh = colouredFace();
    const buffer = writePly(mesh);
    const headerEnd = buffer.indexOf('end_header\n') + 'end_header\n'.length;
    const header = buffer.subarray(0, headerEnd).toString('ascii');
    expect(header.startsWith('ply\nformat binary_little_endian 1.0\n')).toBe(true);
    expect(header).toContain('element vertex 468\n');
    expect(header).toContain('element face 880\n');
    expect(header).toContain('property uchar red\n');
    expect(header).toContain('property list uchar uint vertex_indices\n');
    expect(header).toContain('property float z\nproperty float nx\nproperty float ny\nproperty float nz\n');
    const record = 12 + 12 + 3 + 8;
    expect(buffer.length - headerEnd).toBe(468 * record + 880 * 13);
    // Every vertex's normal, after its position, is unit length.
    for (let v = 0; v < 468; v++) {
      const at = headerEnd + v * record + 12;
      expect(Math.hypot(buffer.readFloatLE(at), buffer.readFloatLE(at + 4), buffer.readFloatLE(at + 8))).toBeCloseTo(1, 5);
    }
  });

  it.each(['binary', 'ascii'] as const)('round-trips positions, colours, uvs and indices (%s)', (format) => {
    const mesh = colouredFace();
    expectSameMesh(readPly(writePly(mesh, { format })), mesh);
  });

  it('round-trips meshes without uvs or colours', () => {
    const plain = { positions: cube().positions, indices: cube().indices };
    expectSameMesh(readPly(writePly(plain)), plain);
    const coloured = sphere();
    expectSameMesh(readPly(writePly(coloured, { format: 'ascii' })), coloured);
  });

  it('reads foreign files: extra elements and properties, float colours, quads', () => {
    const text = [
      'ply', 'format ascii 1.0', 'comment from elsewhere',
      'element vertex 4', 'property double x', 'property double y', 'property double z', 'property float nx',
      'property float red', 'property float green', 'property float blue',
      'element face 1', 'property list uchar int vertex_index', 'property uchar flags',
      'element edge 1', 'property int vertex1', 'property int vertex2',
      'end_header',
      '0 0 0 9 1 0 0', '1 0 0 9 0 1 0', '1 1 0 9 0 0 1', '0 1 0 9 1 1 1',
      '4 0 1 2 3 7',
      '0 1', '',
    ].join('\n');
    const mesh = readPly(Buffer.from(text));
    expect(Array.from(mesh.positions)).toEqual([0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 1, 0]);
    expect(Array.from(mesh.indices)).toEqual([0, 1, 2, 0, 2, 3]);
    expect(Array.from(mesh.colors ?? [])).toEqual([255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255]);
  });

  it('rejects truncated and malformed files with BAD_USER_INPUT', () => {
    const buffer = writePly(colouredFace());
    const reject = (bytes: Buffer): void => {
      expect(() => readPly(bytes)).toThrow(expect.objectContaining({ name: 'Face3dError', code: 'BAD_USER_INPUT' }));
    };
    reject(buffer.subarray(0, buffer.length - 5));
    reject(Buffer.from('not a ply file'));
    reject(Buffer.from('ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\nproperty float y\nproperty float z\nelement face 1\nproperty list uchar int vertex_indices\nend_header\n0 0 0\n3 0 1 2\n'));
  });

  it('refuses to write a mesh whose indices point past its vertices', () => {
    const broken = { positions: new Float32Array(9), indices: Uint32Array.from([0, 1, 3]) };
    expect(() => writePly(broken)).toThrow(Face3dError);
  });
});
