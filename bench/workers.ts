/**
 * Enrollment throughput on one machine: photos per second from upload to READY, with separate
 * `face3d worker` processes (1 or more, each with 1 or several jobs in flight: the micro-batcher
 * batches concurrent jobs of one process into one ONNX call) beside an API-only `face3d serve`
 * (FACE3D_WORKERS=0; a layout `1x8+s8` has the server run 8 jobs too, upload mode only), each
 * layout at every network precision (FACE3D_PRECISION) back to back, all in one run, with the load
 * average before each run (the machine may be shared: compare figures of one run only).
 *   npm run build && npm run bench:workers -- [--photos 600] [--configs 2x4,2x8] [--precisions fp32,int8]
 *     [--modes upload,queued] [--clients 4] [--per-person 2] [--per-request 1] [--database postgres://…]
 *     [--cpu-prof DIR]
 * Modes, each on a fresh gallery (SQLite in a temporary folder by default, or a new database on the
 * given PostgreSQL server) with the same LFW training photos (the first `--per-person` of each
 * person with at least two), one subject per person:
 * - upload (issue 16's line): the subjects are created first; the clock starts at the first photo
 *   sent, `--clients` clients upload the photos, each `enrollPhotos` request holding up to
 *   `--per-request` photos of one subject (GraphQL multipart over HTTP, the server's real path; the
 *   bodies encoded before the clock), while the workers run, and stops at the last photo READY or
 *   FAILED. One photo per request is the costliest way to send them; a library of photos per person
 *   is sent a person at a time.
 * - queued (the figure of earlier sessions): every photo is uploaded the same way before the workers
 *   start; the clock runs from every worker up to the last photo settled (the upload is not timed).
 * Each run also gives the CPU its processes spent per photo (server, workers and the workers' main
 * threads alone, this process's clients), read from /proc while the clock ran. `--cpu-prof DIR`: V8 CPU profiles of the server and
 * workers in DIR. A precision whose network files are not built (models/build/*.<precision>.onnx) is
 * left out, and said.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CHILD_ADMIN_KEY, childServerEnv, exited, freePort, startChildServer, startChildWorker, stopChildServer } from './child-server.js';
import { createSubject, ENROLL_PHOTOS, readPhoto, type EnrollPhotosData } from './api-helpers.js';
import { ApiClient, dataOf, type FilePart, type GraphQLResponse } from '../src/api/http-client.js';
import { multipartBody } from '../src/api/multipart.js';
import { mapConcurrent } from '../src/core/concurrency.js';
import { loadConfig } from '../src/core/config.js';
import { listPeople } from '../src/dataset/folder-dataset.js';
import { openDatabase, type Database } from '../src/store/database.js';

const { values: options } = parseArgs({
  options: {
    photos: { type: 'string', default: '600' },
    root: { type: 'string', default: '../shared/datasets/lfw/train' },
    database: { type: 'string' },
    configs: { type: 'string', default: '2x4,2x8' },
    precisions: { type: 'string', default: 'fp32,int8' },
    modes: { type: 'string', default: 'upload,queued' },
    clients: { type: 'string', default: '4' },
    'per-person': { type: 'string', default: '2' },
    'per-request': { type: 'string', default: '1' },
    'cpu-prof': { type: 'string' },
  },
});
const PHOTOS = Number(options.photos);
const CLIENTS = Number(options.clients);
const PER_PERSON = Number(options['per-person']);
const PER_REQUEST = Number(options['per-request']);
for (const [name, value] of [['--per-person', PER_PERSON], ['--per-request', PER_REQUEST]] as const) {
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
}
const MODES = ['upload', 'queued'] as const;
type Mode = (typeof MODES)[number];
/** How often the settled photos are counted: the figures' resolution. */
const POLL_MS = 100;
/** Linux's clock ticks per second in /proc/<pid>/stat (USER_HZ, 100 on every common kernel). */
const CLOCK_TICKS = 100;

/** `2x8`: two worker processes of 8 jobs beside an API-only server; `1x8+s8`: one, and the server runs 8 jobs too. */
interface Layout {
  readonly processes: number;
  readonly jobsPerProcess: number;
  readonly serverJobs: number;
}

