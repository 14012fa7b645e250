/**
 * Enrollment throughput of separate `face3d worker` processes: photos per second from queued
 * to READY, with 1 and 2 worker processes and 1 or several jobs in flight per process (the
 * micro-batcher batches concurrent jobs of one process into one ONNX call), each layout at every
 * network precision (FACE3D_PRECISION) back to back, all in one run, with the load average before
 * each run (the machine may be shared: compare figures of one run only).
 *   npm run build && npm run bench:workers -- [--photos 120] [--configs 1x1,1x4,2x2,2x4] [--precisions fp32,int8] [--database postgres://…]
 * Each configuration gets a fresh database (SQLite in a temporary folder by default, or a new
 * database on the given PostgreSQL server) with the same LFW training photos queued before the
 * workers start; the clock runs from the moment every worker is up to the last photo settled.
 * A precision whose network files are not built (models/build/*.<precision>.onnx) is left out, and said.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { exited, startChildWorker } from './child-server.js';
import { loadConfig } from '../src/core/config.js';
import { Cleanups } from '../src/core/lifecycle.js';
import { listPeople } from '../src/dataset/folder-dataset.js';
import { openEncoders, openService } from '../src/service/open-service.js';
import { openDatabase, type Database } from '../src/store/database.js';

const { values: options } = parseArgs({
  options: {
    photos: { type: 'string', default: '120' },
    root: { type: 'string', default: '../shared/datasets/lfw/train' },
    database: { type: 'string' },
    configs: { type: 'string', default: '1x1,1x4,2x2,2x4' },
    precisions: { type: 'string', default: 'fp32,int8' },
  },
});
const PHOTOS = Number(options.photos);

interface Setup {
  readonly processes: number;
  readonly jobsPerProcess: number;
  readonly precision: string;
}

/** fp32 is the converted files themselves; another precision needs its own files beside them. */
function precisionBuilt(precision: string): boolean {
  if (precision === 'fp32') return true;
  const dir = join(loadConfig(process.env).modelsDir, 'build');
  return existsSync(dir) && readdirSync(dir).some((file) => file.endsWith(`.${precision}.onnx`));
}

function databaseUrl(dir: string, name: string): string {
  if (!options.database) return `file:${join(dir, `${name}.db`)}`;
  const url = new URL(options.database);
  url.pathname = `/face3d_bench_${name}_${Date.now().toString(36)}`;
  return url.toString();
}

/** Queues the photos, one subject per person, without running any job. */
async function queuePhotos(url: string, dataDir: string, files: readonly { person: string; path: string }[]): Promise<void> {
  const config = loadConfig({ ...process.env, DATABASE_URL: url, FACE3D_DATA_DIR: dataDir, FACE3D_WORKERS: '0' });
  const database = await openDatabase(url);
  const cleanups = new Cleanups();
  try {
    const encoders = await openEncoders(config, undefined, cleanups);
    const { services } = await openService(config, database, encoders, () => undefined, cleanups, { index: false });
    const subjects = new Map<string, string>();
    for (const file of files) {
      if (!subjects.has(file.person)) subjects.set(file.person, (await services.gallery.subjects.create({ name: file.person })).id);
      await services.gallery.enroll(subjects.get(file.person)!, [{ bytes: await readFile(file.path) }], null);
    }
  } finally {
    await cleanups.run();
    await database.close();
  }
}

async function settledCount(database: Database): Promise<{ ready: number; failed: number }> {
  const [ready, failed] = await Promise.all([database.prisma.photo.count({ where: { status: 'READY' } }), database.prisma.photo.count({ where: { status: 'FAILED' } })]);
  return { ready, failed };
}

async function run(setup: Setup, dir: string, files: readonly { person: string; path: string }[]) {
  const name = `w${setup.processes}x${setup.jobsPerProcess}-${setup.precision}`;
  const url = databaseUrl(dir, name);
  const dataDir = join(dir, `${name}-photos`);
  await queuePhotos(url, dataDir, files);
  const env = { ...process.env, DATABASE_URL: url, FACE3D_DATA_DIR: dataDir, FACE3D_WORKERS: String(setup.jobsPerProcess), FACE3D_THREADS: '1', FACE3D_PRECISION: setup.precision };
  const loadBefore = loadavg()[0];
  const workers = (await Promise.all(Array.from({ length: setup.processes }, () => startChildWorker(env)))).map((worker) => worker.child);
  const database = await openDatabase(url);
  const started = performance.now();
  let settled = { ready: 0, failed: 0 };
  try {
    while (settled.ready + settled.failed < files.length) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      settled = await settledCount(database);
    }
  } finally {
    await database.close();
  }
  const seconds = (performance.now() - started) / 1000;
  for (const worker of workers) worker.kill('SIGTERM');
  await Promise.all(workers.map(exited));
  return { ...setup, photos: files.length, ...settled, seconds, photosPerSecond: files.length / seconds, loadBefore };
}

const people = await listPeople(options.root);
const files = people
  .filter((person) => person.images.length >= 2)
  .flatMap((person) => person.images.slice(0, 2).map((image) => ({ person: person.name, path: join(options.root, image) })))
  .slice(0, PHOTOS);
const dir = mkdtempSync(join(tmpdir(), 'face3d-bench-workers-'));
try {
  const precisions = options.precisions.split(',');
  for (const precision of precisions.filter((p) => !precisionBuilt(p))) console.log(`precision ${precision} left out: no models/build/*.${precision}.onnx (npm run models:build)`);
  const built = precisions.filter(precisionBuilt);
  const layouts = options.configs.split(',').map((text) => text.split('x').map(Number));
  const results: Awaited<ReturnType<typeof run>>[] = [];
  // Precisions back to back within each layout, so a change in the machine's load hits both alike.
  for (const [processes, jobsPerProcess] of layouts) {
    for (const precision of built) {
      const result = await run({ processes, jobsPerProcess, precision }, dir, files);
      results.push(result);
      process.stderr.write(`${JSON.stringify(result)}\n`);
    }
  }
  const base = results[0].photosPerSecond;
  console.log(
    JSON.stringify(
      {
        machine: `${cpus().length}x ${cpus()[0]?.model}`,
        loadAverage: loadavg()[0],
        database: options.database ? 'postgresql' : 'sqlite',
        results: results.map((result) => ({ ...result, speedupVsFirst: result.photosPerSecond / base })),
      },
      null,
      2,
    ),
  );
  const cell = (processes: number, jobs: number, precision: string): string => {
    const result = results.find((r) => r.processes === processes && r.jobsPerProcess === jobs && r.precision === precision)!;
    return `${result.seconds.toFixed(1)} | ${result.photosPerSecond.toFixed(1)} | ${result.loadBefore.toFixed(1)}`;
  };
  console.log(`\n| setup | ${built.map((p) => `${p}: s | photos/s | load before`).join(' | ')} |`);
  console.log(`|---|${built.map(() => '---:|---:|---:|').join('')}`);
  for (const [processes, jobs] of layouts) console.log(`| ${processes} worker${processes > 1 ? 's' : ''} × ${jobs} job${jobs > 1 ? 's' : ''} | ${built.map((p) => cell(processes, jobs, p)).join(' | ')} |`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
