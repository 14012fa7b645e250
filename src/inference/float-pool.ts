/**
 * Float32Arrays lent and given back, for the networks' inputs (crops, stacked batches). Every new
 * one of these (hundreds of kilobytes each, several per photo) is memory outside V8's heap that V8
 * counts, and it answers each few tens of megabytes of such memory with a full garbage collection
 * of the heap: in an enrollment worker that was a collection about every second, its marking
 * costing more CPU than any stage but the networks (docs/BENCHMARKS.md §49). Reused arrays add
 * nothing to that count.
 */
export class Float32Pool {
  private readonly free = new Map<number, Float32Array[]>();

  /** `keepPerLength`: at most this many idle arrays of one length are kept; the rest go to the collector. */
  constructor(private readonly keepPerLength: number) {}

  /** An array of `length` values, NOT cleared: the borrower writes every value before reading any. */
  take(length: number): Float32Array {
    return this.free.get(length)?.pop() ?? new Float32Array(length);
  }

  /** Gives `array` back; the giver must hold no reference to it any more. */
  give(array: Float32Array): void {
    // A view into a larger buffer is not the pool's to keep.
    if (array.byteOffset !== 0 || array.byteLength !== array.buffer.byteLength) return;
    const idle = this.free.get(array.length);
    if (!idle) this.free.set(array.length, [array]);
    else if (idle.length < this.keepPerLength && !idle.includes(array)) idle.push(array);
  }

  /** `use` with a borrowed array of `length` values, given back once the promise it returns settles. */
  async borrow<T>(length: number, use: (array: Float32Array) => Promise<T>): Promise<T> {
    const array = this.take(length);
    try {
      return await use(array);
    } finally {
      this.give(array);
    }
  }
}

/**
 * The pool of this process's network inputs: enough idle arrays of each size for the jobs of a
 * busy worker (a batch of 8 in flight and the next 8 being written).
 */
export const NETWORK_INPUTS = new Float32Pool(16);
