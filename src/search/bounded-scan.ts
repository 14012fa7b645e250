/**
 * Exact top-k through a fast approximate scan whose error is bounded: the native SIMD scan of
 * usearch (over float32 rows, or over int8 codes) ranks every row, the best candidates are
 * re-scored exactly, and the candidate list grows until the bound proves that no row left out could
 * still enter the top k. Results are therefore exactly those of a full exact scan, ties included
 * (a row tied with the k-th score is within the bound, so it is always among the candidates).
 */
import { availableParallelism } from 'node:os';
import type { TopK } from './top-k.js';
import { usearch } from './usearch.js';

/** Approximate nearest rows, best first, with `|approximate − exact score| ≤ error` for every row. */
export interface Candidates {
  readonly rows: ArrayLike<number>;
  /** Approximate scores, non-increasing. */
  readonly scores: Float32Array;
}

export interface BoundedScan {
  /** The `count` best rows by approximate score. */
  nearest(count: number): Candidates;
  /** Bounds `|approximate − exact score|` of every row, this query included. */
  readonly error: number;
}

/** Below this many rows a second thread costs more to start than it saves. */
const PARALLEL_FROM = 65_536;
const THREADS = availableParallelism();
/** Each round that fails to prove completeness asks for this many times more candidates. */
const GROWTH = 4;

/**
 * Fills `top` (emptied first) with the exact top k of `rows` rows: candidates from `scan`, scores
 * from `exactScore`. Starts with `firstCount` candidates (at least k).
 */
export function exactTopK(scan: BoundedScan, rows: number, firstCount: number, exactScore: (row: number) => number, top: TopK): void {
  top.clear();
  if (rows === 0 || top.k === 0) return;
  for (let count = Math.min(rows, Math.max(firstCount, top.k)); ; count = Math.min(rows, count * GROWTH)) {
    const candidates = scan.nearest(count);
    top.clear();
    for (let i = 0; i < candidates.rows.length; i++) {
      const row = candidates.rows[i];
      top.offer(row, exactScore(row));
    }
    // Every row left out scores at most the last candidate's approximate score plus the error.
    if (count === rows || candidates.scores[count - 1] + scan.error < top.floor) return;
  }
}

/**
 * The `count` rows of `data` (rows [0, rows)) nearest to `query` by usearch's metric, as scores
 * (1 − distance), best first. `data` and `query` must start at the start of their buffers: the
 * binding reads the buffers, not the views.
 */
export function nativeNearest(data: Float32Array | Int8Array, rows: number, dimension: number, query: Float32Array | Int8Array, count: number, metric: 'ip' | 'cos'): Candidates {
  if (data.byteOffset !== 0 || query.byteOffset !== 0) throw new RangeError('native scans need views at the start of their buffers');
  const dataset = data.subarray(0, rows * dimension);
  const threads = rows >= PARALLEL_FROM ? THREADS : 1;
  const { keys, distances } = usearch.exactSearch(dataset, query, dimension, count, usearch.MetricKind[metric === 'ip' ? 'IP' : 'Cos'], threads) as { keys: BigUint64Array; distances: Float32Array };
  const found = new Int32Array(keys.length);
  const scores = new Float32Array(keys.length);
  for (let i = 0; i < keys.length; i++) {
    found[i] = Number(keys[i]);
    scores[i] = 1 - distances[i];
  }
  return { rows: found, scores };
}
