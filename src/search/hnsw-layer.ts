/**
 * Approximate search over a row store through a usearch HNSW graph. The graph knows numeric keys
 * only; this layer maps them to the store's rows both ways in typed arrays (a few bytes per row,
 * where a Map of strings would cost more than the graph itself at a million rows).
 *
 * Keys are never reused: a rewritten row gets a fresh key and its old key is removed from the
 * graph. New keys wait until the next search, then go in as one multi-threaded batch, so loading a
 * gallery row by row still builds the graph in bulk.
 */
import { encodeInt8 } from './int8.js';
import type { RowStore } from './row-stores.js';
import { usearch, type Index, type ScalarKind } from './usearch.js';

/** How the graph stores its own copy of each vector. */
export type GraphScalar = 'f32' | 'f16' | 'i8';

export interface HnswOptions {
  /** Neighbours per node (M); the bottom layer keeps twice as many. */
  readonly connectivity: number;
  /** Candidate list size while inserting (efConstruction). */
  readonly expansionAdd: number;
  /** Candidate list size while searching (ef); at least the number of results asked for. */
  readonly expansionSearch: number;
  readonly scalar: GraphScalar;
  /** Threads inserting into the graph; 0: every core. More than one makes the graph differ from run to run. */
  readonly threads: number;
}

const SCALARS: Record<GraphScalar, ScalarKind> = { f32: usearch.ScalarKind.F32, f16: usearch.ScalarKind.F16, i8: usearch.ScalarKind.I8 };
/** Vectors per batch handed to the graph: bounds the temporary copy during a bulk build. */
const SYNC_CHUNK_ROWS = 65_536;
const DEAD = -1;

export class HnswLayer {
  private readonly graph: Index;
  private keyOfRow: Float64Array;
  private rowOfKey: Int32Array;
  private nextKey: number;
  /** Keys below this were handed to the graph (unless dead by then); those from it on wait. */
  private syncedKeys = 0;
  private removedFromGraph = 0;

  /** A layer over rows [0, rows): each row gets the key equal to its number, all waiting for the first sync. */
  constructor(
    private readonly dimension: number,
    private readonly options: HnswOptions,
    rows: number,
  ) {
    this.graph = new usearch.Index({
      dimensions: dimension,
      metric: usearch.MetricKind.Cos,
      quantization: SCALARS[options.scalar],
      connectivity: options.connectivity,
      expansion_add: options.expansionAdd,
      expansion_search: options.expansionSearch,
      multi: false,
    });
    const capacity = Math.max(16, rows);
    this.keyOfRow = new Float64Array(capacity);
    this.rowOfKey = new Int32Array(capacity);
    for (let row = 0; row < rows; row++) {
      this.keyOfRow[row] = row;
      this.rowOfKey[row] = row;
    }
    this.nextKey = rows;
  }

  /** Graph nodes removed but still occupying memory; the owner rebuilds when they outnumber the live ones. */
  get tombstones(): number {
    return this.removedFromGraph;
  }

  /** `row` holds a new vector (a new row, or an old one rewritten). */
  written(row: number, isNewRow: boolean): void {
    if (!isNewRow) this.forget(this.keyOfRow[row]);
    if (row >= this.keyOfRow.length) this.keyOfRow = grow(this.keyOfRow, row + 1);
    const key = this.nextKey++;
    if (key >= this.rowOfKey.length) this.rowOfKey = grow(this.rowOfKey, key + 1);
    this.keyOfRow[row] = key;
    this.rowOfKey[key] = row;
  }

  removed(row: number): void {
    this.forget(this.keyOfRow[row]);
  }

  /** The store moved row `from` into `to` (to fill a hole). */
  moved(from: number, to: number): void {
    const key = this.keyOfRow[from];
    this.keyOfRow[to] = key;
    this.rowOfKey[key] = to;
  }

  /** Up to `count` candidate rows, nearest first by the graph's (possibly quantised) distance. */
  search(unit: Float32Array, count: number, store: RowStore): Int32Array {
    this.sync(store);
    const matches = this.graph.search(this.forGraph(unit), count, 1);
    const rows = new Int32Array(matches.keys.length);
    let found = 0;
    for (const key of matches.keys) {
      const row = this.rowOfKey[Number(key)];
      if (row !== DEAD) rows[found++] = row;
    }
    return rows.subarray(0, found);
  }

  private forget(key: number): void {
    this.rowOfKey[key] = DEAD;
    if (key < this.syncedKeys) {
      this.graph.remove(BigInt(key));
      this.removedFromGraph++;
    }
  }

  private sync(store: RowStore): void {
    const live: number[] = [];
    for (let key = this.syncedKeys; key < this.nextKey; key++) if (this.rowOfKey[key] !== DEAD) live.push(key);
    for (let start = 0; start < live.length; start += SYNC_CHUNK_ROWS) {
      const chunk = live.slice(start, start + SYNC_CHUNK_ROWS);
      const vectors = this.graphVectors(chunk.length);
      chunk.forEach((key, i) => this.writeForGraph(store.read(this.rowOfKey[key]), vectors, i * this.dimension));
      this.graph.add(BigUint64Array.from(chunk, BigInt), vectors, this.options.threads);
    }
    this.syncedKeys = this.nextKey;
  }

  /** The graph's i8 copy gets our per-vector scaled codes: cosine ignores the scale, and usearch's own cast would use a tenth of the code range. */
  private forGraph(unit: Float32Array): Float32Array | Int8Array {
    const vector = this.graphVectors(1);
    this.writeForGraph(unit, vector, 0);
    return vector;
  }

  private graphVectors(count: number): Float32Array | Int8Array {
    return this.options.scalar === 'i8' ? new Int8Array(count * this.dimension) : new Float32Array(count * this.dimension);
  }

  private writeForGraph(unit: Float32Array, out: Float32Array | Int8Array, offset: number): void {
    if (out instanceof Int8Array) encodeInt8(unit, out, offset);
    else out.set(unit, offset);
  }
}

function grow<T extends Float64Array | Int32Array>(array: T, atLeast: number): T {
  const grown = new (array.constructor as new (length: number) => T)(Math.max(atLeast, 2 * array.length));
  grown.set(array);
  return grown;
}
