/**
 * Enrollment throughput of separate `face3d worker` processes: photos per second from queued
 * to READY, with 1 and 2 worker processes and 1 or several jobs in flight per process (the
 * micro-batcher batches concurrent jobs of one process into one ONNX call), all in one run.
 *   npm run build && npm run bench:workers -- [--photos 120] [--database postgres://…]
 * Each configuration gets a fresh database (SQLite in a temporary folder by default, or a new
 * database on the given PostgreSQL server) with the same LFW training photos queued before the
 * workers start; the clock runs from the moment every worker is up to the last photo settled.
 */
import { mkdtempSync, rmSync } from 'node:fs';
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
    configs: { type: 'string', default: '1x1,1x4,2x1,2x4' },
  },
});
const PHOTOS = Number(options.photos);

interface Setup {
  readonly processes: number;
  readonly jobsPerProcess: number;
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
    const { services } = await openService(config, database, encoders, () => undefined, { index: false });
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
  const name = `w${setup.processes}x${setup.jobsPerProcess}`;
  const url = databaseUrl(dir, name);
  const dataDir = join(dir, `${name}-photos`);
  await queuePhotos(url, dataDir, files);
  const env = { ...process.env, DATABASE_URL: url, FACE3D_DATA_DIR: dataDir, FACE3D_WORKERS: String(setup.jobsPerProcess), FACE3D_THREADS: '1' };
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
  return { ...setup, photos: files.length, ...settled, seconds, photosPerSecond: files.length / seconds };
}

const people = await listPeople(options.root);
const files = people
  .filter((person) => person.images.length >= 2)
  .flatMap((person) => person.images.slice(0, 2).map((image) => ({ person: person.name, path: join(options.root, image) })))
  .slice(0, PHOTOS);
const dir = mkdtempSync(join(tmpdir(), 'face3d-bench-workers-'));
try {
  const setups = options.configs.split(',').map((text) => {
    const [processes, jobs] = text.split('x').map(Number);
    return { processes, jobsPerProcess: jobs };
  });
  const results = [];
  for (const setup of setups) {
    const result = await run(setup, dir, files);
    results.push(result);
    process.stderr.write(`${JSON.stringify(result)}\n`);
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
} finally {
  rmSync(dir, { recursive: true, force: true });
}
