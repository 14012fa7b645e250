/**
 * Top-10 search over galleries of identity vectors, every variant measured in the same run on the
 * same data: a naive JavaScript loop (plain arrays, score all, sort), the exact index (float32
 * rows, native SIMD scan + exact re-check), its int8 (native scan of codes, re-ranked from float32)
 * and float16 (JavaScript kernel) storage, and the HNSW graph (usearch) over float32 or float16
 * rows. Each graph is built once and searched at every `--expansions` value (ef, all candidates
 * re-ranked exactly). Recall is measured against the exact float32 index on every run.
 *   npm run bench:search -- [--sizes 10000,100000,1000000] [--queries 200] [--noise 0.5]
 *     [--connectivity 16] [--expansion-add 128] [--expansions 256,1024,4096] [--graph-scalar i8]
 *     [--variants naive,int8,float16,hnsw,hnsw-f16]
 *
 * Data: the bundle's identity coefficients are standardised (σ units), so subjects are drawn from
 * N(0, I) in 198-d, starting with the real LFW subjects of the bundle's label file when it exists
 * (.cache/labels/<bundle>.json: per-person fitted [α, β]). Each subject has 3 gallery photos and
 * one held-out photo: subject + N(0, noise² I). Queries are held-out photos of gallery subjects.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { mulberry32, randomInt, randomNormal, type Random } from '../src/training/random.js';
import type { HnswOptions } from '../src/search/hnsw-layer.js';
import type { StorageKind } from '../src/search/row-stores.js';
import { DEFAULT_APPROXIMATE_FROM, DEFAULT_HNSW_OPTIONS, VectorIndex } from '../src/search/vector-index.js';

const DIMENSION = 198;
const K = 10;
const PHOTOS_PER_SUBJECT = 3;
const LABELS_FILE = '.cache/labels/lfw-facemesh-v2.json';
/** Naive queries cost a full sort each: about 2e7 scored rows in all keeps a size's naive run under a minute. */
const NAIVE_ROW_BUDGET = 2e7;

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10000,100000,1000000' },
    queries: { type: 'string', default: '200' },
    noise: { type: 'string', default: '0.5' },
    connectivity: { type: 'string', default: String(DEFAULT_HNSW_OPTIONS.connectivity) },
    'expansion-add': { type: 'string', default: String(DEFAULT_HNSW_OPTIONS.expansionAdd) },
    expansions: { type: 'string', default: '256,1024,4096' },
    'graph-scalar': { type: 'string', default: DEFAULT_HNSW_OPTIONS.scalar },
    variants: { type: 'string', default: 'naive,float32,int8,float16,hnsw,hnsw-f16' },
    seed: { type: 'string', default: '1' },
    /** Internal: measure one "size:variant" in this process and print it as JSON. */
    child: { type: 'string' },
  },
});

const expansions = values.expansions.split(',').map(Number);
const hnsw: HnswOptions = {
  connectivity: Number(values.connectivity),
  expansionAdd: Number(values['expansion-add']),
  expansionSearch: expansions[0],
  scalar: values['graph-scalar'] as HnswOptions['scalar'],
  threads: 0,
};

interface Workload {
  /** `size` gallery rows then `queries` query rows. */
  readonly vectors: Float32Array;
  readonly size: number;
  readonly queries: number;
  readonly realSubjects: number;
}

function realSubjectCentres(): Float32Array[] {
  if (!existsSync(LABELS_FILE)) return [];
  const { labels } = JSON.parse(readFileSync(LABELS_FILE, 'utf8')) as { labels: { shape: number[]; texture: number[] }[] };
  return labels.map((label) => Float32Array.from([...label.shape, ...label.texture]));
}

function noisyCopy(centre: Float32Array, noise: number, random: Random, out: Float32Array, offset: number): void {
  for (let i = 0; i < DIMENSION; i++) out[offset + i] = centre[i] + noise * randomNormal(random);
}

