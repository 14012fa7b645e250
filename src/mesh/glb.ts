/**
 * glTF 2.0 binary (GLB) writer: one mesh, one triangle primitive with POSITION, NORMAL, TEXCOORD_0
 * and an embedded PNG base-colour texture when the mesh has them, or else COLOR_0 (linear float
 * RGB, converted from our sRGB bytes) for a coloured mesh without a texture. Every buffer view
 * starts on a 4-byte boundary, so each accessor is aligned to its component size as the
 * specification requires.
 */
import { Face3dError } from '../core/errors.js';
import {
  type AccessorType,
  type GltfAccessor,
  type GltfBufferView,
  type GltfDocument,
  type GltfMaterial,
  type GltfPrimitive,
  CHUNK_BIN,
  CHUNK_HEADER_BYTES,
  CHUNK_JSON,
  COMPONENT,
  GLB_HEADER_BYTES,
  GLB_MAGIC,
  GLB_VERSION,
  MODE_TRIANGLES,
  TARGET_ARRAY_BUFFER,
  TARGET_ELEMENT_ARRAY_BUFFER,
  TYPE_COMPONENTS,
} from './gltf.js';
import { type Mesh, computeBounds, computeVertexNormals, validateMesh, vertexCount } from './mesh.js';
import { encodePng } from './png.js';
import { srgbByteToLinear } from './srgb.js';

const LINEAR_FILTER = 9729;
const CLAMP_TO_EDGE = 33071;

function padTo4(length: number): number {
  return (length + 3) & ~3;
}

/** Collects buffer views and accessors over one binary chunk. */
class BinaryBuilder {
  readonly bufferViews: GltfBufferView[] = [];
  readonly accessors: GltfAccessor[] = [];
  private readonly parts: Buffer[] = [];
  private length = 0;

  addView(bytes: Uint8Array, target?: number): number {
    this.bufferViews.push({
      buffer: 0,
      byteOffset: this.length,
      byteLength: bytes.byteLength,
      ...(target !== undefined ? { target } : {}),
    });
    const padded = padTo4(bytes.byteLength);
    this.parts.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), Buffer.alloc(padded - bytes.byteLength));
    this.length += padded;
    return this.bufferViews.length - 1;
  }

  addAccessor(
    data: Float32Array | Uint32Array,
    type: AccessorType,
    target: number,
    bounds?: { min: number[]; max: number[] },
  ): number {
    const componentType = data instanceof Float32Array ? COMPONENT.FLOAT : COMPONENT.UNSIGNED_INT;
    this.accessors.push({
      bufferView: this.addView(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), target),
      componentType,
      count: data.length / TYPE_COMPONENTS[type],
      type,
      ...bounds,
    });
    return this.accessors.length - 1;
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.parts, this.length);
  }
}

function linearColors(colors: Uint8Array): Float32Array {
  const table = Float32Array.from({ length: 256 }, (_, byte) => srgbByteToLinear(byte));
  return Float32Array.from(colors, (byte) => table[byte]);
}

function material(textureIndex: number | undefined): GltfMaterial {
  return {
    name: 'face',
    pbrMetallicRoughness: {
      baseColorFactor: [1, 1, 1, 1],
      // The default glTF material is fully metallic, which renders skin almost black.
      metallicFactor: 0,
      roughnessFactor: 1,
      ...(textureIndex !== undefined ? { baseColorTexture: { index: textureIndex } } : {}),
    },
  };
}

function chunk(type: number, data: Buffer, padByte: number): Buffer {
  const header = Buffer.alloc(CHUNK_HEADER_BYTES);
  const padded = padTo4(data.length);
  header.writeUInt32LE(padded, 0);
  header.writeUInt32LE(type, 4);
  return Buffer.concat([header, data, Buffer.alloc(padded - data.length, padByte)]);
}

export async function writeGlb(mesh: Mesh): Promise<Buffer> {
  validateMesh(mesh);
  if (vertexCount(mesh) === 0 || mesh.indices.length === 0) {
    throw new Face3dError('BAD_USER_INPUT', 'invalid mesh: glTF needs at least one triangle');
  }
  const binary = new BinaryBuilder();
  const attributes: Record<string, number> = {
    POSITION: binary.addAccessor(mesh.positions, 'VEC3', TARGET_ARRAY_BUFFER, computeBounds(mesh.positions)),
    NORMAL: binary.addAccessor(computeVertexNormals(mesh), 'VEC3', TARGET_ARRAY_BUFFER),
  };
  // glTF multiplies COLOR_0 into the base-colour texture: a textured face with its vertex colours
  // too would render its colours squared (dark orange skin) in every viewer.
  if (mesh.colors && !mesh.texture) attributes.COLOR_0 = binary.addAccessor(linearColors(mesh.colors), 'VEC3', TARGET_ARRAY_BUFFER);
  if (mesh.uvs) attributes.TEXCOORD_0 = binary.addAccessor(mesh.uvs, 'VEC2', TARGET_ARRAY_BUFFER);
  const primitive: GltfPrimitive = {
    attributes,
    indices: binary.addAccessor(mesh.indices, 'SCALAR', TARGET_ELEMENT_ARRAY_BUFFER),
    material: 0,
    mode: MODE_TRIANGLES,
  };

  const document: GltfDocument = {
    asset: { version: '2.0', generator: 'face3d' },
    scene: 0,
    scenes: [{ nodes: [0] }],
    nodes: [{ mesh: 0, name: 'face' }],
    meshes: [{ name: 'face', primitives: [primitive] }],
    materials: [material(mesh.texture ? 0 : undefined)],
  };
  if (mesh.texture) {
    const imageView = binary.addView(await encodePng(mesh.texture));
    document.images = [{ bufferView: imageView, mimeType: 'image/png' }];
    document.samplers = [{ magFilter: LINEAR_FILTER, minFilter: LINEAR_FILTER, wrapS: CLAMP_TO_EDGE, wrapT: CLAMP_TO_EDGE }];
    document.textures = [{ source: 0, sampler: 0 }];
  }
  const bin = binary.toBuffer();
  document.accessors = binary.accessors;
  document.bufferViews = binary.bufferViews;
  document.buffers = [{ byteLength: bin.length }];

  const chunks = Buffer.concat([
    chunk(CHUNK_JSON, Buffer.from(JSON.stringify(document), 'utf8'), 0x20),
    chunk(CHUNK_BIN, bin, 0),
  ]);
  const header = Buffer.alloc(GLB_HEADER_BYTES);
  header.writeUInt32LE(GLB_MAGIC, 0);
  header.writeUInt32LE(GLB_VERSION, 4);
  header.writeUInt32LE(GLB_HEADER_BYTES + chunks.length, 8);
  return Buffer.concat([header, chunks]);
}
