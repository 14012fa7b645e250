/**
 * A reader for MATLAB Level 5 MAT-files (MATLAB's -v6 and -v7 formats: uncompressed, or each
 * variable zlib-compressed as miCOMPRESSED), enough for morphable models: numeric arrays of every
 * class, char arrays, structs and cell arrays. Arrays keep MATLAB's column-major order and dims;
 * `rowMajor` transposes a matrix when a caller needs rows. Single stays float32 (BFM's bases are
 * large), every other numeric class becomes float64.
 * Layout: "MAT-File Format", MathWorks, R2024 documentation, chapter 1.
 */
import { inflateSync } from 'node:zlib';
import { Face3dError } from '../../core/errors.js';
import { transpose } from '../../core/linear-algebra.js';

const CLASS_NAMES = ['', 'cell', 'struct', 'object', 'char', 'sparse', 'double', 'single', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64'] as const;
export type MatClass = Exclude<(typeof CLASS_NAMES)[number], ''>;
export type NumericClass = Exclude<MatClass, 'cell' | 'struct' | 'object' | 'char' | 'sparse'>;

export interface MatNumeric {
  readonly kind: 'numeric';
  readonly class: NumericClass;
  readonly dims: readonly number[];
  /** Column-major. */
  readonly data: Float32Array | Float64Array;
  readonly logical: boolean;
}

export interface MatChar {
  readonly kind: 'char';
  readonly dims: readonly number[];
  /** Rows joined by newlines. */
  readonly text: string;
}

export interface MatStruct {
  readonly kind: 'struct';
  readonly dims: readonly number[];
  readonly fields: readonly string[];
  /** One map per struct-array element, column-major. */
  readonly elements: readonly ReadonlyMap<string, MatValue>[];
}

export interface MatCell {
  readonly kind: 'cell';
  readonly dims: readonly number[];
  readonly elements: readonly MatValue[];
}

export type MatValue = MatNumeric | MatChar | MatStruct | MatCell;

const MI = { INT8: 1, UINT8: 2, INT16: 3, UINT16: 4, INT32: 5, UINT32: 6, SINGLE: 7, DOUBLE: 9, INT64: 12, UINT64: 13, MATRIX: 14, COMPRESSED: 15, UTF8: 16, UTF16: 17, UTF32: 18 } as const;
const ELEMENT_BYTES: Readonly<Record<number, number>> = { 1: 1, 2: 1, 3: 2, 4: 2, 5: 4, 6: 4, 7: 4, 9: 8, 12: 8, 13: 8, 16: 1, 17: 2, 18: 4 };
const FLAG_COMPLEX = 0x800;
const FLAG_LOGICAL = 0x200;

function corrupt(why: string): never {
  throw new Face3dError('BAD_USER_INPUT', `not a readable MAT-file: ${why}`);
}

interface Element {
  readonly type: number;
  readonly start: number;
  readonly size: number;
  readonly next: number;
}

class MatParser {
  private readonly view: DataView;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly littleEndian: boolean,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Tag at `offset`: the small format packs size and type into one word with the data after it. */
  element(offset: number): Element {
    if (offset + 8 > this.bytes.length) corrupt(`truncated element tag at byte ${offset}`);
    const word = this.view.getUint32(offset, this.littleEndian);
    if (word >>> 16 !== 0) return { type: word & 0xffff, size: word >>> 16, start: offset + 4, next: offset + 8 };
    const size = this.view.getUint32(offset + 4, this.littleEndian);
    const start = offset + 8;
    if (start + size > this.bytes.length) corrupt(`element at byte ${offset} runs past the end`);
    // Compressed elements are not padded; all others end on an 8-byte boundary.
    return { type: word, size, start, next: word === MI.COMPRESSED ? start + size : start + Math.ceil(size / 8) * 8 };
  }

  /** A top-level or nested variable; compressed ones are inflated and parsed on their own. */
  variable(offset: number): { name: string; value: MatValue; next: number } {
    const element = this.element(offset);
    if (element.type === MI.COMPRESSED) {
      const inflated = inflateSync(this.bytes.subarray(element.start, element.start + element.size));
      const inner = new MatParser(new Uint8Array(inflated.buffer, inflated.byteOffset, inflated.byteLength), this.littleEndian).variable(0);
      return { ...inner, next: element.next };
    }
    if (element.type !== MI.MATRIX) corrupt(`expected a matrix element at byte ${offset}, found type ${element.type}`);
    return { ...this.matrix(element), next: element.next };
  }

  private matrix(element: Element): { name: string; value: MatValue } {
    if (element.size === 0) return { name: '', value: { kind: 'numeric', class: 'double', dims: [0, 0], data: new Float64Array(0), logical: false } };
    const flagsElement = this.element(element.start);
    const flags = this.view.getUint32(flagsElement.start, this.littleEndian);
    const className = CLASS_NAMES[flags & 0xff] || corrupt(`unknown array class ${flags & 0xff}`);
    const dimsElement = this.element(flagsElement.next);
    const dims = Array.from(this.numbers(dimsElement));
    const nameElement = this.element(dimsElement.next);
    const name = new TextDecoder('latin1').decode(this.bytes.subarray(nameElement.start, nameElement.start + nameElement.size));
    const count = dims.reduce((a, b) => a * b, 1);
    let offset = nameElement.next;
    switch (className) {
      case 'struct': {
        const lengthElement = this.element(offset);
        const fieldLength = this.numbers(lengthElement)[0];
        const namesElement = this.element(lengthElement.next);
        const fields = Array.from({ length: namesElement.size / fieldLength }, (_, i) => {
          const raw = this.bytes.subarray(namesElement.start + i * fieldLength, namesElement.start + (i + 1) * fieldLength);
          return new TextDecoder('latin1').decode(raw.subarray(0, raw.indexOf(0) < 0 ? raw.length : raw.indexOf(0)));
        });
        offset = namesElement.next;
        const elements = Array.from({ length: count }, () => {
          const values = new Map<string, MatValue>();
          for (const field of fields) {
            const parsed = this.variable(offset);
            values.set(field, parsed.value);
            offset = parsed.next;
          }
          return values;
        });
        return { name, value: { kind: 'struct', dims, fields, elements } };
      }
      case 'cell': {
        const elements = Array.from({ length: count }, () => {
          const parsed = this.variable(offset);
          offset = parsed.next;
          return parsed.value;
        });
        return { name, value: { kind: 'cell', dims, elements } };
      }
      case 'char': {
        const codes = this.numbers(this.element(offset));
        const rows = dims[0] ?? 0;
        const columns = rows === 0 ? 0 : codes.length / rows;
        const lines = Array.from({ length: rows }, (_, r) => String.fromCodePoint(...Array.from({ length: columns }, (_, c) => codes[c * rows + r])));
        return { name, value: { kind: 'char', dims, text: lines.join('\n') } };
      }
      case 'object':
      case 'sparse':
        throw new Face3dError('BAD_USER_INPUT', `MAT variable "${name}" is a ${className} array, which face3d does not read`);
      default: {
        if (flags & FLAG_COMPLEX) throw new Face3dError('BAD_USER_INPUT', `MAT variable "${name}" is complex, which face3d does not read`);
        const data = this.numbers(this.element(offset), className === 'single' ? 'single' : 'double');
        if (data.length !== count) corrupt(`variable "${name}" holds ${data.length} values for dims [${dims.join(', ')}]`);
        return { name, value: { kind: 'numeric', class: className, dims, data, logical: (flags & FLAG_LOGICAL) !== 0 } };
      }
    }
  }

  /** The element's values converted to float32 (`single`) or float64; same-type little-endian data is copied in one go. */
  private numbers(element: Element, target: 'single' | 'double' = 'double'): Float32Array | Float64Array {
    const width = ELEMENT_BYTES[element.type] ?? corrupt(`element type ${element.type} is not numeric`);
    const count = element.size / width;
    const Target = target === 'single' ? Float32Array : Float64Array;
    const sameType = (target === 'single' && element.type === MI.SINGLE) || (target === 'double' && element.type === MI.DOUBLE);
    if (sameType && this.littleEndian) return new Target(this.bytes.slice(element.start, element.start + element.size).buffer);
    const out = new Target(count);
    const read = this.reader(element.type);
    for (let i = 0; i < count; i++) out[i] = read(element.start + i * width);
    return out;
  }

  private reader(type: number): (offset: number) => number {
    const v = this.view;
    const le = this.littleEndian;
    switch (type) {
      case MI.INT8: return (o) => v.getInt8(o);
      case MI.UINT8: case MI.UTF8: return (o) => v.getUint8(o);
      case MI.INT16: return (o) => v.getInt16(o, le);
      case MI.UINT16: case MI.UTF16: return (o) => v.getUint16(o, le);
      case MI.INT32: return (o) => v.getInt32(o, le);
      case MI.UINT32: case MI.UTF32: return (o) => v.getUint32(o, le);
      case MI.SINGLE: return (o) => v.getFloat32(o, le);
      case MI.DOUBLE: return (o) => v.getFloat64(o, le);
      case MI.INT64: return (o) => Number(v.getBigInt64(o, le));
      case MI.UINT64: return (o) => Number(v.getBigUint64(o, le));
      default: return corrupt(`element type ${type} is not numeric`);
    }
  }
}

/** Every variable of a Level 5 MAT-file by name. BAD_USER_INPUT for other files, including v7.3 (HDF5) ones. */
export function readMat(bytes: Uint8Array): Map<string, MatValue> {
  if (bytes.length < 128) corrupt('shorter than the 128-byte header');
  const header = new TextDecoder('latin1').decode(bytes.subarray(0, 116));
  if (/MATLAB 7\.3/.test(header)) {
    throw new Face3dError('BAD_USER_INPUT', 'this is a MATLAB 7.3 (HDF5) MAT-file; save it with -v7 (or -v6), or give its HDF5 datasets with --h5');
  }
  const indicator = String.fromCharCode(bytes[126], bytes[127]);
  if (indicator !== 'IM' && indicator !== 'MI') corrupt('no MATLAB 5.0 endian indicator');
  const parser = new MatParser(bytes, indicator === 'IM');
  const variables = new Map<string, MatValue>();
  for (let offset = 128; offset < bytes.length; ) {
    const { name, value, next } = parser.variable(offset);
    variables.set(name, value);
    offset = next;
  }
  return variables;
}

/** A 2-D numeric array's values row by row (MATLAB stores them column by column). */
export function rowMajor(matrix: MatNumeric): Float32Array | Float64Array {
  if (matrix.dims.length !== 2) throw new RangeError(`rowMajor needs a 2-D array, got [${matrix.dims.join(', ')}]`);
  const [rows, columns] = matrix.dims;
  // Column-major rows x columns is row-major columns x rows.
  return transpose({ rows: columns, cols: rows, data: matrix.data }).data;
}
