/**
 * Exact nearest-neighbour search by cosine similarity. Vectors are stored unit-normalised, row
 * after row in one contiguous Float32Array, so a query is a single pass of dot products over
 * memory the CPU streams well; removal moves the last row into the hole to keep rows dense.
 */
import { l2Normalise } from './similarity.js';

export interface Scored<T extends string = string> {
  readonly id: T;
  /** Cosine similarity, in [-1, 1]. */
  readonly score: number;
}

const INITIAL_CAPACITY = 256;

export class VectorIndex {
  private data: Float32Array;
  private readonly ids: string[] = [];
  private readonly rows = new Map<string, number>();

  constructor(readonly dimension: number, capacity = INITIAL_CAPACITY) {
    if (!Number.isInteger(dimension) || dimension < 1) throw new RangeError(`dimension must be a positive integer, got ${dimension}`);
    this.data = new Float32Array(Math.max(1, capacity) * dimension);
  }

  get size(): number {
    return this.ids.length;
  }

  has(id: string): boolean {
    return this.rows.has(id);
  }

  /** Adds or replaces; stored normalised (a zero vector stays zero and scores 0 against anything). */
  upsert(id: string, vector: ArrayLike<number>): void {
    this.assertDimension(vector);
    let row = this.rows.get(id);
    if (row === undefined) {
      row = this.ids.length;
      this.ensureCapacity(row + 1);
      this.ids.push(id);
      this.rows.set(id, row);
    }
    this.data.set(l2Normalise(Float32Array.from(vector)), row * this.dimension);
  }

  remove(id: string): boolean {
    const row = this.rows.get(id);
    if (row === undefined) return false;
    const last = this.ids.length - 1;
    if (row !== last) {
      const lastId = this.ids[last];
      this.data.copyWithin(row * this.dimension, last * this.dimension, (last + 1) * this.dimension);
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
    return row === undefined ? undefined : this.data.slice(row * this.dimension, (row + 1) * this.dimension);
  }

  /** Cosine similarity of `query` with one stored vector. */
  score(id: string, query: ArrayLike<number>): number | undefined {
    const row = this.rows.get(id);
    return row === undefined ? undefined : this.dot(row, this.unitQuery(query));
  }

  /** The `k` most similar vectors, best first; equal scores in id order so results are repeatable. */
  search(query: ArrayLike<number>, k: number): Scored[] {
    const unit = this.unitQuery(query);
    const count = Math.min(Math.max(0, Math.floor(k)), this.ids.length);
    if (count === 0) return [];
    const topRows = new Int32Array(count);
    const topScores = new Float64Array(count);
    let filled = 0;
    for (let row = 0; row < this.ids.length; row++) {
      const score = this.dot(row, unit);
      if (filled === count && !this.ranksBefore(score, row, topScores[count - 1], topRows[count - 1])) continue;
      let slot = filled < count ? filled++ : count - 1;
      while (slot > 0 && this.ranksBefore(score, row, topScores[slot - 1], topRows[slot - 1])) {
        topScores[slot] = topScores[slot - 1];
        topRows[slot] = topRows[slot - 1];
        slot--;
      }
      topScores[slot] = score;
      topRows[slot] = row;
    }
    return Array.from(topRows, (row, i) => ({ id: this.ids[row], score: topScores[i] }));
  }

  private ranksBefore(score: number, row: number, otherScore: number, otherRow: number): boolean {
    return score > otherScore || (score === otherScore && this.ids[row] < this.ids[otherRow]);
  }

  private dot(row: number, unit: Float32Array): number {
    const offset = row * this.dimension;
    let sum = 0;
    for (let i = 0; i < this.dimension; i++) sum += this.data[offset + i] * unit[i];
    return sum;
  }

  private unitQuery(query: ArrayLike<number>): Float32Array {
    this.assertDimension(query);
    return l2Normalise(Float32Array.from(query));
  }

  /** A NaN would compare as neither better nor worse than anything and silently corrupt rankings. */
  private assertDimension(vector: ArrayLike<number>): void {
    if (vector.length !== this.dimension) throw new RangeError(`vector has ${vector.length} values, the index holds ${this.dimension}`);
    for (let i = 0; i < vector.length; i++) {
      if (!Number.isFinite(vector[i])) throw new RangeError(`vector value ${i} is ${vector[i]}`);
    }
  }

  private ensureCapacity(rows: number): void {
    if (rows * this.dimension <= this.data.length) return;
    const grown = new Float32Array(Math.max(rows, 2 * (this.data.length / this.dimension)) * this.dimension);
    grown.set(this.data);
    this.data = grown;
  }
}
