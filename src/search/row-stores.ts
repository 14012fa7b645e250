/**
 * Dense storage of unit vectors, one row after another in one typed array, in three encodings:
 * float32 (exact), float16 (half the memory) and int8 codes with a per-row scale (a quarter).
 * Rows stay dense: the owner fills holes by moving the last row in.
 *
 * float32 rows are scanned by usearch's native SIMD kernel, then re-scored here (see
 * bounded-scan.ts), so results equal a plain exact scan. int8 codes offer the same native scan as
 * candidates for a float32 copy. The JavaScript kernel, used for float16, scores four rows per pass
 * so that each query value read serves four rows, on float32 decoded block by block into a small
 * scratch, which keeps the kernel's element loads monomorphic for V8.
 */
import { exactTopK, nativeNearest, type BoundedScan } from './bounded-scan.js';
import { float16Table, toFloat16Bits } from './float16.js';
import { codeDirectionError, encodeInt8 } from './int8.js';
import type { TopK } from './top-k.js';

export type StorageKind = 'float32' | 'float16' | 'int8';

export interface RowStore {
  readonly kind: StorageKind;
  /** Bytes one stored row occupies. */
  readonly bytesPerRow: number;
  reserve(rows: number): void;
  write(row: number, unit: Float32Array): void;
  move(from: number, to: number): void;
  /** The stored vector, decoded (a copy). */
  read(row: number): Float32Array;
  dot(row: number, unit: Float32Array): number;
  /** Offers rows [0, count) with their dot products with `unit` to `top`. */
  scan(unit: Float32Array, count: number, top: TopK): void;
}

/** Rows decoded at a time by the compact stores: 64 rows of 198 floats stay within L2. */
const DECODE_BLOCK_ROWS = 64;
/** Bounds the native float32 dot product's rounding (under 1e-5 for unit vectors of a few hundred values). */
const FLOAT32_SCAN_ERROR = 1e-4;
/** Bounds the native cosine's own rounding on int8 codes, beside their quantisation error. */
const INT8_SCAN_SLACK = 1e-3;
/** Extra candidates of the first native round: near-ties at the k-th place rarely need a second. */
const FIRST_ROUND_EXTRA = 16;

/** Scores `count` rows of `data` starting at `first`; reports them to `top` as `first + rowBase + i`. */
function scanFloat32(data: Float32Array, dimension: number, first: number, count: number, unit: Float32Array, top: TopK, rowBase: number): void {
  const end = first + count;
  let row = first;
  for (; row + 4 <= end; row += 4) {
    const o0 = row * dimension;
    const o1 = o0 + dimension;
    const o2 = o1 + dimension;
    const o3 = o2 + dimension;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let i = 0; i < dimension; i++) {
      const q = unit[i];
      s0 += data[o0 + i] * q;
      s1 += data[o1 + i] * q;
      s2 += data[o2 + i] * q;
      s3 += data[o3 + i] * q;
    }
    const base = rowBase + row;
    if (s0 >= top.floor) top.offer(base, s0);
    if (s1 >= top.floor) top.offer(base + 1, s1);
    if (s2 >= top.floor) top.offer(base + 2, s2);
    if (s3 >= top.floor) top.offer(base + 3, s3);
  }
  for (; row < end; row++) {
    const score = dotAt(data, row * dimension, unit);
    if (score >= top.floor) top.offer(rowBase + row, score);
  }
}

function dotAt(data: Float32Array, offset: number, unit: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < unit.length; i++) sum += data[offset + i] * unit[i];
  return sum;
}

/** `array` able to hold `rows` rows of `width` values: itself, or a copy at least twice as long. */
function withRowCapacity<T extends Float32Array | Uint16Array | Int8Array>(array: T, rows: number, width: number): T {
  if (rows * width <= array.length) return array;
  const grown = new (array.constructor as new (length: number) => T)(Math.max(rows, 2 * (array.length / width)) * width);
  grown.set(array);
  return grown;
}

export class Float32Rows implements RowStore {
  readonly kind = 'float32';
  readonly bytesPerRow: number;
  private data: Float32Array;

  constructor(private readonly dimension: number, capacity: number) {
    this.bytesPerRow = 4 * dimension;
    this.data = new Float32Array(capacity * dimension);
  }

  reserve(rows: number): void {
    this.data = withRowCapacity(this.data, rows, this.dimension);
  }

  write(row: number, unit: Float32Array): void {
    this.data.set(unit, row * this.dimension);
  }

  move(from: number, to: number): void {
    this.data.copyWithin(to * this.dimension, from * this.dimension, (from + 1) * this.dimension);
  }

  read(row: number): Float32Array {
    return this.data.slice(row * this.dimension, (row + 1) * this.dimension);
  }

  dot(row: number, unit: Float32Array): number {
    return dotAt(this.data, row * this.dimension, unit);
  }

