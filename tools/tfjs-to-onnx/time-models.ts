/**
 * Rough CPU speed of the built models (onnxruntime-node): ms per image at batch 1 and 8.
 * Run after `npm run models:build`: `node dist/tools/tfjs-to-onnx/time-models.js [--dir models/build] [--threads N]`.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { readManifest, type ManifestEntry } from './manifest.js';
import { syntheticImages } from './synthetic-input.js';

const BATCH_SIZES = [1, 8] as const;
const WARM_UP_RUNS = 3;
const MIN_RUNS = 5;
const MIN_SECONDS = 1;

async function msPerImage(session: ort.InferenceSession, entry: ManifestEntry, batch: number): Promise<number> {
  const [, height, width, channels] = entry.input.shape.map(Number);
  const shape = [batch, height, width, channels] as const;
  const feeds = { [entry.input.name]: new ort.Tensor('float32', syntheticImages(shape, entry.input.range, batch), [...shape]) };
  for (let i = 0; i < WARM_UP_RUNS; i++) await session.run(feeds);
  const started = performance.now();
  let runs = 0;
  while (runs < MIN_RUNS || performance.now() - started < MIN_SECONDS * 1000) {
    await session.run(feeds);
    runs++;
  }
  return (performance.now() - started) / runs / batch;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { dir: { type: 'string', default: path.join('models', 'build') }, threads: { type: 'string' } } });
  const manifest = await readManifest(values.dir);
  if (manifest.models.length === 0) throw new Error(`no models in ${values.dir}; run npm run models:build first`);
  const options: ort.InferenceSession.SessionOptions = values.threads ? { intraOpNumThreads: Number(values.threads) } : {};
  console.log(`model           ${BATCH_SIZES.map((b) => `batch ${b} ms/img`.padStart(17)).join('')}`);
  for (const entry of manifest.models) {
    const session = await ort.InferenceSession.create(path.join(values.dir, entry.file), options);
    const timings: number[] = [];
    for (const batch of BATCH_SIZES) timings.push(await msPerImage(session, entry, batch));
    console.log(`${entry.name.padEnd(16)}${timings.map((ms) => ms.toFixed(2).padStart(17)).join('')}`);
    await session.release();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
