/**
 * A MATLAB Level 5 MAT-file writer for tests (uncompressed or miCOMPRESSED, either byte order),
 * so the reader is checked against files built here rather than licensed ones. Writes the small
 * element format wherever data fits in 4 bytes, as MATLAB does.
 */
import { deflateSync } from 'node:zlib';

export type StoredType = 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'single' | 'double';

export type MatInput =
  /** `data` column-major; `storedAs` lets a double array be stored in a narrower type, as MATLAB does for integer values. */
  | { readonly kind: 'numeric'; readonly class: 'double' | 'single' | 'int32' | 'uint8'; readonly dims: readonly number[]; readonly data: ArrayLike<number>; readonly storedAs?: StoredType }
  | { readonly kind: 'char'; readonly text: string }
  | { readonly kind: 'struct'; readonly fields: Readonly<Record<string, MatInput>> }
  | { readonly kind: 'cell'; readonly elements: readonly MatInput[] };

const MI_TYPE: Record<StoredType, number> = { int8: 1, uint8: 2, int16: 3, uint16: 4, int32: 5, uint32: 6, single: 7, double: 9 };
const WIDTH: Record<StoredType, number> = { int8: 1, uint8: 1, int16: 2, uint16: 2, int32: 4, uint32: 4, single: 4, double: 8 };
const CLASS: Record<string, number> = { cell: 1, struct: 2, char: 4, double: 6, single: 7, int32: 12, uint8: 9 };

/** A rows x columns matrix given row by row, stored column-major as MATLAB does. */
export function matMatrix(rows: number, columns: number, rowMajorValues: ArrayLike<number>, cls: 'double' | 'single' | 'int32' | 'uint8' = 'double', storedAs?: StoredType): MatInput {
  const data = new Float64Array(rows * columns);
  for (let r = 0; r < rows; r++) for (let c = 0; c < columns; c++) data[c * rows + r] = rowMajorValues[r * columns + c];
  return { kind: 'numeric', class: cls, dims: [rows, columns], data, storedAs };
}

export function matColumn(values: ArrayLike<number>, cls: 'double' | 'single' = 'double'): MatInput {
  return { kind: 'numeric', class: cls, dims: [values.length, 1], data: values };
}

class Writer {
  constructor(private readonly littleEndian: boolean) {}

  element(type: number, payload: Uint8Array): Uint8Array {
    if (payload.length <= 4 && payload.length > 0 && type !== 14) {
      const out = new Uint8Array(8);
      new DataView(out.buffer).setUint32(0, (payload.length << 16) | type, this.littleEndian);
      out.set(payload, 4);
      return out;
    }
    const padded = Math.ceil(payload.length / 8) * 8;
    const out = new Uint8Array(8 + padded);
    const view = new DataView(out.buffer);
    view.setUint32(0, type, this.littleEndian);
    view.setUint32(4, payload.length, this.littleEndian);
    out.set(payload, 8);
    return out;
  }

  numbers(type: StoredType, values: ArrayLike<number>): Uint8Array {
    const out = new Uint8Array(values.length * WIDTH[type]);
    const view = new DataView(out.buffer);
    const le = this.littleEndian;
    const setters: Record<StoredType, (o: number, v: number) => void> = {
      int8: (o, v) => view.setInt8(o, v), uint8: (o, v) => view.setUint8(o, v), int16: (o, v) => view.setInt16(o, v, le), uint16: (o, v) => view.setUint16(o, v, le),
      int32: (o, v) => view.setInt32(o, v, le), uint32: (o, v) => view.setUint32(o, v, le), single: (o, v) => view.setFloat32(o, v, le), double: (o, v) => view.setFloat64(o, v, le),
    };
    for (let i = 0; i < values.length; i++) setters[type](i * WIDTH[type], values[i]);
    return this.element(MI_TYPE[type], out);
  }

  matrix(name: string, value: MatInput): Uint8Array {
    const dims = value.kind === 'numeric' ? value.dims : value.kind === 'char' ? [1, value.text.length] : value.kind === 'cell' ? [1, value.elements.length] : [1, 1];
    const cls = value.kind === 'numeric' ? value.class : value.kind;
    const parts = [this.numbers('uint32', [CLASS[cls], 0]), this.numbers('int32', dims), this.element(1, new TextEncoder().encode(name))];
    if (value.kind === 'numeric') parts.push(this.numbers(value.storedAs ?? (value.class === 'single' ? 'single' : value.class === 'double' ? 'double' : value.class), value.data));
    if (value.kind === 'char') parts.push(this.numbers('uint16', Array.from(value.text, (c) => c.charCodeAt(0))));
    if (value.kind === 'cell') for (const element of value.elements) parts.push(this.matrix('', element));
    if (value.kind === 'struct') {
      const names = Object.keys(value.fields);
      const length = Math.max(...names.map((n) => n.length)) + 1;
      const packed = new Uint8Array(length * names.length);
      names.forEach((n, i) => packed.set(new TextEncoder().encode(n), i * length));
      parts.push(this.numbers('int32', [length]), this.element(1, packed));
      for (const n of names) parts.push(this.matrix('', value.fields[n]));
    }
    return this.element(14, concat(parts));
  }
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export function writeMat(variables: Readonly<Record<string, MatInput>>, options: { compress?: boolean; bigEndian?: boolean } = {}): Uint8Array {
  const writer = new Writer(!options.bigEndian);
  const header = new Uint8Array(128).fill(0x20);
  header.set(new TextEncoder().encode('MATLAB 5.0 MAT-file, written by face3d tests'), 0);
  header.fill(0, 116, 124);
  new DataView(header.buffer).setUint16(124, 0x0100, !options.bigEndian);
  header.set(new TextEncoder().encode(options.bigEndian ? 'MI' : 'IM'), 126);
  const body = Object.entries(variables).map(([name, value]) => {
    const matrix = writer.matrix(name, value);
    if (!options.compress) return matrix;
    const compressed = deflateSync(matrix);
    const tag = new Uint8Array(8);
    new DataView(tag.buffer).setUint32(0, 15, !options.bigEndian);
    new DataView(tag.buffer).setUint32(4, compressed.length, !options.bigEndian);
    return concat([tag, compressed]);
  });
  return concat([header, ...body]);
}
