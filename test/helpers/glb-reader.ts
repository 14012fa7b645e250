/**
 * Minimal GLB reader: checks the container (magic, version, lengths, chunk order and padding),
 * reads accessors (any component type, strided or tight) and turns the first primitive of the first
 * mesh back into a `Mesh`. Enough for round-trip tests and for importing simple single-mesh files.
 */
import sharp from 'sharp';

import { Face3dError } from '../../src/core/errors.js';
import {
  type GltfAccessor,
  type GltfDocument,
  CHUNK_BIN,
  CHUNK_HEADER_BYTES,
  CHUNK_JSON,
  COMPONENT,
  COMPONENT_BYTES,
  GLB_HEADER_BYTES,
  GLB_MAGIC,
  GLB_VERSION,
  TYPE_COMPONENTS,
} from '../../src/mesh/gltf.js';
import type { Mesh } from '../../src/mesh/mesh.js';
import { linearToSrgbByte } from '../../src/mesh/srgb.js';

export interface GlbContents {
  readonly json: GltfDocument;
  /** The BIN chunk's data; empty when the file has none. */
  readonly bin: Buffer;
}

function corrupt(why: string): never {
  throw new Face3dError('BAD_USER_INPUT', `invalid GLB: ${why}`);
}

export function parseGlb(buffer: Buffer): GlbContents {
  if (buffer.length < GLB_HEADER_BYTES + CHUNK_HEADER_BYTES) corrupt('shorter than its headers');
  if (buffer.readUInt32LE(0) !== GLB_MAGIC) corrupt('bad magic');
  if (buffer.readUInt32LE(4) !== GLB_VERSION) corrupt(`unsupported version ${buffer.readUInt32LE(4)}`);
  if (buffer.readUInt32LE(8) !== buffer.length) corrupt('header length differs from the file size');
  const chunks: { type: number; data: Buffer }[] = [];
  let offset = GLB_HEADER_BYTES;
  while (offset < buffer.length) {
    if (offset + CHUNK_HEADER_BYTES > buffer.length) corrupt('truncated chunk header');
    const length = buffer.readUInt32LE(offset);
    const type = buffer.readUInt32LE(offset + 4);
    if (length % 4 !== 0) corrupt('chunk length is not a multiple of 4');
    const start = offset + CHUNK_HEADER_BYTES;
    if (start + length > buffer.length) corrupt('chunk runs past the end of the file');
    chunks.push({ type, data: buffer.subarray(start, start + length) });
    offset = start + length;
  }
  if (chunks[0]?.type !== CHUNK_JSON) corrupt('first chunk is not JSON');
  let json: GltfDocument;
  try {
    json = JSON.parse(chunks[0].data.toString('utf8')) as GltfDocument;
  } catch (cause) {
    throw new Face3dError('BAD_USER_INPUT', 'invalid GLB: JSON chunk does not parse', { cause });
  }
  const binChunk = chunks[1];
  if (binChunk && binChunk.type !== CHUNK_BIN) corrupt('second chunk is not BIN');
  return { json, bin: binChunk ? binChunk.data : Buffer.alloc(0) };
}

type ComponentArray = Float32Array | Uint32Array | Uint16Array | Int16Array | Uint8Array | Int8Array;

function componentReader(view: DataView, componentType: number): (at: number) => number {
  switch (componentType) {
    case COMPONENT.FLOAT: return (at) => view.getFloat32(at, true);
    case COMPONENT.UNSIGNED_INT: return (at) => view.getUint32(at, true);
    case COMPONENT.UNSIGNED_SHORT: return (at) => view.getUint16(at, true);
    case COMPONENT.SHORT: return (at) => view.getInt16(at, true);
    case COMPONENT.UNSIGNED_BYTE: return (at) => view.getUint8(at);
    case COMPONENT.BYTE: return (at) => view.getInt8(at);
    default: return corrupt(`unknown componentType ${componentType}`);
  }
}

function emptyArray(componentType: number, length: number): ComponentArray {
  switch (componentType) {
    case COMPONENT.FLOAT: return new Float32Array(length);
    case COMPONENT.UNSIGNED_INT: return new Uint32Array(length);
    case COMPONENT.UNSIGNED_SHORT: return new Uint16Array(length);
    case COMPONENT.SHORT: return new Int16Array(length);
    case COMPONENT.UNSIGNED_BYTE: return new Uint8Array(length);
    case COMPONENT.BYTE: return new Int8Array(length);
    default: return corrupt(`unknown componentType ${componentType}`);
  }
}

