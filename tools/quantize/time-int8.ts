/**
 * Each network with an int8 file against its float file, side by side in one run: ms per image at
 * batch 1 and 8, one intra-op thread (FACE3D_THREADS=1), each at the graph optimisation that runs it
 * fastest of `extended` and `all`; and the dynamic form (tools/quantize/dynamic.ts, the same layers
 * float), built in memory. The forms are timed in alternating rounds and each figure is the median
 * round, so a load that comes and goes hits them alike; the load average is printed.
 *   node dist/tools/quantize/time-int8.js [--dir models/build] [--rounds 7]
 */
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { readFile } from 'node:fs/promises';
import onnxPkg from 'onnx-proto';
import { readManifest, type ManifestEntry } from '../tfjs-to-onnx/manifest.js';
import { syntheticImages } from '../tfjs-to-onnx/synthetic-input.js';
import { DETECTOR_INPUT_SIZE } from '../../src/inference/detector.js';
import { int8ModelName } from './build.js';
import { readCalibration } from './calibration.js';
import { quantiseDynamic } from './dynamic.js';

const { onnx } = onnxPkg;

const LEVELS = ['extended', 'all'] as const;
const BATCHES = [1, 8] as const;
const RUNS_PER_ROUND = 10;

const { values } = parseArgs({ options: { dir: { type: 'string', default: path.join('models', 'build') }, rounds: { type: 'string', default: '7' } } });

interface Candidate {
  readonly label: string;
  readonly session: ort.InferenceSession;
}

async function open(model: Uint8Array, level: (typeof LEVELS)[number]): Promise<Candidate> {
  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1, graphOptimizationLevel: level });
  return { label: level, session };
}

function dynamicForm(floatBytes: Uint8Array, keepFloat: readonly string[]): Uint8Array {
  return onnx.ModelProto.encode(quantiseDynamic(onnx.ModelProto.decode(floatBytes), new Set(keepFloat))).finish();
}

/** An open spatial dimension (BlazeFace's) is timed at the size the service feeds the detector. */
function feeds(entry: ManifestEntry, batch: number): Record<string, ort.Tensor> {
  const [, a, b, c] = entry.input.shape.map((dim) => (dim === null ? DETECTOR_INPUT_SIZE : Number(dim)));
  return { [entry.input.name]: new ort.Tensor('float32', syntheticImages([batch, a, b, c], entry.input.range, batch), [batch, a, b, c]) };
}

async function msPerImage(candidate: Candidate, input: Record<string, ort.Tensor>, batch: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < RUNS_PER_ROUND; i++) await candidate.session.run(input);
  return (performance.now() - started) / RUNS_PER_ROUND / batch;
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const { models } = await readManifest(values.dir);
const calibration = await readCalibration();
const pairs = models.flatMap((entry) => {
  const int8 = models.find((other) => other.name === int8ModelName(entry.name));
  return int8 ? [{ float: entry, int8 }] : [];
});
if (pairs.length === 0) throw new Error(`no int8 models in ${values.dir}; run npm run models:build`);
const loadBefore = loadavg();
console.log('| network | fp32 batch 1, ms/image | int8 QDQ batch 1, speed-up | int8 dynamic batch 1 | fp32 batch 8 | int8 QDQ batch 8 | int8 dynamic batch 8 |');
console.log('|---|---|---|---|---|---|---|');
for (const { float, int8 } of pairs) {
  const floatBytes = await readFile(path.join(values.dir, float.file));
  const int8Bytes = await readFile(path.join(values.dir, int8.file));
  const dynamicBytes = dynamicForm(floatBytes, calibration.networks[float.name]?.keepFloat ?? []);
  const candidates = {
    float: await Promise.all(LEVELS.map((level) => open(floatBytes, level))),
    int8: await Promise.all(LEVELS.map((level) => open(int8Bytes, level))),
    dynamic: await Promise.all(LEVELS.map((level) => open(dynamicBytes, level))),
  };
  const all = [...candidates.float, ...candidates.int8, ...candidates.dynamic];
  const cells: string[] = [];
  for (const batch of BATCHES) {
    const input = feeds(float, batch);
    for (const candidate of all) await msPerImage(candidate, input, batch);
    const times = new Map(all.map((candidate) => [candidate, [] as number[]]));
    for (let round = 0; round < Number(values.rounds); round++) {
      for (const candidate of all) times.get(candidate)!.push(await msPerImage(candidate, input, batch));
    }
    const best = (list: readonly Candidate[]): { label: string; ms: number } =>
      list.map((candidate) => ({ label: candidate.label, ms: median(times.get(candidate)!) })).sort((a, b) => a.ms - b.ms)[0];
    const [f, q, d] = [best(candidates.float), best(candidates.int8), best(candidates.dynamic)];
    cells.push(`${f.ms.toFixed(2)} (${f.label}) | ${q.ms.toFixed(2)} (${q.label}), ${(f.ms / q.ms).toFixed(2)}x | ${d.ms.toFixed(2)} (${d.label}), ${(f.ms / d.ms).toFixed(2)}x`);
  }
  // Printed as soon as measured: a slow form under load takes minutes per network.
  console.log(`| ${float.name} | ${cells.join(' | ')} |`);
  await Promise.all(all.map((candidate) => candidate.session.release()));
}
const cpu = cpus();
console.log(`\n${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} cores; load average (1, 5, 15 min) ${loadBefore.map((l) => l.toFixed(1)).join(' ')} before, ${loadavg().map((l) => l.toFixed(1)).join(' ')} after; ` +
  `1 intra-op thread; median of ${values.rounds} alternating rounds of ${RUNS_PER_ROUND} runs`);
