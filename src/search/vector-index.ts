/**
 * Nearest-neighbour search by cosine similarity over string-keyed vectors, stored unit-normalised.
 *
 * - Below `approximateFrom` vectors, search is exact: every row is scored (float32 rows and int8
 *   codes by usearch's native SIMD scan, whose bounded error lets the candidates be re-scored
 *   exactly here; float16 rows by a JavaScript kernel), the best k kept in a bounded heap.
 * - From `approximateFrom` on, search walks an HNSW graph (usearch) for `expansionSearch`
 *   candidates and re-ranks them exactly from the stored rows, so scores are always true cosines
 *   of the stored vectors and ties always break by id.
 * - `storage` chooses the stored copy: 'float32' (4 B per value, exact), 'float16' (2 B; the only
 *   copy, so scores carry its rounding, about 1e-3), or 'int8' (1 B codes scanned first, then the
 *   candidates re-ranked from a float32 copy kept beside them: 5 B per value, exact results and
 *   the fastest exact scan).
 */
import { l2Normalise } from '../core/vector.js';
import { exactTopK } from './bounded-scan.js';
import { HnswLayer, type HnswOptions } from './hnsw-layer.js';
import { createRowStore, Float32Rows, Int8Rows, type RowStore, type StorageKind } from './row-stores.js';
import { TopK } from './top-k.js';

export interface Scored<T extends string = string> {
  readonly id: T;
  /** Cosine similarity, in [-1, 1]. */
  readonly score: number;
}

export interface VectorIndexOptions {
  /** Rows allocated up front; the store doubles as needed. */
  readonly capacity?: number;
  readonly storage?: StorageKind;
  /** Size from which search is approximate; `Infinity` keeps it exact at any size. */
  readonly approximateFrom?: number;
  readonly hnsw?: Partial<HnswOptions>;
  /** Candidates fetched per wanted result before exact re-ranking (int8 scan, HNSW). */
  readonly oversample?: number;
}

export interface SearchOptions {
  /**
   * HNSW only: how many candidates the graph walk collects (its ef), all re-ranked exactly.
   * Defaults to the index's `hnsw.expansionSearch`; larger finds more of the true top k, slower.
   */
  readonly expansion?: number;
}

/**
 * Measured with bench:search on 2 cores (198-d): the native exact scan beats the graph on both
 * latency and recall at 100k rows (2.6 ms, recall 1, against 3.6 ms at recall@10 0.97) and takes
 * about 30 ms at 1M, where the graph (M 16) reaches only 0.86 recall@10 even at ef 4096.
 * Standardised identity coefficients spread over all 198 dimensions, which is what makes graphs
 * weak here; so the graph only starts where a full scan gets too slow.
 */
export const DEFAULT_APPROXIMATE_FROM = 2_000_000;
export const DEFAULT_HNSW_OPTIONS: HnswOptions = { connectivity: 16, expansionAdd: 128, expansionSearch: 1024, scalar: 'i8', threads: 0 };
const DEFAULT_OVERSAMPLE = 4;
/** Re-ranking a few dozen rows costs microseconds, and it makes recall at small k much safer. */
const MIN_CANDIDATES = 32;
const INITIAL_CAPACITY = 256;

export class VectorIndex {
  private readonly ids: string[] = [];
  private readonly rows = new Map<string, number>();
  /** Scores reported to callers come from here (and `get`/`score`). */
  private readonly exact: RowStore;
  /** The int8 codes scanned before re-ranking from `exact`, when storage is 'int8'. */
  private readonly coarse?: Int8Rows;
  private readonly approximateFrom: number;
  private readonly hnswOptions: HnswOptions;
  private readonly oversample: number;
  private hnsw?: HnswLayer;

  constructor(
    readonly dimension: number,
    options: VectorIndexOptions = {},
  ) {
    if (!Number.isInteger(dimension) || dimension < 1) throw new RangeError(`dimension must be a positive integer, got ${dimension}`);
    const capacity = Math.max(1, options.capacity ?? INITIAL_CAPACITY);
    const storage = options.storage ?? 'float32';
    if (storage === 'int8') {
      this.exact = new Float32Rows(dimension, capacity);
      this.coarse = new Int8Rows(dimension, capacity);
    } else {
      this.exact = createRowStore(storage, dimension, capacity);
    }
    this.approximateFrom = options.approximateFrom ?? DEFAULT_APPROXIMATE_FROM;
    this.hnswOptions = { ...DEFAULT_HNSW_OPTIONS, ...options.hnsw };
    this.oversample = options.oversample ?? DEFAULT_OVERSAMPLE;
  }

