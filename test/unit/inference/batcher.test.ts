import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MicroBatcher, runModelOnBatch, splitBatch, stackBatch, type RunBatch } from '../../../src/inference/batcher.js';
import { closeAllModels, loadModel, type Feeds, type OnnxModel, type Outputs } from '../../../src/inference/onnx-runtime.js';
import { denseReluModel, scratchDir, writeModel } from '../../helpers/onnx-model.js';

/** Wraps a RunBatch to record the size of every batch it is given. */
function counting<I, O>(run: RunBatch<I, O>): { run: RunBatch<I, O>; sizes: number[] } {
  const sizes: number[] = [];
  return {
    sizes,
    run: (items) => {
      sizes.push(items.length);
      return run(items);
    },
  };
}

const double: RunBatch<number, number> = async (items) => items.map((n) => n * 2);

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('MicroBatcher with a real ONNX session', () => {
  let dir: Awaited<ReturnType<typeof scratchDir>>;
  let model: OnnxModel;
  // NHWC images of 2x2 pixels, 3 channels, through a per-pixel dense layer to 4 channels.
  const items: Feeds[] = Array.from({ length: 20 }, (_, item) => ({
    x: { data: Float32Array.from({ length: 12 }, (_, i) => Math.sin(item * 12 + i) * 3), dims: [1, 2, 2, 3] },
  }));

  beforeAll(async () => {
    dir = await scratchDir();
    const bytes = denseReluModel({
      inputShape: ['batch', 2, 2, 3],
      weights: [
        [0.3, -1.2, 0.7, 2],
        [1.1, 0.4, -0.6, -0.1],
        [-0.8, 0.9, 0.05, 1.3],
      ],
      bias: [0.1, -0.2, 0.3, 0],
    });
    model = await loadModel(await writeModel(dir.path, 'dense-nhwc.onnx', bytes), { device: 'cpu', threads: 1 });
  });
  afterAll(async () => {
    await closeAllModels();
    await dir.remove();
  });

  /** The session as a CUDA one would be run: batches stacked into one call. */
  const stacking = (): Pick<OnnxModel, 'run' | 'provider'> => ({ run: (feeds) => model.run(feeds), provider: 'cuda' });

  it('gives exactly the one-at-a-time results, in batches of at most maxBatch', async () => {
    const alone: Outputs[] = [];
    for (const feeds of items) alone.push(await model.run(feeds));
    const batchRun = counting<Feeds, Outputs>((batch) => runModelOnBatch(stacking(), batch));
    const batcher = new MicroBatcher(batchRun.run, { maxBatch: 8, maxDelayMs: 50 });

    const batched = await Promise.all(items.map((feeds) => batcher.submit(feeds)));

    expect(batchRun.sizes).toEqual([8, 8, 4]);
    batched.forEach((outputs, i) => {
      expect(outputs.y.dims).toEqual([1, 2, 2, 4]);
      expect(outputs.y.data).toEqual(alone[i].y.data);
    });
    expect(alone.some((outputs) => outputs.y.data.some((v) => v > 0))).toBe(true);
    // Again, reversed: the stacking arrays are reused ones now (NETWORK_INPUTS), and every value is rewritten.
    const again = await Promise.all([...items].reverse().map((feeds) => batcher.submit(feeds)));
    again.reverse().forEach((outputs, i) => expect(outputs.y.data).toEqual(alone[i].y.data));
    await batcher.close();
  });

  it("on the CPU runs a batch's items one after another, as they are; elsewhere stacks them into one call", async () => {
    const seen: Feeds[] = [];
    const onCpu = { run: (feeds: Feeds) => (seen.push(feeds), model.run(feeds)), provider: 'cpu' as const };
    const outputs = await runModelOnBatch(onCpu, items.slice(0, 5));
    expect(seen).toEqual(items.slice(0, 5));
    expect(seen.every((feeds, i) => feeds.x.data === items[i].x.data)).toBe(true);
    for (const [i, output] of outputs.entries()) expect(output.y.data).toEqual((await model.run(items[i])).y.data);
    seen.length = 0;
    const onCuda = { ...onCpu, provider: 'cuda' as const };
    const stacked = await runModelOnBatch(onCuda, items.slice(0, 5));
    expect(seen.map((feeds) => feeds.x.dims)).toEqual([[5, 2, 2, 3]]);
    stacked.forEach((output, i) => expect(output.y.data).toEqual(outputs[i].y.data));
  });

  it('runs a lone item as it is, without stacking or splitting copies', async () => {
    const seen: Feeds[] = [];
    const watched = { run: (feeds: Feeds) => (seen.push(feeds), model.run(feeds)), provider: 'cuda' as const };
    const [outputs] = await runModelOnBatch(watched, [items[3]]);
    expect(seen).toEqual([items[3]]);
    expect(seen[0].x.data).toBe(items[3].x.data);
    expect(outputs.y.dims).toEqual([1, 2, 2, 4]);
    expect(outputs.y.data).toEqual((await model.run(items[3])).y.data);
  });

  it('a failing batch rejects only its own items', async () => {
    const poisoned = { x: { data: new Float32Array(5), dims: [1, 5] } };
    const batchRun = counting<Feeds, Outputs>((batch) => runModelOnBatch(stacking(), batch));
    const batcher = new MicroBatcher(batchRun.run, { maxBatch: 3, maxDelayMs: 50 });
    const submitted = [items[0], items[1], items[2], items[3], poisoned, items[5]];

    const results = await Promise.allSettled(submitted.map((feeds) => batcher.submit(feeds)));

    expect(batchRun.sizes).toEqual([3, 3]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'rejected', 'rejected']);
    const reasons = results.slice(3).map((r) => (r.status === 'rejected' ? r.reason : undefined));
    expect(reasons.every((reason) => reason instanceof RangeError && reason === reasons[0])).toBe(true);
    await batcher.close();
  });
});