  scan(unit: Float32Array, count: number, top: TopK): void {
    const scan: BoundedScan = { nearest: (wanted) => nativeNearest(this.data, count, this.dimension, unit, wanted, 'ip'), error: FLOAT32_SCAN_ERROR };
    exactTopK(scan, count, top.k + FIRST_ROUND_EXTRA, (row) => this.dot(row, unit), top);
  }
}

/** The shared part of the compact stores: block-wise decoding into a float32 scratch. */
abstract class DecodedRows implements RowStore {
  abstract readonly kind: StorageKind;
  abstract readonly bytesPerRow: number;
  private readonly scratch: Float32Array;

  constructor(protected readonly dimension: number) {
    this.scratch = new Float32Array(DECODE_BLOCK_ROWS * dimension);
  }

  abstract reserve(rows: number): void;
  abstract write(row: number, unit: Float32Array): void;
  abstract move(from: number, to: number): void;
  /** Decodes rows [first, first + count) into `out` from its start. */
  protected abstract decode(first: number, count: number, out: Float32Array): void;

  read(row: number): Float32Array {
    const out = new Float32Array(this.dimension);
    this.decode(row, 1, out);
    return out;
  }

  dot(row: number, unit: Float32Array): number {
    return dotAt(this.read(row), 0, unit);
  }

  scan(unit: Float32Array, count: number, top: TopK): void {
    for (let first = 0; first < count; first += DECODE_BLOCK_ROWS) {
      const block = Math.min(DECODE_BLOCK_ROWS, count - first);
      this.decode(first, block, this.scratch);
      scanFloat32(this.scratch, this.dimension, 0, block, unit, top, first);
    }
  }
}

export class Float16Rows extends DecodedRows {
  readonly kind = 'float16';
  readonly bytesPerRow: number;
  private codes: Uint16Array;
  private readonly table = float16Table();

  constructor(dimension: number, capacity: number) {
    super(dimension);
    this.bytesPerRow = 2 * dimension;
    this.codes = new Uint16Array(capacity * dimension);
  }

  reserve(rows: number): void {
    this.codes = withRowCapacity(this.codes, rows, this.dimension);
  }

  write(row: number, unit: Float32Array): void {
    const offset = row * this.dimension;
    for (let i = 0; i < this.dimension; i++) this.codes[offset + i] = toFloat16Bits(unit[i]);
  }

  move(from: number, to: number): void {
    this.codes.copyWithin(to * this.dimension, from * this.dimension, (from + 1) * this.dimension);
  }

  protected decode(first: number, count: number, out: Float32Array): void {
    const offset = first * this.dimension;
    const length = count * this.dimension;
    for (let i = 0; i < length; i++) out[i] = this.table[this.codes[offset + i]];
  }
}

export class Int8Rows extends DecodedRows {
  readonly kind = 'int8';
  readonly bytesPerRow: number;
  private codes: Int8Array;
  private scales: Float32Array;
  /** The largest code direction error ever written: an upper bound for every row stored now. */
  private largestError = 0;

  constructor(dimension: number, capacity: number) {
    super(dimension);
    this.bytesPerRow = dimension + 4;
    this.codes = new Int8Array(capacity * dimension);
    this.scales = new Float32Array(capacity);
  }

  reserve(rows: number): void {
    this.codes = withRowCapacity(this.codes, rows, this.dimension);
    this.scales = withRowCapacity(this.scales, rows, 1);
  }

  write(row: number, unit: Float32Array): void {
    this.scales[row] = encodeInt8(unit, this.codes, row * this.dimension);
    this.largestError = Math.max(this.largestError, codeDirectionError(unit, this.codes, row * this.dimension));
  }

  /** A native scan of the codes of rows [0, count) by cosine, its error bounded for this query. */
  boundedScan(unit: Float32Array, count: number): BoundedScan {
    const query = new Int8Array(this.dimension);
    encodeInt8(unit, query, 0);
    const error = this.largestError + codeDirectionError(unit, query, 0) + INT8_SCAN_SLACK;
    return { nearest: (wanted) => nativeNearest(this.codes, count, this.dimension, query, wanted, 'cos'), error };
  }

  move(from: number, to: number): void {
    this.codes.copyWithin(to * this.dimension, from * this.dimension, (from + 1) * this.dimension);
    this.scales[to] = this.scales[from];
  }

  protected decode(first: number, count: number, out: Float32Array): void {
    for (let r = 0; r < count; r++) {
      const scale = this.scales[first + r];
      const offset = (first + r) * this.dimension;
      const outOffset = r * this.dimension;
      for (let i = 0; i < this.dimension; i++) out[outOffset + i] = this.codes[offset + i] * scale;
    }
  }
}

export function createRowStore(kind: StorageKind, dimension: number, capacity: number): RowStore {
  switch (kind) {
    case 'float32':
      return new Float32Rows(dimension, capacity);
    case 'float16':
      return new Float16Rows(dimension, capacity);
    case 'int8':
      return new Int8Rows(dimension, capacity);
  }
}