function workload(size: number, queries: number, noise: number, seed: number): Workload {
  const random = mulberry32(seed);
  const real = realSubjectCentres();
  const subjects = Math.ceil(size / PHOTOS_PER_SUBJECT);
  const centres = Array.from({ length: subjects }, (_, s) => real[s] ?? Float32Array.from({ length: DIMENSION }, () => randomNormal(random)));
  const vectors = new Float32Array((size + queries) * DIMENSION);
  for (let row = 0; row < size; row++) noisyCopy(centres[Math.floor(row / PHOTOS_PER_SUBJECT)], noise, random, vectors, row * DIMENSION);
  for (let q = 0; q < queries; q++) noisyCopy(centres[randomInt(random, subjects)], noise, random, vectors, (size + q) * DIMENSION);
  return { vectors, size, queries, realSubjects: Math.min(real.length, subjects) };
}

const row = (w: Workload, i: number): Float32Array => w.vectors.subarray(i * DIMENSION, (i + 1) * DIMENSION);
const idOf = (i: number): string => `face-${String(i).padStart(7, '0')}`;

interface Searcher {
  search(query: Float32Array, k: number, expansion?: number): string[];
}

/** What a straightforward implementation would be: arrays of numbers, score everything, sort. */
function naiveSearcher(w: Workload): Searcher {
  const units = Array.from({ length: w.size }, (_, i) => normalised(Array.from(row(w, i))));
  return {
    search(query, k) {
      const q = normalised(Array.from(query));
      const scored = units.map((v, i) => ({ id: idOf(i), score: v.reduce((sum, x, j) => sum + x * q[j], 0) }));
      scored.sort((a, b) => b.score - a.score);
      return scored.slice(0, k).map((hit) => hit.id);
    },
  };
}

