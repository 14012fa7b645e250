import { describe, expect, it } from '@jest/globals';

import { Face3dError } from '../../../src/core/errors.js';
import { validateBytes } from 'gltf-validator';
import { parseGlb, readAccessor, readGlb } from '../../helpers/glb-reader.js';
import { writeGlb } from '../../../src/mesh/glb.js';
import { COMPONENT_BYTES, TYPE_COMPONENTS } from '../../../src/mesh/gltf.js';
import { type Mesh, computeBounds } from '../../../src/mesh/mesh.js';
import { cube, facemeshDome, patternImage, sphere, uvGradient } from '../../helpers/mesh-fixtures.js';

function fullFace(): Mesh {
  const face = facemeshDome();
  return {
    ...face,
    colors: Uint8Array.from({ length: face.positions.length }, (_, i) => (i * 53) % 256),
    texture: patternImage(64, uvGradient),
  };
}

/** The container and alignment rules of the GLB and glTF 2.0 specifications that a writer can break. */
function checkStructure(glb: Buffer, mesh: Mesh): void {
  expect(glb.readUInt32LE(0)).toBe(0x46546c67);
  expect(glb.subarray(0, 4).toString('ascii')).toBe('glTF');
  expect(glb.readUInt32LE(4)).toBe(2);
  expect(glb.readUInt32LE(8)).toBe(glb.length);
  const jsonLength = glb.readUInt32LE(12);
  expect(glb.readUInt32LE(16)).toBe(0x4e4f534a);
  expect(jsonLength % 4).toBe(0);
  const binHeader = 20 + jsonLength;
  const binLength = glb.readUInt32LE(binHeader);
  expect(glb.readUInt32LE(binHeader + 4)).toBe(0x004e4942);
  expect(binLength % 4).toBe(0);
  expect(binHeader + 8 + binLength).toBe(glb.length);

  const { json } = parseGlb(glb);
  expect(json.asset.version).toBe('2.0');
  expect(json.buffers).toEqual([{ byteLength: binLength }]);
  for (const view of json.bufferViews ?? []) {
    expect((view.byteOffset ?? 0) % 4).toBe(0);
    expect((view.byteOffset ?? 0) + view.byteLength).toBeLessThanOrEqual(binLength);
  }
  const vertices = mesh.positions.length / 3;
  const primitive = json.meshes?.[0].primitives[0];
  expect(primitive?.mode).toBe(4);
  for (const accessorIndex of Object.values(primitive?.attributes ?? {})) {
    const accessor = json.accessors?.[accessorIndex];
    expect(accessor?.count).toBe(vertices);
  }
  for (const accessor of json.accessors ?? []) {
    const view = json.bufferViews?.[accessor.bufferView ?? -1];
    const start = (view?.byteOffset ?? 0) + (accessor.byteOffset ?? 0);
    const elementBytes = COMPONENT_BYTES[accessor.componentType] * TYPE_COMPONENTS[accessor.type];
    expect(start % COMPONENT_BYTES[accessor.componentType]).toBe(0);
    expect((accessor.byteOffset ?? 0) + accessor.count * elementBytes).toBeLessThanOrEqual(view?.byteLength ?? 0);
  }
  const indices = json.accessors?.[primitive?.indices ?? -1];
  expect(indices?.count).toBe(mesh.indices.length);
  expect(indices?.type).toBe('SCALAR');
  const position = json.accessors?.[primitive?.attributes.POSITION ?? -1];
  const bounds = computeBounds(mesh.positions);
  expect(position?.componentType).toBe(5126);
  expect(position?.min).toEqual(bounds.min);
  expect(position?.max).toEqual(bounds.max);
}