/** The accessor's elements, copied out tightly packed, in the accessor's own component type. */
export function readAccessor({ json, bin }: GlbContents, index: number): ComponentArray {
  const accessor: GltfAccessor = json.accessors?.[index] ?? corrupt(`no accessor ${index}`);
  const components = TYPE_COMPONENTS[accessor.type] ?? corrupt(`unknown accessor type ${accessor.type}`);
  const componentBytes = COMPONENT_BYTES[accessor.componentType] ?? corrupt('unknown componentType');
  const out = emptyArray(accessor.componentType, accessor.count * components);
  if (accessor.bufferView === undefined) return out; // glTF: all zeros
  const view = json.bufferViews?.[accessor.bufferView] ?? corrupt(`no bufferView ${accessor.bufferView}`);
  if (view.buffer !== 0) corrupt('only the embedded BIN buffer is supported');
  const start = (view.byteOffset ?? 0) + (accessor.byteOffset ?? 0);
  const stride = view.byteStride ?? components * componentBytes;
  const lastByte = start + (accessor.count - 1) * stride + components * componentBytes;
  if (accessor.count > 0 && (lastByte > (view.byteOffset ?? 0) + view.byteLength || lastByte > bin.length)) {
    corrupt(`accessor ${index} runs past its bufferView`);
  }
  const read = componentReader(new DataView(bin.buffer, bin.byteOffset, bin.byteLength), accessor.componentType);
  for (let element = 0; element < accessor.count; element++) {
    for (let c = 0; c < components; c++) {
      out[element * components + c] = read(start + element * stride + c * componentBytes);
    }
  }
  return out;
}

/** Linear COLOR_0 (float, or normalised unsigned integers; RGB or RGBA) to sRGB bytes. */
function srgbColors(contents: GlbContents, index: number): Uint8Array {
  const accessor = contents.json.accessors?.[index] ?? corrupt(`no accessor ${index}`);
  const values = readAccessor(contents, index);
  const components = TYPE_COMPONENTS[accessor.type];
  const scale = accessor.componentType === COMPONENT.FLOAT ? 1 : 2 ** (8 * COMPONENT_BYTES[accessor.componentType]) - 1;
  const colors = new Uint8Array(accessor.count * 3);
  for (let v = 0; v < accessor.count; v++) {
    for (let c = 0; c < 3; c++) colors[3 * v + c] = linearToSrgbByte(values[v * components + c] / scale);
  }
  return colors;
}

async function embeddedTexture(contents: GlbContents, materialIndex: number | undefined): Promise<Mesh['texture']> {
  const { json, bin } = contents;
  const textureIndex = json.materials?.[materialIndex ?? -1]?.pbrMetallicRoughness?.baseColorTexture?.index;
  const imageIndex = json.textures?.[textureIndex ?? -1]?.source;
  const viewIndex = json.images?.[imageIndex ?? -1]?.bufferView;
  const view = json.bufferViews?.[viewIndex ?? -1];
  if (!view) return undefined;
  const start = view.byteOffset ?? 0;
  const { data, info } = await sharp(bin.subarray(start, start + view.byteLength))
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: info.width, height: info.height };
}

/** The first primitive of the first mesh (triangles only); node transforms are not applied. */
export async function readGlb(buffer: Buffer): Promise<Mesh> {
  const contents = parseGlb(buffer);
  const primitive = contents.json.meshes?.[0]?.primitives[0] ?? corrupt('no mesh primitive');
  if ((primitive.mode ?? 4) !== 4) corrupt('only triangle primitives are supported');
  const { POSITION, COLOR_0, TEXCOORD_0 } = primitive.attributes;
  if (POSITION === undefined) corrupt('primitive has no POSITION');
  const positions = Float32Array.from(readAccessor(contents, POSITION));
  const count = positions.length / 3;
  const indices =
    primitive.indices === undefined
      ? Uint32Array.from({ length: count }, (_, i) => i)
      : Uint32Array.from(readAccessor(contents, primitive.indices));
  const texture = await embeddedTexture(contents, primitive.material);
  return {
    positions,
    indices,
    ...(COLOR_0 !== undefined ? { colors: srgbColors(contents, COLOR_0) } : {}),
    ...(TEXCOORD_0 !== undefined ? { uvs: Float32Array.from(readAccessor(contents, TEXCOORD_0)) } : {}),
    ...(texture ? { texture } : {}),
  };
}
