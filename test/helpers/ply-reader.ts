/**
 * Minimal PLY reader (ascii, binary little- and big-endian) for round-trip tests and importing
 * meshes: keeps vertex x y z, red green blue (uchar, or float in [0, 1]), s t / u v / texture_u
 * texture_v, and faces (polygons fan-triangulated); every other element and property is skipped.
 */
import { Face3dError } from '../../src/core/errors.js';
import type { Mesh } from '../../src/mesh/mesh.js';

type ScalarType = 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'float32' | 'float64';

const TYPE_ALIASES: Readonly<Record<string, ScalarType>> = {
  char: 'int8', int8: 'int8', uchar: 'uint8', uint8: 'uint8',
  short: 'int16', int16: 'int16', ushort: 'uint16', uint16: 'uint16',
  int: 'int32', int32: 'int32', uint: 'uint32', uint32: 'uint32',
  float: 'float32', float32: 'float32', double: 'float64', float64: 'float64',
};

const TYPE_BYTES: Readonly<Record<ScalarType, number>> = {
  int8: 1, uint8: 1, int16: 2, uint16: 2, int32: 4, uint32: 4, float32: 4, float64: 8,
};

interface PlyProperty {
  readonly name: string;
  readonly type: ScalarType;
  /** Set for list properties: the type of the leading count. */
  readonly countType?: ScalarType;
}

interface PlyElement {
  readonly name: string;
  readonly count: number;
  readonly properties: PlyProperty[];
}

interface PlyHeader {
  readonly format: 'ascii' | 'binary_little_endian' | 'binary_big_endian';
  readonly elements: PlyElement[];
  readonly bodyOffset: number;
}

/** Reads one scalar at a time from the body, whatever its encoding. */
type ValueSource = (type: ScalarType) => number;

function corrupt(why: string): never {
  throw new Face3dError('BAD_USER_INPUT', `invalid PLY: ${why}`);
}

function scalarType(name: string): ScalarType {
  return TYPE_ALIASES[name] ?? corrupt(`unknown property type "${name}"`);
}

function parseHeader(buffer: Buffer): PlyHeader {
  const marker = buffer.indexOf('end_header');
  if (buffer.subarray(0, 3).toString('ascii') !== 'ply' || marker < 0) corrupt('missing ply magic or end_header');
  const lineEnd = buffer.indexOf('\n', marker);
  if (lineEnd < 0) corrupt('end_header line is not terminated');
  const lines = buffer.subarray(0, marker).toString('ascii').split(/\r?\n/);
  let format: PlyHeader['format'] | undefined;
  const elements: PlyElement[] = [];
  for (const line of lines) {
    const words = line.trim().split(/\s+/);
    if (words[0] === 'format') {
      if (words[1] !== 'ascii' && words[1] !== 'binary_little_endian' && words[1] !== 'binary_big_endian') {
        corrupt(`unknown format "${words[1]}"`);
      }
      format = words[1];
    } else if (words[0] === 'element') {
      const count = Number(words[2]);
      if (!Number.isInteger(count) || count < 0) corrupt(`bad element count in "${line}"`);
      elements.push({ name: words[1], count, properties: [] });
    } else if (words[0] === 'property') {
      const element = elements.at(-1) ?? corrupt('property before any element');
      element.properties.push(
        words[1] === 'list'
          ? { name: words[4], countType: scalarType(words[2]), type: scalarType(words[3]) }
          : { name: words[2], type: scalarType(words[1]) },
      );
    }
  }
  if (!format) corrupt('missing format line');
  return { format, elements, bodyOffset: lineEnd + 1 };
}

function asciiSource(text: string): ValueSource {
  const tokens = text.split(/\s+/).filter((token) => token.length > 0);
  let next = 0;
  return () => {
    if (next >= tokens.length) corrupt('body ends early');
    const value = Number(tokens[next++]);
    if (Number.isNaN(value)) corrupt(`not a number: "${tokens[next - 1]}"`);
    return value;
  };
}