describe('writeGlb', () => {
  it('writes a GLB the Khronos validator accepts for a coloured, textured face, with the texture and no COLOR_0', async () => {
    const mesh = fullFace();
    const glb = await writeGlb(mesh);
    checkStructure(glb, mesh);
    const report = await validateBytes(new Uint8Array(glb), { format: 'glb', writeTimestamp: false });
    expect(report.issues.messages.filter((message) => message.severity <= 1)).toEqual([]);
    const { json } = parseGlb(glb);
    // glTF multiplies COLOR_0 into the texture: both would darken the face in any viewer.
    expect(Object.keys(json.meshes?.[0].primitives[0].attributes ?? {}).sort()).toEqual(['NORMAL', 'POSITION', 'TEXCOORD_0']);
    expect(json.materials?.[0].pbrMetallicRoughness?.baseColorFactor).toEqual([1, 1, 1, 1]);
    expect(json.images).toEqual([{ bufferView: expect.any(Number), mimeType: 'image/png' }]);
    expect(json.materials?.[0].pbrMetallicRoughness).toMatchObject({ baseColorTexture: { index: 0 }, metallicFactor: 0 });
  });

  it('writes a valid GLB without colours or texture, with only POSITION and NORMAL', async () => {
    const mesh = { positions: cube().positions, indices: cube().indices };
    const glb = await writeGlb(mesh);
    checkStructure(glb, mesh);
    const { json } = parseGlb(glb);
    expect(Object.keys(json.meshes?.[0].primitives[0].attributes ?? {}).sort()).toEqual(['NORMAL', 'POSITION']);
    expect(json.images).toBeUndefined();
    expect(json.materials?.[0].pbrMetallicRoughness?.baseColorTexture).toBeUndefined();
  });

  it('round-trips positions, indices, uvs and the texture exactly', async () => {
    const mesh = fullFace();
    const back = await readGlb(await writeGlb(mesh));
    expect(back.positions).toEqual(mesh.positions);
    expect(back.indices).toEqual(mesh.indices);
    expect(back.uvs).toEqual(mesh.uvs);
    expect(back.texture?.width).toBe(64);
    expect(back.texture?.data).toEqual(mesh.texture?.data);
  });

  it('round-trips the sRGB colours of a mesh without a texture exactly', async () => {
    const mesh = { ...fullFace(), texture: undefined };
    const glb = await writeGlb(mesh);
    const report = await validateBytes(new Uint8Array(glb), { format: 'glb', writeTimestamp: false });
    expect(report.issues.messages.filter((message) => message.severity <= 1)).toEqual([]);
    expect((await readGlb(glb)).colors).toEqual(mesh.colors);
  });

  it('stores vertex colours linearly, as glTF requires', async () => {
    const mesh = { ...cube(), colors: new Uint8Array(24).fill(128) };
    const contents = parseGlb(await writeGlb(mesh));
    const colourAccessor = contents.json.meshes?.[0].primitives[0].attributes.COLOR_0 ?? -1;
    const linear = readAccessor(contents, colourAccessor);
    // sRGB 128 is about 21.6% of linear light, not 50%.
    for (const value of linear) expect(value).toBeCloseTo(0.2158, 3);
  });

  it('writes unit normals pointing out of a closed surface', async () => {
    const mesh = sphere(8, 16);
    const contents = parseGlb(await writeGlb(mesh));
    const normals = readAccessor(contents, contents.json.meshes?.[0].primitives[0].attributes.NORMAL ?? -1);
    for (const v of new Set(Array.from(mesh.indices, (index) => 3 * index))) {
      const [x, y, z] = [normals[v], normals[v + 1], normals[v + 2]];
      expect(Math.hypot(x, y, z)).toBeCloseTo(1, 5);
      expect(x * mesh.positions[v] + y * mesh.positions[v + 1] + z * mesh.positions[v + 2]).toBeGreaterThan(0.9);
    }
  });

  it('rejects empty meshes, and the reader rejects damaged containers', async () => {
    await expect(writeGlb({ positions: new Float32Array(0), indices: new Uint32Array(0) })).rejects.toThrow(Face3dError);
    const glb = await writeGlb(cube());
    expect(() => parseGlb(glb.subarray(0, glb.length - 4))).toThrow(Face3dError);
    const badMagic = Buffer.from(glb);
    badMagic.write('gltf', 0, 'ascii');
    expect(() => parseGlb(badMagic)).toThrow(Face3dError);
  });
});
