/**
 * Measurements published on Node's diagnostics channels, so the code measured (inference
 * stages, network batches, vector searches) knows nothing of who listens; the metrics in
 * metrics.ts subscribe. With no subscriber a measurement costs one clock read.
 */
import { channel } from 'node:diagnostics_channel';
import { performance } from 'node:perf_hooks';

export type InferenceStage = 'decode' | 'detect' | 'landmarks' | 'features' | 'regress';

export interface StageTiming {
  readonly stage: InferenceStage;
  readonly seconds: number;
}

export interface BatchRun {
  /** The network's name (a small fixed set: the converted models and each bundle's regressor). */
  readonly network: string;
  readonly size: number;
}

export interface SearchTiming {
  readonly bundle: string;
  readonly seconds: number;
}

export const stageChannel = channel('face3d:inference:stage');
export const batchChannel = channel('face3d:inference:batch');
export const searchChannel = channel('face3d:search');

async function timed<T>(work: () => Promise<T>, publish: (seconds: number) => void): Promise<T> {
  const start = performance.now();
  try {
    return await work();
  } finally {
    publish((performance.now() - start) / 1000);
  }
}

/** Runs `work`, publishing its duration under `stage` whether it succeeds or throws. */
export function timeStage<T>(stage: InferenceStage, work: () => Promise<T>): Promise<T> {
  return timed(work, (seconds) => stageChannel.hasSubscribers && stageChannel.publish({ stage, seconds } satisfies StageTiming));
}

/** Runs a vector search of `bundle`, publishing its duration. */
export function timeSearch<T>(bundle: string, work: () => Promise<T>): Promise<T> {
  return timed(work, (seconds) => searchChannel.hasSubscribers && searchChannel.publish({ bundle, seconds } satisfies SearchTiming));
}

export function publishBatch(network: string, size: number): void {
  if (batchChannel.hasSubscribers) batchChannel.publish({ network, size } satisfies BatchRun);
}
