import { describe, expect, it } from '@jest/globals';
import sharp from 'sharp';

import type { Mesh } from '../../../src/mesh/mesh.js';
import { writeObj } from '../../../src/mesh/obj.js';
import { facemeshDome, patternImage, sphere, uvGradient } from '../../helpers/mesh-fixtures.js';

/** Lines of one OBJ keyword, split into fields after the keyword. */
function records(obj: string, keyword: string): string[][] {
  return obj
    .split('\n')
    .filter((line) => line.startsWith(`${keyword} `))
    .map((line) => line.split(/\s+/).slice(1));
}

function texturedFace(): Mesh {
  return { ...facemeshDome(), texture: patternImage(32, uvGradient) };
}

describe('writeObj', () => {
  it('writes 1-based faces in range that name the same vertices, uvs and normals', async () => {
    const mesh = texturedFace();
    const { obj } = await writeObj(mesh, 'face');
    const vertices = mesh.positions.length / 3;
    const faces = records(obj, 'f');
    expect(records(obj, 'v')).toHaveLength(vertices);
    expect(records(obj, 'vt')).toHaveLength(vertices);
    expect(records(obj, 'vn')).toHaveLength(vertices);
    expect(faces).toHaveLength(mesh.indices.length / 3);
    const corners = faces.flat().map((corner) => corner.split('/').map(Number));
    for (const [v, vt, vn] of corners) {
      expect(v).toBeGreaterThanOrEqual(1);
      expect(v).toBeLessThanOrEqual(vertices);
      expect(vt).toBe(v);
      expect(vn).toBe(v);
    }
    expect(corners.map(([v]) => v - 1)).toEqual(Array.from(mesh.indices));
  });

  it('keeps positions, flips v for OBJ and writes vertex colours in [0, 1]', async () => {
    const mesh = sphere(6, 8);
    const { obj } = await writeObj(mesh, 'ball');
    const v = records(obj, 'v').map((fields) => fields.map(Number));
    v.forEach((fields, i) => {
      expect(fields).toHaveLength(6);
      for (let k = 0; k < 3; k++) expect(fields[k]).toBeCloseTo(mesh.positions[3 * i + k], 5);
      for (let k = 0; k < 3; k++) expect(fields[3 + k]).toBeCloseTo((mesh.colors?.[3 * i + k] ?? NaN) / 255, 5);
    });
    records(obj, 'vt').forEach(([u, t], i) => {
      expect(Number(u)).toBeCloseTo(mesh.uvs?.[2 * i] ?? NaN, 5);
      expect(Number(t)).toBeCloseTo(1 - (mesh.uvs?.[2 * i + 1] ?? NaN), 5);
    });
  });

  it('links OBJ, MTL and a lossless PNG of the texture', async () => {
    const mesh = texturedFace();
    const files = await writeObj(mesh, 'subject-7');
    expect(files.baseName).toBe('subject-7');
    expect(files.obj).toContain('mtllib subject-7.mtl\n');
    expect(files.obj).toContain('usemtl subject-7\n');
    expect(files.mtl).toContain('newmtl subject-7\n');
    expect(files.mtl).toContain('map_Kd subject-7.png\n');
    const { data, info } = await sharp(files.png).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([32, 32, 3]);
    expect(new Uint8Array(data)).toEqual(mesh.texture?.data);
  });

  it('writes no texture map without a texture, and faces without uv slots without uvs', async () => {
    const mesh = { positions: facemeshDome().positions, indices: facemeshDome().indices };
    const files = await writeObj(mesh, 'plain');
    expect(files.png).toBeUndefined();
    expect(files.mtl).not.toContain('map_Kd');
    expect(records(files.obj, 'vt')).toHaveLength(0);
    expect(records(files.obj, 'f')[0][0]).toMatch(/^\d+\/\/\d+$/);
  });

  it('turns names into safe file stems', async () => {
    const mesh = sphere(4, 4);
    expect((await writeObj(mesh, '../etc/pass wd')).baseName).toBe('_etc_pass_wd');
    expect((await writeObj(mesh, '')).baseName).toBe('mesh');
  });
});
