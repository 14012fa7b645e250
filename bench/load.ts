/**
 * The server under a mixed load for a bounded time (see bench/load-run.ts): `face3d serve` as a
 * child process on a fresh gallery in a temporary folder, LFW training people as the photos.
 *   npm run build && npm run bench:load -- [--clients 8] [--duration 60] [--warmup 15] [--mix enroll=30,identify=70]
 *     [--people 1000] [--seed 7] [--root ../shared/datasets/lfw/train]
 * Fails (exit 1) on any 5xx, any lost photo, or server memory after the run more than
 * --memory-tolerance (0.2) away from memory after the warm-up.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { listPeople } from '../src/dataset/folder-dataset.js';
import { CHILD_ADMIN_KEY, childServerEnv, freePort, startChildServer, stopChildServer } from './child-server.js';
import { loadFailures, parseMix, runLoad, type LoadOptions, type LoadPhoto, type LoadReport } from './load-run.js';

const { values: options } = parseArgs({
  options: {
    clients: { type: 'string', default: '8' },
    duration: { type: 'string', default: '60' },
    warmup: { type: 'string', default: '15' },
    mix: { type: 'string', default: 'enroll=30,identify=70' },
    people: { type: 'string', default: '1000' },
    'photos-per-person': { type: 'string', default: '10' },
    seed: { type: 'string', default: '7' },
    drain: { type: 'string', default: '300' },
    'memory-tolerance': { type: 'string', default: '0.2' },
    root: { type: 'string', default: '../shared/datasets/lfw/train' },
  },
});
const MIB = 1024 * 1024;

/** The first `count` people (by name) with two photos or more, at most `perPerson` photos each. */
async function lfwPhotos(root: string, count: number, perPerson: number): Promise<LoadPhoto[]> {
  const people = (await listPeople(root)).filter((person) => person.images.length >= 2).slice(0, count);
  return people.flatMap((person) => person.images.slice(0, perPerson).map((image) => ({ person: person.name, path: join(root, image) })));
}

function table(report: LoadReport): string[] {
  return [
    '| operation | n | p50 ms | p99 ms | per s |',
    '|---|---:|---:|---:|---:|',
    ...Object.entries(report.operations).map(
      ([name, stats]) => `| ${name} | ${stats.count} | ${stats.p50Ms.toFixed(1)} | ${stats.p99Ms.toFixed(1)} | ${stats.perSecond.toFixed(2)} |`,
    ),
  ];
}

async function main(): Promise<void> {
  if (!existsSync(options.root)) {
    process.stderr.write(`bench:load: stopped, the LFW photos are not in ${options.root} (give another folder with --root)\n`);
    process.exitCode = 1;
    return;
  }
  const load: LoadOptions = {
    clients: Number(options.clients),
    warmupSeconds: Number(options.warmup),
    durationSeconds: Number(options.duration),
    mix: parseMix(options.mix),
    photos: await lfwPhotos(options.root, Number(options.people), Number(options['photos-per-person'])),
    seed: Number(options.seed),
    drainSeconds: Number(options.drain),
    log: (line) => process.stderr.write(`${line}\n`),
  };
  const dir = mkdtempSync(join(tmpdir(), 'face3d-bench-load-'));
  const server = await startChildServer(childServerEnv(dir, await freePort()));
  let report: LoadReport;
  try {
    report = await runLoad({ url: server.url, key: CHILD_ADMIN_KEY, pid: server.child.pid! }, load);
  } catch (error) {
    process.stderr.write(`server log:\n${server.log()}\n`);
    throw error;
  } finally {
    await stopChildServer(server);
    rmSync(dir, { recursive: true, force: true });
  }
  const tolerance = Number(options['memory-tolerance']);
  const failures = loadFailures(report, tolerance);
  const change = report.rssAfterRunBytes / report.rssAfterWarmupBytes - 1;
  const lines = [
    `Load: ${load.clients} clients, mix ${options.mix}, ${load.warmupSeconds} s warm-up then ${report.measuredSeconds.toFixed(1)} s measured; ${load.photos.length} LFW photos of ${new Set(load.photos.map((p) => p.person)).size} people.`,
    `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'} (load average ${loadavg()[0].toFixed(1)} at the end), Node ${process.version}.`,
    '',
    ...table(report),
    '',
    `Requests: ${report.requests} answered, ${report.serverErrors} server errors (5xx or INTERNAL), ${report.transportErrors} without a response; error codes ${JSON.stringify(report.errorCodes)}.`,
    `Photos: ${report.accepted} accepted, ${report.ready} READY, ${report.failed} FAILED ${JSON.stringify(report.failureCodes)}, ${report.unfinished} lost, ${report.failedWithoutCode} FAILED without a code.`,
    `Server memory (RSS, queue empty): ${(report.rssAfterWarmupBytes / MIB).toFixed(0)} MiB after the warm-up, ${(report.rssAfterRunBytes / MIB).toFixed(0)} MiB after the run (${change >= 0 ? '+' : ''}${(change * 100).toFixed(1)} %).`,
    failures.length === 0 ? 'Result: pass.' : `Result: FAIL: ${failures.join('; ')}.`,
    ...report.errorSamples.map((sample) => `  error: ${sample}`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (failures.length > 0) process.exitCode = 1;
}

await main();
