/**
 * 3DMM coefficients to downloadable mesh files: PLY (binary, or ASCII on request, with per-vertex
 * colours), OBJ with its MTL and PNG texture as separate files, or a self-contained GLB.
 *
 * A FaceMesh face is exported denser and sharper than the model holds it (issue 14): two levels of
 * Loop subdivision (468 → 7,152 vertices, a smooth surface whose normals the writers derive), and a
 * texture of at least EXPORT_TEXTURE_SIZE²: the face's own photos unwrapped where the caller has
 * them (`photoTexture` in inference/face-texture.ts), the model's 64² resampled elsewhere; and the
 * same photos' shading refines its depth (`shading-refine.ts`). The vector stays the model's
 * 99 + 99 coefficients; only the download is sharper and deeper.
 */
import sharp from 'sharp';
import type { Bundle } from '../morphable/bundle.js';
import type { RgbImage } from '../core/image.js';
import { subdivide } from '../mesh/subdivide.js';
import { photoTexture, type FacePhoto } from '../inference/face-texture.js';
import { colorsFromTexture, reconstructMesh, type Coefficients } from '../morphable/reconstruct.js';
import { downloadedShape, photoIntensity } from '../morphable/shading-refine.js';
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

/** Levels of Loop subdivision for FaceMesh faces. */
export const EXPORT_SUBDIVISIONS = 2;
/** The least side of an exported texture. */
export const EXPORT_TEXTURE_SIZE = 256;

/** `texture` resampled (bicubic) to at least EXPORT_TEXTURE_SIZE on a side. */
async function exportTexture(texture: RgbImage): Promise<RgbImage> {
  if (texture.width >= EXPORT_TEXTURE_SIZE && texture.height >= EXPORT_TEXTURE_SIZE) return texture;
  const factor = Math.ceil(EXPORT_TEXTURE_SIZE / Math.min(texture.width, texture.height));
  const [width, height] = [texture.width * factor, texture.height * factor];
  const data = await sharp(texture.data, { raw: { width: texture.width, height: texture.height, channels: 3 } }).resize(width, height, { kernel: 'cubic' }).raw().toBuffer();
  return { width, height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/** Whether `bundle`'s downloads are subdivided and textured from the face's photos (FaceMesh topology): callers need not read photos otherwise. */
export function exportsFromPhotos(bundle: Bundle): boolean {
  return bundle.manifest.topology === 'mediapipe-facemesh-468';
}

/**
 * The shape refined by the shading of the face's own photos (`downloadedShape`, the product's
 * method, issue 14, docs/BENCHMARKS.md §33, §42, §46, §50: one joint photometric-stereo fit where the
 * photos are lit from different directions and the fit explains them, else each photo refined, then
 * pooled): nearer real depth on Yale B; on everyday photos its person-specific part barely agrees
 * with full profiles. The vector, and so identification, is untouched.
 */
function shadedShape(mesh: Mesh, photos: readonly FacePhoto[]): Mesh {
  if (photos.length === 0) return mesh;
  return { ...mesh, positions: downloadedShape(mesh.positions, photos.map((photo) => ({ image: photoIntensity(photo.image), landmarks: photo.landmarks }))) };
}

/**
 * A FaceMesh face's reconstruction as downloaded: its depth refined by the shading of `photos` of
 * the face and textured from them where there are any (else by the model's texture resampled),
 * subdivided: the CPU-heavy part of a download (shading refinement, unwrap, subdivision).
 */
async function sharpenedMesh(mesh: Mesh, photos: readonly FacePhoto[]): Promise<Mesh> {
  const shaded = shadedShape(mesh, photos);
  const model = shaded.texture && (await exportTexture(shaded.texture));
  const sharper = model && photos.length > 0 ? photoTexture(photos, model) : model;
  const dense = subdivide({ ...shaded, ...(sharper && { texture: sharper }) }, EXPORT_SUBDIVISIONS);
  // Every new vertex takes its colour from the texture, not from its parents' average.
  return sharper && dense.uvs ? { ...dense, colors: colorsFromTexture(sharper, dense.uvs) } : dense;
}

/** The mesh as downloaded: the reconstruction, sharpened (`sharpenedMesh`) for FaceMesh faces. */
export async function exportableMesh(bundle: Bundle, coefficients: Coefficients, photos: readonly FacePhoto[] = []): Promise<Mesh> {
  const reconstructed = reconstructMesh(bundle, coefficients);
  return exportsFromPhotos(bundle) ? sharpenedMesh(reconstructed, photos) : reconstructed;
}

/** A download's work once the face is reconstructed: all of it in plain data, so a worker thread can do it. */
export interface MeshExportJob {
  readonly reconstructed: Mesh;
  /** Whether to sharpen it (`exportsFromPhotos`). */
  readonly sharpen: boolean;
  readonly photos: readonly FacePhoto[];
  readonly format: MeshFormat;
  readonly options: MeshExportOptions;
}

/** The job's files: the mesh sharpened where asked, written in its format. */
export async function runMeshExport(job: MeshExportJob): Promise<MeshExport> {
  const mesh = job.sharpen ? await sharpenedMesh(job.reconstructed, job.photos) : job.reconstructed;
  return { format: job.format, vertices: vertexCount(mesh), triangles: triangleCount(mesh), files: await meshFiles(job.format, mesh, job.options) };
}

/** Runs {@link runMeshExport}, in this thread or another (`MeshPool`): the same bytes either way. */
export type MeshExporter = (job: MeshExportJob) => Promise<MeshExport>;

export async function exportMesh(
  bundle: Bundle,
  coefficients: Coefficients,
  format: MeshFormat,
  options: MeshExportOptions & { photos?: readonly FacePhoto[]; exporter?: MeshExporter },
): Promise<MeshExport> {
  const job = { reconstructed: reconstructMesh(bundle, coefficients), sharpen: exportsFromPhotos(bundle), photos: options.photos ?? [], format, options: { stem: options.stem, ascii: options.ascii } };
  return (options.exporter ?? runMeshExport)(job);
}