function parseLayout(text: string): Layout {
  const match = /^(\d+)x(\d+)(?:\+s(\d+))?$/.exec(text);
  if (!match) throw new Error(`--configs: ${text} is not PROCESSESxJOBS or PROCESSESxJOBS+sJOBS (e.g. 2x8, 1x8+s8)`);
  return { processes: Number(match[1]), jobsPerProcess: Number(match[2]), serverJobs: Number(match[3] ?? 0) };
}

function layoutName(layout: Layout): string {
  const workers = `${layout.processes} worker${layout.processes === 1 ? '' : 's'} × ${layout.jobsPerProcess} job${layout.jobsPerProcess === 1 ? '' : 's'}`;
  return layout.serverJobs > 0 ? `${workers} + server × ${layout.serverJobs}` : workers;
}

interface Setup extends Layout {
  readonly precision: string;
  readonly mode: Mode;
}

interface PhotoFile {
  readonly person: string;
  readonly path: string;
}

/** fp32 is the converted files themselves; another precision needs its own files beside them. */
function precisionBuilt(precision: string): boolean {
  if (precision === 'fp32') return true;
  const dir = join(loadConfig(process.env).modelsDir, 'build');
  return existsSync(dir) && readdirSync(dir).some((file) => file.endsWith(`.${precision}.onnx`));
}