  get size(): number {
    return this.ids.length;
  }

  /** Whether search currently walks the HNSW graph rather than scanning every row. */
  get isApproximate(): boolean {
    return this.ids.length >= this.approximateFrom;
  }

  has(id: string): boolean {
    return this.rows.has(id);
  }

  /** Adds or replaces; stored normalised (a zero vector stays zero and scores 0 against anything). */
  upsert(id: string, vector: ArrayLike<number>): void {
    this.assertVector(vector);
    const unit = l2Normalise(vector);
    let row = this.rows.get(id);
    const isNewRow = row === undefined;
    if (row === undefined) {
      row = this.ids.length;
      this.exact.reserve(row + 1);
      this.coarse?.reserve(row + 1);
      this.ids.push(id);
      this.rows.set(id, row);
    }
    this.exact.write(row, unit);
    this.coarse?.write(row, unit);
    this.hnsw?.written(row, isNewRow);
  }

  /** Removal moves the last row into the hole, so rows stay dense. */
  remove(id: string): boolean {
    const row = this.rows.get(id);
    if (row === undefined) return false;
    this.hnsw?.removed(row);
    const last = this.ids.length - 1;
    if (row !== last) {
      const lastId = this.ids[last];
      this.exact.move(last, row);
      this.coarse?.move(last, row);
      this.hnsw?.moved(last, row);
      this.ids[row] = lastId;
      this.rows.set(lastId, row);
    }
    this.ids.pop();
    this.rows.delete(id);
    return true;
  }

  /** The stored unit vector (a copy). */
  get(id: string): Float32Array | undefined {
    const row = this.rows.get(id);
    return row === undefined ? undefined : this.exact.read(row);
  }

  /** Cosine similarity of `query` with one stored vector. */
  score(id: string, query: ArrayLike<number>): number | undefined {
    const row = this.rows.get(id);
    return row === undefined ? undefined : this.exact.dot(row, this.unitQuery(query));
  }

  /** The `k` most similar vectors, best first; equal scores in id order so results are repeatable. */
  search(query: ArrayLike<number>, k: number, options: SearchOptions = {}): Scored[] {
    const unit = this.unitQuery(query);
    const count = Math.min(Math.max(0, Math.floor(k)), this.ids.length);
    if (count === 0) return [];
    const top = this.newTopK(count);
    const candidates = Math.min(this.ids.length, Math.max(count * this.oversample, MIN_CANDIDATES));
    if (this.isApproximate) {
      // The walk's whole candidate list is re-ranked: a thousand exact dot products cost far
      // less than the walk, and near-ties the graph's distances misorder are then recovered.
      const expansion = Math.max(candidates, options.expansion ?? this.hnswOptions.expansionSearch);
      for (const row of this.graph().search(unit, Math.min(this.ids.length, expansion), this.exact)) top.offer(row, this.exact.dot(row, unit));
    } else if (this.coarse) {
      exactTopK(this.coarse.boundedScan(unit, this.ids.length), this.ids.length, candidates, (row) => this.exact.dot(row, unit), top);
    } else {
      this.exact.scan(unit, this.ids.length, top);
    }
    this.dropGraphWhenSmall();
    return top.ranked().map(({ row, score }) => ({ id: this.ids[row], score }));
  }

  /** The graph, built on first need and rebuilt once removed nodes outnumber the live ones. */
  private graph(): HnswLayer {
    if (!this.hnsw || this.hnsw.tombstones > this.ids.length) this.hnsw = new HnswLayer(this.dimension, this.hnswOptions, this.ids.length);
    return this.hnsw;
  }

  /** Halfway below the threshold the graph is not worth its memory; the gap keeps a size that hovers at the threshold from rebuilding it again and again. */
  private dropGraphWhenSmall(): void {
    if (this.ids.length < this.approximateFrom / 2) this.hnsw = undefined;
  }

  private newTopK(k: number): TopK {
    return new TopK(k, (row) => this.ids[row]);
  }

  private unitQuery(query: ArrayLike<number>): Float32Array {
    this.assertVector(query);
    return l2Normalise(query);
  }

  /** A NaN would compare as neither better nor worse than anything and silently corrupt rankings. */
  private assertVector(vector: ArrayLike<number>): void {
    if (vector.length !== this.dimension) throw new RangeError(`vector has ${vector.length} values, the index holds ${this.dimension}`);
    for (let i = 0; i < vector.length; i++) {
      if (!Number.isFinite(vector[i])) throw new RangeError(`vector value ${i} is ${vector[i]}`);
    }
  }
}
