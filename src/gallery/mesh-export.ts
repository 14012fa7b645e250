/**
 * 3DMM coefficients to downloadable mesh files: PLY (binary, or ASCII on request, with per-vertex
 * colours), OBJ with its MTL and PNG texture as separate files, or a self-contained GLB.
 */
import type { Bundle } from '../morphable/bundle.js';
import { reconstructMesh, type Coefficients } from '../morphable/reconstruct.js';
import { triangleCount, vertexCount, type Mesh } from '../mesh/mesh.js';
import { writeGlb } from '../mesh/glb.js';
import { writeObj } from '../mesh/obj.js';
import { writePly } from '../mesh/ply.js';

export const MESH_FORMATS = ['PLY', 'OBJ', 'GLB'] as const;
export type MeshFormat = (typeof MESH_FORMATS)[number];

export interface MeshFile {
  readonly name: string;
  readonly contentType: string;
  readonly bytes: Buffer;
}

export interface MeshExport {
  readonly format: MeshFormat;
  readonly vertices: number;
  readonly triangles: number;
  /** The main file first (.ply, .obj or .glb), then what it refers to (.mtl, .png). */
  readonly files: readonly MeshFile[];
}

export interface MeshExportOptions {
  /** File names are `<stem>.<ext>`; OBJ's MTL and texture are referred to by these names. */
  readonly stem: string;
  /** PLY only. */
  readonly ascii?: boolean;
}

export const MESH_EXTENSIONS: Readonly<Record<MeshFormat, string>> = { PLY: 'ply', OBJ: 'obj', GLB: 'glb' };

async function meshFiles(format: MeshFormat, mesh: Mesh, options: MeshExportOptions): Promise<MeshFile[]> {
  const { stem } = options;
  switch (format) {
    case 'PLY':
      return [{ name: `${stem}.ply`, contentType: 'application/x-ply', bytes: writePly(mesh, { format: options.ascii ? 'ascii' : 'binary' }) }];
    case 'GLB':
      return [{ name: `${stem}.glb`, contentType: 'model/gltf-binary', bytes: await writeGlb(mesh) }];
    case 'OBJ': {
      const obj = await writeObj(mesh, stem);
      return [
        { name: `${obj.baseName}.obj`, contentType: 'model/obj', bytes: Buffer.from(obj.obj, 'utf8') },
        { name: `${obj.baseName}.mtl`, contentType: 'model/mtl', bytes: Buffer.from(obj.mtl, 'utf8') },
        ...(obj.png ? [{ name: `${obj.baseName}.png`, contentType: 'image/png', bytes: obj.png }] : []),
      ];
    }
  }
}

export async function exportMesh(bundle: Bundle, coefficients: Coefficients, format: MeshFormat, options: MeshExportOptions): Promise<MeshExport> {
  const mesh = reconstructMesh(bundle, coefficients);
  return { format, vertices: vertexCount(mesh), triangles: triangleCount(mesh), files: await meshFiles(format, mesh, options) };
}
