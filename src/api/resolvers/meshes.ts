import type { MeshTarget } from '../../gallery/gallery.js';
import type { MeshExport, MeshFormat } from '../../gallery/mesh-export.js';
import type { FaceVectorRecord } from '../../store/records.js';
import type { RequestContext } from '../context.js';
import { meshUrl, type MeshRequest } from '../downloads.js';

/** What `Mesh` fields resolve from; the files are made only if a field needs them, once. */
interface MeshParent {
  readonly request: MeshRequest;
  readonly baseUrl: string;
  readonly files: () => Promise<MeshExport>;
}

interface MeshArgs {
  readonly format: MeshFormat;
  readonly expression: boolean;
  readonly bundle?: string | null;
}

/** `Subject.mesh` / `Face.mesh`: null until there are coefficients to reconstruct from. */
export function meshField(kind: MeshTarget['kind']) {
  return (parent: { id: string }, args: MeshArgs, ctx: RequestContext): MeshParent | null => {
    const { gallery } = ctx.services;
    const target = { kind, id: parent.id };
    if (!gallery.hasMesh(target, args.bundle)) return null;
    const request: MeshRequest = { target, format: args.format, expression: args.expression, ascii: false, bundle: args.bundle ?? null };
    let exported: Promise<MeshExport> | undefined;
    return { request, baseUrl: ctx.baseUrl, files: () => (exported ??= gallery.meshOf(target, args.format, request)) };
  };
}

export const meshResolvers = {
  Mesh: {
    format: (parent: MeshParent) => parent.request.format,
    url: (parent: MeshParent) => meshUrl(parent.baseUrl, parent.request),
    vertices: async (parent: MeshParent) => (await parent.files()).vertices,
    triangles: async (parent: MeshParent) => (await parent.files()).triangles,
    bytes: async (parent: MeshParent) => (await parent.files()).files[0].bytes.length,
    files: async (parent: MeshParent) =>
      (await parent.files()).files.map((file) => ({
        name: file.name,
        url: meshUrl(parent.baseUrl, parent.request, file.name),
        contentType: file.contentType,
        bytes: file.bytes.length,
      })),
  },
  /** Any record with a bundle id and coefficient arrays (stored vectors, probes, templates). */
  Vector: {
    bundle: (parent: FaceVectorRecord) => parent.bundleId,
    shape: (parent: FaceVectorRecord) => Array.from(parent.shape),
    texture: (parent: FaceVectorRecord) => Array.from(parent.texture),
  },
};
