/**
 * Stanford PLY writer: float x y z, float nx ny nz (area-weighted vertex normals, so MeshLab and
 * Blender shade the surface smooth), optional uchar red green blue and float s t per vertex, and
 * `list uchar uint vertex_indices` faces. s, t follow the OpenGL convention PLY viewers expect
 * (t grows upwards), so t = 1 - v of our mesh.
 */
import { type Mesh, computeVertexNormals, validateMesh, vertexCount, triangleCount } from './mesh.js';

export type PlyFormat = 'binary' | 'ascii';

export interface PlyWriteOptions {
  /** 'binary' (little-endian, the default) is compact; 'ascii' is for eyeballing and diffing. */
  readonly format?: PlyFormat;
}

const FACE_RECORD_BYTES = 1 + 3 * 4;

export function writePly(mesh: Mesh, options: PlyWriteOptions = {}): Buffer {
  validateMesh(mesh);
  const format = options.format ?? 'binary';
  const header = plyHeader(mesh, format);
  return format === 'ascii'
    ? Buffer.from(header + asciiBody(mesh), 'utf8')
    : Buffer.concat([Buffer.from(header, 'ascii'), binaryBody(mesh)]);
}

function plyHeader(mesh: Mesh, format: PlyFormat): string {
  const lines = [
    'ply',
    `format ${format === 'ascii' ? 'ascii' : 'binary_little_endian'} 1.0`,
    'comment face3d mesh',
    `element vertex ${vertexCount(mesh)}`,
    'property float x',
    'property float y',
    'property float z',
    'property float nx',
    'property float ny',
    'property float nz',
  ];
  if (mesh.colors) lines.push('property uchar red', 'property uchar green', 'property uchar blue');
  if (mesh.uvs) lines.push('property float s', 'property float t');
  lines.push(`element face ${triangleCount(mesh)}`, 'property list uchar uint vertex_indices', 'end_header');
  return lines.join('\n') + '\n';
}

function vertexRecordBytes(mesh: Mesh): number {
  return 24 + (mesh.colors ? 3 : 0) + (mesh.uvs ? 8 : 0);
}

function binaryBody(mesh: Mesh): Buffer {
  const vertices = vertexCount(mesh);
  const triangles = triangleCount(mesh);
  const body = Buffer.alloc(vertices * vertexRecordBytes(mesh) + triangles * FACE_RECORD_BYTES);
  const normals = computeVertexNormals(mesh);
  let offset = 0;
  for (let v = 0; v < vertices; v++) {
    for (let axis = 0; axis < 3; axis++) offset = body.writeFloatLE(mesh.positions[3 * v + axis], offset);
    for (let axis = 0; axis < 3; axis++) offset = body.writeFloatLE(normals[3 * v + axis], offset);
    if (mesh.colors) {
      for (let channel = 0; channel < 3; channel++) offset = body.writeUInt8(mesh.colors[3 * v + channel], offset);
    }
    if (mesh.uvs) {
      offset = body.writeFloatLE(mesh.uvs[2 * v], offset);
      offset = body.writeFloatLE(1 - mesh.uvs[2 * v + 1], offset);
    }
  }
  for (let t = 0; t < triangles; t++) {
    offset = body.writeUInt8(3, offset);
    for (let corner = 0; corner < 3; corner++) offset = body.writeUInt32LE(mesh.indices[3 * t + corner], offset);
  }
  return body;
}

function asciiBody(mesh: Mesh): string {
  const lines: string[] = [];
  const normals = computeVertexNormals(mesh);
  for (let v = 0; v < vertexCount(mesh); v++) {
    const fields: number[] = [...mesh.positions.subarray(3 * v, 3 * v + 3), ...normals.subarray(3 * v, 3 * v + 3)];
    if (mesh.colors) fields.push(...mesh.colors.subarray(3 * v, 3 * v + 3));
    if (mesh.uvs) fields.push(mesh.uvs[2 * v], 1 - mesh.uvs[2 * v + 1]);
    lines.push(fields.join(' '));
  }
  for (let t = 0; t < triangleCount(mesh); t++) {
    lines.push(`3 ${mesh.indices[3 * t]} ${mesh.indices[3 * t + 1]} ${mesh.indices[3 * t + 2]}`);
  }
  return lines.join('\n') + '\n';
}