function binarySource(body: Buffer, littleEndian: boolean): ValueSource {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  let offset = 0;
  return (type) => {
    if (offset + TYPE_BYTES[type] > body.byteLength) corrupt('body ends early');
    const at = offset;
    offset += TYPE_BYTES[type];
    switch (type) {
      case 'int8': return view.getInt8(at);
      case 'uint8': return view.getUint8(at);
      case 'int16': return view.getInt16(at, littleEndian);
      case 'uint16': return view.getUint16(at, littleEndian);
      case 'int32': return view.getInt32(at, littleEndian);
      case 'uint32': return view.getUint32(at, littleEndian);
      case 'float32': return view.getFloat32(at, littleEndian);
      case 'float64': return view.getFloat64(at, littleEndian);
    }
  };
}

/** Column per property name; list properties hold one array per row. */
type ElementData = Map<string, number[] | number[][]>;

function readElement(element: PlyElement, read: ValueSource): ElementData {
  const columns: ElementData = new Map(element.properties.map((p) => [p.name, [] as number[] | number[][]]));
  for (let row = 0; row < element.count; row++) {
    for (const property of element.properties) {
      const column = columns.get(property.name) as (number | number[])[];
      if (property.countType) {
        const length = read(property.countType);
        const items: number[] = [];
        for (let i = 0; i < length; i++) items.push(read(property.type));
        column.push(items);
      } else {
        column.push(read(property.type));
      }
    }
  }
  return columns;
}

function firstColumn<T extends number[] | number[][]>(data: ElementData, names: readonly string[]): T | undefined {
  const name = names.find((candidate) => data.has(candidate));
  return name === undefined ? undefined : (data.get(name) as T);
}

function colorBytes(vertex: ElementData, element: PlyElement, count: number): Uint8Array | undefined {
  const channels = ['red', 'green', 'blue'].map((name) => vertex.get(name) as number[] | undefined);
  if (channels.some((channel) => channel === undefined)) return undefined;
  const isFloat = element.properties.some((p) => p.name === 'red' && p.type.startsWith('float'));
  const colors = new Uint8Array(count * 3);
  for (let v = 0; v < count; v++) {
    for (let c = 0; c < 3; c++) {
      const value = (channels[c] as number[])[v];
      colors[3 * v + c] = isFloat ? Math.round(Math.min(1, Math.max(0, value)) * 255) : value;
    }
  }
  return colors;
}

function triangulate(faces: number[][], vertices: number): Uint32Array {
  const indices: number[] = [];
  for (const polygon of faces) {
    for (const index of polygon) {
      if (!Number.isInteger(index) || index < 0 || index >= vertices) corrupt(`face index ${index} out of range`);
    }
    for (let k = 1; k + 1 < polygon.length; k++) indices.push(polygon[0], polygon[k], polygon[k + 1]);
  }
  return Uint32Array.from(indices);
}

export function readPly(buffer: Buffer): Mesh {
  const header = parseHeader(buffer);
  const body = buffer.subarray(header.bodyOffset);
  const read =
    header.format === 'ascii'
      ? asciiSource(body.toString('ascii'))
      : binarySource(body, header.format === 'binary_little_endian');
  const data = new Map(header.elements.map((element) => [element.name, readElement(element, read)]));

  const vertexElement = header.elements.find((element) => element.name === 'vertex') ?? corrupt('no vertex element');
  const vertex = data.get('vertex') as ElementData;
  const count = vertexElement.count;
  const axes = ['x', 'y', 'z'].map((name) => vertex.get(name) as number[] | undefined);
  const positions = new Float32Array(count * 3);
  for (let axis = 0; axis < 3; axis++) {
    const column = axes[axis] ?? corrupt('vertex lacks x, y or z');
    for (let v = 0; v < count; v++) positions[3 * v + axis] = column[v];
  }

  const u = firstColumn<number[]>(vertex, ['s', 'u', 'texture_u']);
  const t = firstColumn<number[]>(vertex, ['t', 'v', 'texture_v']);
  const uvs = u && t ? Float32Array.from({ length: count * 2 }, (_, i) => (i % 2 === 0 ? u[i >> 1] : 1 - t[i >> 1])) : undefined;

  const face = data.get('face');
  const faces = face && firstColumn<number[][]>(face, ['vertex_indices', 'vertex_index']);
  const colors = colorBytes(vertex, vertexElement, count);
  return {
    positions,
    indices: triangulate(faces ?? [], count),
    ...(colors ? { colors } : {}),
    ...(uvs ? { uvs } : {}),
  };
}
