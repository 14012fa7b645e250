/**
 * Wavefront OBJ + MTL (+ PNG texture) writer. Vertex colours use the widespread `v x y z r g b`
 * extension (MeshLab, Blender, three.js read it); vt flips v because OBJ's t grows upwards.
 */
import { type Mesh, computeVertexNormals, validateMesh, vertexCount, triangleCount } from './mesh.js';
import { encodePng } from './png.js';

export interface ObjFiles {
  /** File stem the OBJ refers to: write `${baseName}.obj`, `${baseName}.mtl`, `${baseName}.png`. */
  readonly baseName: string;
  readonly obj: string;
  readonly mtl: string;
  /** Present when the mesh has a texture. */
  readonly png?: Buffer;
}

/** Six decimals keep sub-micrometre detail for metre-scale meshes and round-trip float32 UVs closely. */
function formatNumber(value: number): string {
  return String(Math.round(value * 1e6) / 1e6);
}

/** The name ends up in file names and in `mtllib`/`usemtl` lines, where spaces and paths break readers. */
function safeBaseName(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^\.+/, '');
  return cleaned.length > 0 ? cleaned : 'mesh';
}

function faceCorner(index: number, hasUvs: boolean): string {
  const oneBased = index + 1;
  return hasUvs ? `${oneBased}/${oneBased}/${oneBased}` : `${oneBased}//${oneBased}`;
}

function objText(mesh: Mesh, baseName: string): string {
  const lines = ['# face3d mesh', `mtllib ${baseName}.mtl`, `o ${baseName}`];
  for (let v = 0; v < vertexCount(mesh); v++) {
    const fields = Array.from(mesh.positions.subarray(3 * v, 3 * v + 3), formatNumber);
    if (mesh.colors) fields.push(...Array.from(mesh.colors.subarray(3 * v, 3 * v + 3), (c) => formatNumber(c / 255)));
    lines.push(`v ${fields.join(' ')}`);
  }
  if (mesh.uvs) {
    for (let v = 0; v < vertexCount(mesh); v++) {
      lines.push(`vt ${formatNumber(mesh.uvs[2 * v])} ${formatNumber(1 - mesh.uvs[2 * v + 1])}`);
    }
  }
  const normals = computeVertexNormals(mesh);
  for (let v = 0; v < vertexCount(mesh); v++) {
    lines.push(`vn ${Array.from(normals.subarray(3 * v, 3 * v + 3), formatNumber).join(' ')}`);
  }
  lines.push(`usemtl ${baseName}`);
  const hasUvs = mesh.uvs !== undefined;
  for (let t = 0; t < triangleCount(mesh); t++) {
    const corners = Array.from(mesh.indices.subarray(3 * t, 3 * t + 3), (index) => faceCorner(index, hasUvs));
    lines.push(`f ${corners.join(' ')}`);
  }
  return lines.join('\n') + '\n';
}

function mtlText(baseName: string, textured: boolean): string {
  const lines = [`newmtl ${baseName}`, 'Ka 0 0 0', 'Kd 1 1 1', 'Ks 0 0 0', 'd 1', 'illum 1'];
  if (textured) lines.push(`map_Kd ${baseName}.png`);
  return lines.join('\n') + '\n';
}

export async function writeObj(mesh: Mesh, name: string): Promise<ObjFiles> {
  validateMesh(mesh);
  const baseName = safeBaseName(name);
  return {
    baseName,
    obj: objText(mesh, baseName),
    mtl: mtlText(baseName, mesh.texture !== undefined),
    ...(mesh.texture ? { png: await encodePng(mesh.texture) } : {}),
  };
}
