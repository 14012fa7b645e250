import type { Feeds, OnnxModel, Outputs, TensorData } from './onnx-runtime.js';
import { NETWORK_INPUTS, type Float32Pool } from './float-pool.js';

export interface MicroBatcherOptions {
  /** A batch is sent as soon as it holds this many items. */
  readonly maxBatch: number;
  /**
   * ...or, while an earlier batch is still running, when that batch settles or this long after its
   * first item arrived, whichever comes first. With no batch running, items go at once (with the
   * others submitted in the same turn of the event loop): a lone request never waits for company.
   */
  readonly maxDelayMs: number;
  /**
   * Whether more items are on their way soon: while it says so, items wait for them (up to
   * `maxDelayMs`, or until `maxBatch` are queued) even with no batch running, and a settled batch
   * does not send what queued behind it at once. For a caller whose batches cost much less per item
   * the larger they are and that knows its items are coming (the enrollment worker's saves, while
   * its other jobs are still being encoded). Asked at every submission and whenever a batch settles.
   */
  readonly moreComing?: () => boolean;
}

/** Must return one result per item, in the items' order. */
export type RunBatch<I, O> = (items: readonly I[]) => Promise<readonly O[]>;

interface Waiting<I, O> {
  readonly item: I;
  readonly resolve: (output: O) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Groups concurrent `submit` calls into `runBatch` calls. Items that arrive while a batch runs
 * wait for it (at most `maxDelayMs`) and go together when it settles, so a busy network runs
 * batches back to back while a lone item pays no delay. A failed batch rejects exactly its own
 * items; batches run as soon as they are formed, without waiting for earlier ones.
 */
export class MicroBatcher<I, O> {
  private queue: Waiting<I, O>[] = [];
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private readonly running = new Set<Promise<void>>();
  private closed = false;

  constructor(
    private readonly runBatch: RunBatch<I, O>,
    private readonly options: MicroBatcherOptions,
  ) {
    if (!Number.isInteger(options.maxBatch) || options.maxBatch < 1) {
      throw new RangeError(`maxBatch must be a positive integer, got ${options.maxBatch}`);
    }
    if (!Number.isFinite(options.maxDelayMs) || options.maxDelayMs < 0) {
      throw new RangeError(`maxDelayMs must be a non-negative number, got ${options.maxDelayMs}`);
    }
  }

  submit(item: I): Promise<O> {
    if (this.closed) return Promise.reject(new Error('the batcher is closed'));
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (this.queue.length >= this.options.maxBatch) this.flush();
      // Idle: after this turn's other submissions; busy (or more coming): when the running batch settles, or the delay.
      else if (this.running.size === 0 && !this.moreComing()) this.immediate ??= setImmediate(() => this.flush());
      else this.timer ??= setTimeout(() => this.flush(), this.options.maxDelayMs);
    });
  }

  /** Sends what is queued now, refuses new items, and resolves once every batch has settled. */
  async close(): Promise<void> {
    this.closed = true;
    this.flush();
    await Promise.all(this.running);
  }

  private moreComing(): boolean {
    return this.options.moreComing?.() ?? false;
  }

  private flush(): void {
    clearTimeout(this.timer);
    clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
    while (this.queue.length > 0) this.dispatch(this.queue.splice(0, this.options.maxBatch));
  }

  private dispatch(batch: readonly Waiting<I, O>[]): void {
    const settled = this.settle(batch);
    this.running.add(settled);
    void settled.then(() => {
      this.running.delete(settled);
      // What queued behind this batch goes now, as the next batch (unless more is coming: then with it, or at the delay).
      if (this.queue.length > 0 && !this.moreComing()) this.flush();
    });
  }

  /** Never rejects: every outcome is delivered to the batch's own promises. */
  private async settle(batch: readonly Waiting<I, O>[]): Promise<void> {
    try {
      const outputs = await this.runBatch(batch.map((waiting) => waiting.item));
      if (outputs.length !== batch.length) {
        throw new Error(`runBatch returned ${outputs.length} results for ${batch.length} items`);
      }
      batch.forEach((waiting, i) => waiting.resolve(outputs[i]));
    } catch (error) {
      for (const waiting of batch) waiting.reject(error);
    }
  }
}

function sameDims(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * Joins per-item tensors of dims [1, ...rest] (e.g. NHWC with N = 1) into one [N, ...rest], in an
 * array taken from `pool` when one is given (every value is written).
 */
export function stackBatch(tensors: readonly TensorData[], pool?: Float32Pool): TensorData {
  if (tensors.length === 0) throw new RangeError('cannot stack an empty batch');
  const itemDims = tensors[0].dims;
  const itemSize = tensors[0].data.length;
  const data = pool ? pool.take(itemSize * tensors.length) : new Float32Array(itemSize * tensors.length);
  tensors.forEach((tensor, i) => {
    if (tensor.dims[0] !== 1 || !sameDims(tensor.dims, itemDims) || tensor.data.length !== itemSize) {
      throw new RangeError(`item ${i} has dims [${tensor.dims}], expected [${itemDims}] with batch 1`);
    }
    data.set(tensor.data, i * itemSize);
  });
  return { data, dims: [tensors.length, ...itemDims.slice(1)] };
}

/** The inverse of stackBatch: [count, ...rest] into `count` tensors of [1, ...rest], each its own copy. */
export function splitBatch(tensor: TensorData, count: number): TensorData[] {
  if (tensor.dims[0] !== count) throw new RangeError(`batch dimension is ${tensor.dims[0]}, expected ${count}`);
  const itemSize = tensor.data.length / count;
  const itemDims = [1, ...tensor.dims.slice(1)];
  return Array.from({ length: count }, (_, i) => ({
    data: tensor.data.slice(i * itemSize, (i + 1) * itemSize),
    dims: itemDims,
  }));
}

function input(feeds: Feeds, name: string): TensorData {
  const tensor = feeds[name];
  if (tensor === undefined) throw new RangeError(`an item lacks input ${name}`);
  return tensor;
}

/**
 * Runs a model with a dynamic batch dimension once for many items, each given as the feeds it
 * would be run with alone: the RunBatch to hand a MicroBatcher<Feeds, Outputs>. On the CPU the
 * items run one after another instead: a stacked batch there costs more per item than the item
 * alone (docs/BENCHMARKS.md §49), so the batch only spares CUDA its per-call cost.
 */
export async function runModelOnBatch(model: Pick<OnnxModel, 'run' | 'provider'>, items: readonly Feeds[]): Promise<Outputs[]> {
  // A lone item runs as it is: stacking and splitting a batch of one would only copy its tensors.
  if (items.length <= 1 || model.provider === 'cpu') {
    const outputs: Outputs[] = [];
    for (const item of items) outputs.push(await model.run(item));
    return outputs;
  }
  const inputNames = Object.keys(items[0]);
  const stacked = Object.fromEntries(inputNames.map((name) => [name, stackBatch(items.map((feeds) => input(feeds, name)), NETWORK_INPUTS)]));
  let outputs: Outputs;
  try {
    outputs = await model.run(stacked);
  } finally {
    for (const tensor of Object.values(stacked)) NETWORK_INPUTS.give(tensor.data);
  }
  const perItem: Outputs[] = items.map(() => ({}));
  for (const [name, tensor] of Object.entries(outputs)) {
    splitBatch(tensor, items.length).forEach((part, i) => (perItem[i][name] = part));
  }
  return perItem;
}