/** A new database on the PostgreSQL server of `serverUrl`. */
function databaseUrl(serverUrl: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/face3d_bench_${Date.now().toString(36)}`;
  return url.toString();
}

/**
 * User and system CPU seconds a live process has spent (Linux /proc), or with `mainThreadOnly` its
 * main thread alone: JavaScript and ONNX Runtime's sessions run there, while V8's helper threads
 * (parallel scavenges, concurrent marking and compilation) and libuv's pool (sharp, file reads) make
 * up the rest.
 */
function cpuSeconds(pid: number, mainThreadOnly = false): number {
  const stat = readFileSync(mainThreadOnly ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) in parentheses: utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/** A command prefix that runs node with V8's CPU profiler writing into `dir` (see startChild's wrapper). */
function profilerWrapper(dir: string | undefined): string[] | undefined {
  if (!dir) return undefined;
  mkdirSync(dir, { recursive: true });
  return ['sh', '-c', `node="$1"; shift; exec "$node" --cpu-prof --cpu-prof-dir='${resolve(dir)}' "$@"`, 'sh'];
}

async function settledCount(database: Database): Promise<{ ready: number; failed: number }> {
  const [ready, failed] = await Promise.all([database.prisma.photo.count({ where: { status: 'READY' } }), database.prisma.photo.count({ where: { status: 'FAILED' } })]);
  return { ready, failed };
}

async function waitSettled(database: Database, total: number): Promise<{ ready: number; failed: number }> {
  let settled = { ready: 0, failed: 0 };
  while (settled.ready + settled.failed < total) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    settled = await settledCount(database);
  }
  return settled;
}

/** What the processes of a run spent on the CPU while its clock ran. */
class CpuMeter {
  private readonly start: Map<number, number>;
  private readonly mainThreadsStart: Map<number, number>;
  private readonly ownStart = process.cpuUsage();

  /** `mainThreadsOf`: the group whose main threads are also given apart (`<group> main thread`). */
  constructor(
    private readonly groups: Readonly<Record<string, readonly number[]>>,
    private readonly mainThreadsOf: string,
  ) {
    this.start = new Map(Object.values(groups).flatMap((pids) => pids.map((pid) => [pid, cpuSeconds(pid)] as const)));
    this.mainThreadsStart = new Map(groups[mainThreadsOf].map((pid) => [pid, cpuSeconds(pid, true)] as const));
  }

  /** CPU milliseconds per photo of each group of processes, and of this one's clients and polling. */
  perPhoto(photos: number): Record<string, number> {
    const own = process.cpuUsage(this.ownStart);
    const spent: [string, number][] = Object.entries(this.groups).map(([name, pids]) => [name, pids.reduce((sum, pid) => sum + cpuSeconds(pid) - this.start.get(pid)!, 0)]);
    spent.push([`${this.mainThreadsOf} main thread`, [...this.mainThreadsStart].reduce((sum, [pid, start]) => sum + cpuSeconds(pid, true) - start, 0)]);
    spent.push(['bench', (own.user + own.system) / 1e6]);
    return Object.fromEntries(spent.map(([name, seconds]) => [name, Number(((seconds * 1000) / photos).toFixed(2))]));
  }
}

/** An `enrollPhotos` request of one subject's photos, encoded (GraphQL multipart) before any clock runs. */
interface EncodedUpload {
  readonly body: Buffer;
  readonly contentType: string;
}

async function encodeUpload(subjectId: string, photos: readonly FilePart[]): Promise<EncodedUpload> {
  const parts = photos.map((photo, i) => ({ path: `variables.p.${i}`, file: new Blob([photo.bytes], { type: 'image/jpeg' }), name: photo.name }));
  const form = multipartBody(ENROLL_PHOTOS, { s: subjectId, p: photos.map(() => null) }, parts);
  const encoded = new Response(form);
  return { body: Buffer.from(await encoded.arrayBuffer()), contentType: encoded.headers.get('content-type')! };
}

/**
 * Sends every photo, `CLIENTS` requests at a time over kept-alive connections (plain node:http and
 * bodies encoded beforehand: this process shares the machine with the service, so its own CPU per
 * request is kept small). Fails on any HTTP or GraphQL error.
 */
async function uploadAll(url: string, uploads: readonly EncodedUpload[]): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
  const headers = { authorization: `Bearer ${CHILD_ADMIN_KEY}`, 'apollo-require-preflight': 'true' };
  try {
    await mapConcurrent(uploads, CLIENTS, async (upload) => {
      const answer = await new Promise<string>((resolve, reject) => {
        const request = httpRequest(`${url}/graphql`, { method: 'POST', agent, headers: { ...headers, 'content-type': upload.contentType, 'content-length': upload.body.length } }, (response) => {
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (text += chunk));
          response.on('end', () => (response.statusCode === 200 ? resolve(text) : reject(new Error(`upload answered HTTP ${response.statusCode}: ${text}`))));
        });
        request.on('error', reject);
        request.end(upload.body);
      });
      dataOf<EnrollPhotosData>(JSON.parse(answer) as GraphQLResponse<EnrollPhotosData>);
    });
  } finally {
    agent.destroy();
  }
}

/**
 * One run on a fresh gallery served by an API-only server: the subjects created, the photos read,
 * then (upload) the workers started and the clock run from the first upload to the last photo
 * settled, or (queued) every photo uploaded, the workers started and the clock run from then.
 */
async function runOnce(setup: Setup, dir: string, files: readonly PhotoFile[]) {
  const env = childServerEnv(dir, await freePort(), {
    FACE3D_WORKERS: String(setup.jobsPerProcess),
    FACE3D_THREADS: '1',
    FACE3D_PRECISION: setup.precision,
    ...(options.database && { DATABASE_URL: databaseUrl(options.database) }),
  });
  const server = await startChildServer({ ...env, FACE3D_WORKERS: String(setup.serverJobs) }, profilerWrapper(options['cpu-prof']));
  const workers: ChildProcess[] = [];
  const database = await openDatabase(env.DATABASE_URL!);
  try {
    const client = new ApiClient(server.url, CHILD_ADMIN_KEY);
    const people = [...new Set(files.map((file) => file.person))];
    const subjects = new Map(await mapConcurrent(people, CLIENTS, async (person) => [person, await createSubject(client, person)] as const));
    const uploads = await Promise.all(requestGroups(files).map(async (group) => encodeUpload(subjects.get(group[0].person)!, await Promise.all(group.map((file) => readPhoto(file.path))))));
    if (setup.mode === 'queued') await uploadAll(server.url, uploads);
    workers.push(...(await Promise.all(Array.from({ length: setup.processes }, () => startChildWorker(env, profilerWrapper(options['cpu-prof']))))).map((worker) => worker.child));
    const loadBefore = loadavg()[0];
    const meter = new CpuMeter({ server: [server.child.pid!], workers: workers.map((worker) => worker.pid!) }, 'workers');
    const started = performance.now();
    const startedUs = monotonicUs();
    let uploadSeconds = 0;
    const uploading = setup.mode === 'upload' ? uploadAll(server.url, uploads).then(() => (uploadSeconds = (performance.now() - started) / 1000)) : undefined;
    const [settled] = await Promise.all([waitSettled(database, files.length), uploading]);
    const seconds = (performance.now() - started) / 1000;
    // The clock's window in µs of the monotonic clock, as CPU profiles time their samples.
    const profileWindowUs = options['cpu-prof'] && [startedUs, monotonicUs()];
    return { seconds, ...settled, loadBefore, ...(uploading && { uploadSeconds }), cpuMsPerPhoto: meter.perPhoto(files.length), ...(profileWindowUs && { profileWindowUs }) };
  } catch (error) {
    process.stderr.write(`server log:\n${server.log()}\n`);
    throw error;
  } finally {
    await database.close();
    for (const worker of workers) worker.kill('SIGTERM');
    await Promise.all(workers.map(exited));
    await stopChildServer(server);
  }
}

async function run(setup: Setup, root: string, files: readonly PhotoFile[]) {
  const dir = join(root, `w${setup.processes}x${setup.jobsPerProcess}s${setup.serverJobs}-${setup.precision}-${setup.mode}`);
  mkdirSync(dir);
  try {
    const result = await runOnce(setup, dir, files);
    return { ...setup, photos: files.length, ...result, photosPerSecond: files.length / result.seconds };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Consecutive photos of one person, up to PER_REQUEST at a time: what one `enrollPhotos` request sends. */
function requestGroups(photos: readonly PhotoFile[]): PhotoFile[][] {
  const groups: PhotoFile[][] = [];
  for (const photo of photos) {
    const last = groups.at(-1);
    if (last && last.length < PER_REQUEST && last[0].person === photo.person) last.push(photo);
    else groups.push([photo]);
  }
  return groups;
}

const people = await listPeople(options.root);
const files = people
  .filter((person) => person.images.length >= 2)
  .flatMap((person) => person.images.slice(0, PER_PERSON).map((image) => ({ person: person.name, path: join(options.root, image) })))
  .slice(0, PHOTOS);
const modes = options.modes.split(',') as Mode[];
for (const mode of modes) if (!MODES.includes(mode)) throw new Error(`--modes: ${mode} is not one of ${MODES.join(', ')}`);
const root = mkdtempSync(join(tmpdir(), 'face3d-bench-workers-'));
try {
  const precisions = options.precisions.split(',');
  for (const precision of precisions.filter((p) => !precisionBuilt(p))) console.log(`precision ${precision} left out: no models/build/*.${precision}.onnx (npm run models:build)`);
  const built = precisions.filter(precisionBuilt);
  const layouts = options.configs.split(',').map(parseLayout);
  const results: Awaited<ReturnType<typeof run>>[] = [];
  // Precisions and modes back to back within each layout, so a change in the machine's load hits them alike.
  for (const layout of layouts) {
    for (const precision of built) {
      // A server that runs jobs would run the queued photos while they are being queued.
      for (const mode of modes.filter((mode) => mode === 'upload' || layout.serverJobs === 0)) {
        const result = await run({ ...layout, precision, mode }, root, files);
        results.push(result);
        process.stderr.write(`${JSON.stringify(result)}\n`);
      }
    }
  }
  console.log(
    JSON.stringify({ machine: `${cpus().length}x ${cpus()[0]?.model}`, loadAverage: loadavg()[0], database: options.database ? 'postgresql' : 'sqlite', clients: CLIENTS, perPerson: PER_PERSON, perRequest: PER_REQUEST, results }, null, 2),
  );
  const cell = (layout: Layout, precision: string, mode: Mode): string => {
    const result = results.find((r) => layoutName(r) === layoutName(layout) && r.precision === precision && r.mode === mode);
    if (!result) return '– | – | –';
    const cpu = Object.entries(result.cpuMsPerPhoto)
      .map(([name, ms]) => `${name} ${ms.toFixed(1)}`)
      .join(', ');
    return `${result.photosPerSecond.toFixed(1)} | ${result.loadBefore.toFixed(1)} | ${cpu}`;
  };
  const columns = built.flatMap((precision) => modes.map((mode) => ({ precision, mode })));
  const heading = (mode: Mode): string => (mode === 'upload' ? 'upload → READY' : 'queued → READY');
  console.log(`\nphotos/s, load average before the run, CPU ms per photo by process (${files.length} photos, up to ${PER_PERSON} per person; upload: ${CLIENTS} clients, up to ${PER_REQUEST} photos of one subject per request)`);
  console.log(`| setup | ${columns.map(({ precision, mode }) => `${precision} ${heading(mode)}: photos/s | load | CPU ms/photo`).join(' | ')} |`);
  console.log(`|---|${columns.map(() => '---:|---:|---|').join('')}`);
  for (const layout of layouts) console.log(`| ${layoutName(layout)} | ${columns.map(({ precision, mode }) => cell(layout, precision, mode)).join(' | ')} |`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