describe('MicroBatcher', () => {
  it('with no batch running, sends what one turn submitted at once, without waiting for the delay', async () => {
    const batchRun = counting(double);
    const batcher = new MicroBatcher(batchRun.run, { maxBatch: 100, maxDelayMs: 60_000 });

    expect(await Promise.all([1, 2, 3].map((n) => batcher.submit(n)))).toEqual([2, 4, 6]);
    expect(await batcher.submit(5)).toBe(10);

    expect(batchRun.sizes).toEqual([3, 1]);
  });

  it('items submitted while a batch runs go together as soon as it settles', async () => {
    const gate = deferred();
    const sizes: number[] = [];
    const batcher = new MicroBatcher<number, number>(
      async (batch) => {
        sizes.push(batch.length);
        if (sizes.length === 1) await gate.promise;
        return batch.map((n) => n * 2);
      },
      { maxBatch: 100, maxDelayMs: 60_000 },
    );

    const first = batcher.submit(1);
    await new Promise((resolve) => setImmediate(resolve));
    const queued = [2, 3, 4].map((n) => batcher.submit(n));
    expect(sizes).toEqual([1]);
    gate.resolve();

    expect(await Promise.all([first, ...queued])).toEqual([2, 4, 6, 8]);
    expect(sizes).toEqual([1, 3]);
  });

  it('items queued behind a batch that does not settle go after maxDelayMs', async () => {
    const never = new Promise<never>(() => undefined);
    const sizes: number[] = [];
    const batcher = new MicroBatcher<number, number>(
      async (batch) => {
        sizes.push(batch.length);
        if (sizes.length === 1) return never;
        return batch.map((n) => n * 2);
      },
      { maxBatch: 100, maxDelayMs: 5 },
    );

    void batcher.submit(1);
    await new Promise((resolve) => setImmediate(resolve));

    expect(await Promise.all([2, 3].map((n) => batcher.submit(n)))).toEqual([4, 6]);
    expect(sizes).toEqual([1, 2]);
  });

  it('delivers each batch its own results when batches finish out of order', async () => {
    const gates = [deferred(), deferred()];
    let call = 0;
    const batcher = new MicroBatcher<number, number>(
      async (batch) => {
        await gates[call++].promise;
        return batch.map((n) => n * 10);
      },
      { maxBatch: 2, maxDelayMs: 60_000 },
    );

    const results = [1, 2, 3, 4].map((n) => batcher.submit(n));
    gates[1].resolve();
    expect(await Promise.all(results.slice(2))).toEqual([30, 40]);
    gates[0].resolve();

    expect(await Promise.all(results)).toEqual([10, 20, 30, 40]);
  });

  it('rejects the items of a batch whose result count is wrong', async () => {
    const batcher = new MicroBatcher<number, number>(async (batch) => batch.slice(1), { maxBatch: 2, maxDelayMs: 0 });

    await expect(batcher.submit(1)).rejects.toThrow('runBatch returned 0 results for 1 items');
  });

  it('a runBatch that throws synchronously rejects its items instead of escaping', async () => {
    const batcher = new MicroBatcher<number, number>(
      () => {
        throw new Error('boom');
      },
      { maxBatch: 2, maxDelayMs: 0 },
    );

    await expect(Promise.all([batcher.submit(1), batcher.submit(2)])).rejects.toThrow('boom');
  });

  it('close sends queued items without waiting for the delay, then refuses new ones', async () => {
    const batchRun = counting(double);
    const batcher = new MicroBatcher(batchRun.run, { maxBatch: 4, maxDelayMs: 60_000 });
    const pending = [1, 2, 3, 4, 5, 6].map((n) => batcher.submit(n));

    await batcher.close();

    expect(batchRun.sizes).toEqual([4, 2]);
    expect(await Promise.all(pending)).toEqual([2, 4, 6, 8, 10, 12]);
    await expect(batcher.submit(7)).rejects.toThrow('closed');
  });

  it('while more items are coming, one submitted with no batch running waits for them, and goes once they have come', async () => {
    const batchRun = counting(double);
    let coming = 2;
    const batcher = new MicroBatcher(batchRun.run, { maxBatch: 100, maxDelayMs: 60_000, moreComing: () => coming > 0 });
    const submitLater = async (n: number): Promise<number> => {
      await new Promise((resolve) => setTimeout(resolve, 10));
      coming--;
      return batcher.submit(n);
    };

    const results = await Promise.all([batcher.submit(1), submitLater(2), submitLater(3)]);

    expect(results).toEqual([2, 4, 6]);
    expect(batchRun.sizes).toEqual([3]);
  });

  it('while more items are said to be coming, those queued go at maxBatch or after maxDelayMs, not later', async () => {
    const batchRun = counting(double);
    const batcher = new MicroBatcher(batchRun.run, { maxBatch: 3, maxDelayMs: 20, moreComing: () => true });

    expect(await Promise.all([1, 2, 3, 4].map((n) => batcher.submit(n)))).toEqual([2, 4, 6, 8]);
    expect(batchRun.sizes).toEqual([3, 1]);
  });

  it('while more items are coming, what queued behind a running batch waits for them too when it settles', async () => {
    const gate = deferred();
    const sizes: number[] = [];
    let coming = true;
    const batcher = new MicroBatcher<number, number>(
      async (batch) => {
        sizes.push(batch.length);
        if (sizes.length === 1) await gate.promise;
        return batch.map((n) => n * 2);
      },
      { maxBatch: 100, maxDelayMs: 60_000, moreComing: () => coming },
    );

    coming = false;
    const first = batcher.submit(1);
    await new Promise((resolve) => setImmediate(resolve));
    coming = true;
    const queued = batcher.submit(2);
    gate.resolve();
    await first;
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(sizes).toEqual([1]);
    coming = false;
    const last = batcher.submit(3);

    expect(await Promise.all([queued, last])).toEqual([4, 6]);
    expect(sizes).toEqual([1, 2]);
  });

  it('refuses options that cannot batch', () => {
    expect(() => new MicroBatcher(double, { maxBatch: 0, maxDelayMs: 1 })).toThrow(RangeError);
    expect(() => new MicroBatcher(double, { maxBatch: 1.5, maxDelayMs: 1 })).toThrow(RangeError);
    expect(() => new MicroBatcher(double, { maxBatch: 2, maxDelayMs: -1 })).toThrow(RangeError);
  });
});

describe('stackBatch and splitBatch', () => {
  const a = { data: Float32Array.from([1, 2, 3, 4, 5, 6]), dims: [1, 1, 2, 3] };
  const b = { data: Float32Array.from([7, 8, 9, 10, 11, 12]), dims: [1, 1, 2, 3] };

  it('stack along the batch axis and split back', () => {
    const stacked = stackBatch([a, b]);

    expect(stacked.dims).toEqual([2, 1, 2, 3]);
    expect(Array.from(stacked.data)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(splitBatch(stacked, 2)).toEqual([a, b]);
  });

  it('refuse items of different shapes, items without batch 1, and a wrong count', () => {
    expect(() => stackBatch([a, { data: new Float32Array(6), dims: [1, 2, 1, 3] }])).toThrow(RangeError);
    expect(() => stackBatch([{ data: new Float32Array(12), dims: [2, 1, 2, 3] }])).toThrow(RangeError);
    expect(() => stackBatch([])).toThrow(RangeError);
    expect(() => splitBatch(stackBatch([a, b]), 3)).toThrow(RangeError);
  });
});