function normalised(v: number[]): number[] {
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

function indexSearcher(w: Workload, storage: StorageKind, approximate: boolean): Searcher {
  const index = new VectorIndex(DIMENSION, { storage, approximateFrom: approximate ? 0 : Number.POSITIVE_INFINITY, hnsw, capacity: w.size });
  for (let i = 0; i < w.size; i++) index.upsert(idOf(i), row(w, i));
  // The graph takes the rows in at the first search: part of the build.
  index.search(row(w, 0), 1);
  return { search: (query, k, expansion) => index.search(query, k, { expansion }).map((hit) => hit.id) };
}

/** One search setting of a built searcher. */
interface Run {
  /** The graph's ef, for HNSW. */
  readonly expansion?: number;
  readonly latencies: number[];
  readonly results: string[][];
}

interface Measured {
  readonly buildSeconds: number;
  readonly bytesPerVector: number;
  readonly runs: Run[];
}

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** Everything the process holds: JS heap, typed arrays and native allocations (usearch's graph). */
function residentBytes(): number {
  gc();
  gc();
  return process.memoryUsage().rss;
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

const BUILDERS: Record<string, (w: Workload) => Searcher> = {
  float32: (w) => indexSearcher(w, 'float32', false),
  naive: naiveSearcher,
  int8: (w) => indexSearcher(w, 'int8', false),
  float16: (w) => indexSearcher(w, 'float16', false),
  hnsw: (w) => indexSearcher(w, 'float32', true),
  'hnsw-f16': (w) => indexSearcher(w, 'float16', true),
};

const LABELS: Record<string, string> = {
  float32: 'exact float32 (native scan + re-check)',
  naive: 'naive JS (arrays + sort)',
  int8: 'exact int8 (native scan) + f32 re-rank',
  float16: 'exact float16 (JS kernel)',
  hnsw: `HNSW (${hnsw.scalar} graph, M ${hnsw.connectivity}) + f32 rows`,
  'hnsw-f16': `HNSW (${hnsw.scalar} graph, M ${hnsw.connectivity}) + f16 rows`,
};

/** Runs in a fresh process, so that the resident-memory growth is this variant's alone. */
function measure(size: number, variant: string): Measured {
  const w = workload(size, queries, Number(values.noise), Number(values.seed));
  const count = variant === 'naive' ? Math.max(1, Math.min(queries, Math.floor(NAIVE_ROW_BUDGET / size))) : queries;
  const before = residentBytes();
  const started = performance.now();
  const searcher = BUILDERS[variant](w);
  const buildSeconds = (performance.now() - started) / 1000;
  const bytesPerVector = (residentBytes() - before) / w.size;
  const settings = variant.startsWith('hnsw') ? expansions : [undefined];
  const runs = settings.map((expansion): Run => {
    const latencies: number[] = [];
    const results: string[][] = [];
    for (let q = 0; q < count; q++) {
      const query = row(w, w.size + q);
      const t0 = performance.now();
      results.push(searcher.search(query, K, expansion));
      latencies.push(performance.now() - t0);
    }
    return { expansion, latencies, results };
  });
  return { buildSeconds, bytesPerVector, runs };
}

function measureInChild(size: number, variant: string): Measured {
  const args = process.argv.slice(2).concat('--child', `${size}:${variant}`);
  const child = spawnSync(process.execPath, [...process.execArgv, process.argv[1], ...args], { encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'inherit'] });
  if (child.status !== 0) throw new Error(`measuring ${variant} at ${size} failed (exit ${child.status})`);
  return JSON.parse(child.stdout) as Measured;
}

function report(size: number, variant: string, m: Measured, truth: string[][]): void {
  const raw = 4 * DIMENSION;
  for (const run of m.runs) {
    const sorted = [...run.latencies].sort((a, b) => a - b);
    let top1 = 0;
    let top10 = 0;
    run.results.forEach((hits, q) => {
      if (hits[0] === truth[q][0]) top1++;
      const wanted = new Set(truth[q]);
      top10 += hits.filter((id) => wanted.has(id)).length / K;
    });
    const n = run.results.length;
    const label = run.expansion === undefined ? LABELS[variant] : `${LABELS[variant]}, ef ${run.expansion}`;
    console.log(
      `| ${size} | ${label} | ${quantile(sorted, 0.5).toFixed(3)} | ${quantile(sorted, 0.99).toFixed(3)} | ${(top1 / n).toFixed(3)} | ${(top10 / n).toFixed(4)} | ${m.bytesPerVector.toFixed(0)} (${(m.bytesPerVector / raw).toFixed(2)}×) | ${m.buildSeconds.toFixed(1)} | ${n} |`,
    );
  }
}

function loadLine(): string {
  return `load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`;
}

const queries = Number(values.queries);
if (values.child) {
  const [size, variant] = values.child.split(':');
  process.stdout.write(JSON.stringify(measure(Number(size), variant)));
} else {
  const sizes = values.sizes.split(',').map(Number);
  const variants = values.variants.split(',').filter((v) => v !== 'float32' && v in BUILDERS);
  console.log(`search bench: ${cpus().length}× ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ${loadLine()}, node ${process.version}`);
  console.log(`top-${K}, ${DIMENSION}-d, default exact→HNSW threshold ${DEFAULT_APPROXIMATE_FROM} (forced to 0 for the HNSW rows), expansion add ${hnsw.expansionAdd}, noise ${values.noise}`);
  console.log('| vectors | variant | p50 ms | p99 ms | recall@1 | recall@10 | resident bytes/vector (× raw f32) | build s | queries |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const size of sizes) {
    const truth = measureInChild(size, 'float32');
    report(size, 'float32', truth, truth.runs[0].results);
    for (const variant of variants) report(size, variant, measureInChild(size, variant), truth.runs[0].results);
    const real = Math.min(realSubjectCentres().length, Math.ceil(size / PHOTOS_PER_SUBJECT));
    console.log(`| ${size} | (subjects: ${real} real LFW + ${Math.ceil(size / PHOTOS_PER_SUBJECT) - real} sampled from N(0, I); ${loadLine()} after) | | | | | | | |`);
  }
}
