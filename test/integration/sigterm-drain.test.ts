/**
 * The server started the way the README starts it (`npm start`, a real child process), on a real
 * SQLite file: /readyz answers 503 until the models and the index are loaded; a SIGTERM to npm's
 * process while requests are in flight and jobs are queued turns /readyz false at once, answers
 * every in-flight request, lets the running job finish, exits (npm and the server both: nothing
 * left serving), and a restart runs the queued jobs, each once, then drains on SIGINT as well.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { ApiClient, dataOf } from '../../src/api/http-client.js';
import { CHILD_ADMIN_KEY, childServerEnv, exited, freePort, startChildServer, stopChildServer } from '../../bench/child-server.js';
import { assertCliBuilt, makePeopleFolder } from '../helpers/cli.js';
import { testBackend } from '../helpers/database-backends.js';
import { holdUpload, jsonLogLines, parseSamples, sample } from '../helpers/metrics-text.js';

const ENROLL = 'mutation($s: ID!, $p: [Upload!]!) { enrollPhotos(subjectId: $s, photos: $p) { photos { id } } }';
const IDENTIFY = 'query($image: Upload) { identify(image: $image) { matches { subject { id } } } }';
// Enough photos, uploaded at once, that one worker is still busy with them when the signal comes
// (a job takes tens of milliseconds since issue 16: eight photos sent one by one were all done).
const PEOPLE = 4;
const PHOTOS_EACH = 10;

// The child runs on a SQLite file (npm start reads DATABASE_URL like any deployment); the storage suites cover the other backends.
const describeOnSqlite = testBackend() === 'sqlite' ? describe : describe.skip;

let dir: string;
let npm: ChildProcess | undefined;
let stderr = '';
let port: number;
let opsPort: number;
let photos: { person: number; bytes: Buffer }[];

function url(path: string, onPort = opsPort): string {
  return `http://127.0.0.1:${onPort}${path}`;
}

async function until(condition: () => Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 20));
}

async function metrics(): Promise<ReturnType<typeof parseSamples>> {
  return parseSamples(await (await fetch(url('/metrics'))).text());
}

beforeAll(async () => {
  assertCliBuilt();
  dir = mkdtempSync(join(tmpdir(), 'face3d-sigterm-'));
  const folder = await makePeopleFolder(join(dir, 'people'), PEOPLE, PHOTOS_EACH);
  photos = [];
  for (const [index, [name, files]] of [...folder.people].entries()) {
    for (const file of files) photos.push({ person: index, bytes: await readFile(join(dir, 'people', name, file)) });
  }
  [port, opsPort] = [await freePort(), await freePort()];
}, 120_000);

afterAll(async () => {
  if (npm && npm.exitCode === null && npm.signalCode === null) {
    // The whole group: npm and the server it started (a failed test must not leave a server behind).
    process.kill(-npm.pid!, 'SIGKILL');
    await exited(npm);
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describeOnSqlite('npm start under SIGTERM', () => {
  let subjects: string[];
  const enrollIds: string[] = [];

  it('answers /readyz 503 until the models and the index are loaded, then 200', async () => {
    // As deployed: jest's NODE_ENV=test would switch off Apollo's own signal handlers, which a real start has.
    npm = spawn('npm', ['start'], { env: childServerEnv(dir, port, { NODE_ENV: 'production', FACE3D_METRICS_PORT: String(opsPort), LOG_LEVEL: 'info', FACE3D_WORKERS: '1' }), stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    npm.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    await until(async () => stderr.includes('metrics port listening'));
    const reports: { status: number; body: { ready: boolean; checks: Record<string, boolean> } }[] = [];
    await until(async () => {
      const response = await fetch(url('/readyz'));
      reports.push({ status: response.status, body: (await response.json()) as { ready: boolean; checks: Record<string, boolean> } });
      return response.status === 200;
    });
    expect(reports[0].status).toBe(503);
    expect(reports[0].body.ready).toBe(false);
    expect(reports[0].body.checks.models && reports[0].body.checks.index).toBe(false);
    for (const report of reports.slice(0, -1)) expect(Object.values(report.body.checks)).toContain(false);
    expect(reports.at(-1)!.body).toEqual({ ready: true, draining: false, checks: { migrations: true, models: true, index: true, api: true, database: true } });
  }, 120_000);

  it('drains on SIGTERM to npm: readiness false at once, in-flight requests answered, jobs kept, then npm and the server exit', async () => {
    const admin = new ApiClient(url('', port), CHILD_ADMIN_KEY);
    subjects = [];
    for (let person = 0; person < PEOPLE; person++) {
      subjects.push(dataOf(await admin.query<{ createSubject: { id: string } }>(`mutation { createSubject(input: { name: "Person ${person}" }) { id } }`)).createSubject.id);
    }
    enrollIds.push(...photos.map((_, i) => `enroll-${i}`));
    const enrolled = await Promise.all(
      photos.map((photo, i) => admin.upload(ENROLL, { s: subjects[photo.person], p: [null] }, { 'variables.p.0': { bytes: photo.bytes, name: `${i}.jpg` } }, { 'apollo-require-preflight': 'true', 'x-request-id': `enroll-${i}` })),
    );
    for (const response of enrolled) dataOf(response);
    const held = [await holdUpload(url('', port), CHILD_ADMIN_KEY, IDENTIFY, photos[0].bytes, 'held-0'), await holdUpload(url('', port), CHILD_ADMIN_KEY, IDENTIFY, photos[1].bytes, 'held-1')];
    await until(async () => sample(await metrics(), 'face3d_requests_in_flight') === held.length);
    const atSignal = await metrics();
    // The point of the test: jobs are still waiting or running when the signal comes.
    expect(sample(atSignal, 'face3d_jobs{status="QUEUED"}') + sample(atSignal, 'face3d_jobs{status="RUNNING"}')).toBeGreaterThan(0);

    npm!.kill('SIGTERM');
    await until(async () => (await fetch(url('/readyz'))).status === 503);
    expect(await (await fetch(url('/readyz'))).json()).toMatchObject({ ready: false, draining: true });
    for (const [i, request] of held.entries()) {
      const answer = await request.finish();
      expect(answer).toMatchObject({ status: 200, requestId: `held-${i}` });
      expect(JSON.parse(answer.body).data.identify.matches[0].subject.id).toBe(subjects[photos[i].person]);
    }
    expect(await exited(npm!)).toBe(0);
    // Nothing is left serving: both ports refuse.
    await expect(fetch(url('/healthz', port))).rejects.toThrow();
    await expect(fetch(url('/healthz'))).rejects.toThrow();

    const lines = jsonLogLines(stderr.split('\n'));
    const order = lines.map((line) => (line.msg === 'request' ? line.requestId : line.msg));
    const drainAt = order.findIndex((msg) => String(msg).startsWith('draining'));
    expect(drainAt).toBeGreaterThan(-1);
    for (const id of ['held-0', 'held-1']) expect(order.indexOf(id)).toBeGreaterThan(drainAt);
    for (const id of enrollIds) expect(lines.filter((line) => line.msg === 'request' && line.requestId === id)).toHaveLength(1);
  }, 180_000);

  it('runs the queued jobs after a restart (face3d serve), each once, and drains on SIGINT too', async () => {
    const restarted = await startChildServer(childServerEnv(dir, port, { NODE_ENV: 'production', FACE3D_METRICS_PORT: String(opsPort), LOG_LEVEL: 'info', FACE3D_WORKERS: '1' }));
    expect(restarted.banner).toContain('jobs requeued 0, failed 0, repaired 0');
    await until(async () => sample(await metrics(), 'face3d_jobs{status="DONE"}') === photos.length);
    expect(await stopChildServer(restarted, 'SIGINT')).toBe(0);
    const restartLines = restarted.log().split('\n');
    expect(restartLines.some((line) => line.includes('"msg":"draining'))).toBe(true);
    const db = new BetterSqlite3(join(dir, 'face3d.db'), { readonly: true });
    try {
      const jobs = db.prepare('SELECT "status", "attempts", "requestId" FROM "Job" ORDER BY "requestId"').all() as { status: string; attempts: number; requestId: string }[];
      expect(jobs).toHaveLength(photos.length);
      expect(jobs.map((job) => job.requestId).sort()).toEqual([...enrollIds].sort());
      for (const job of jobs) expect(job).toMatchObject({ status: 'DONE', attempts: 1 });
      expect(db.prepare(`SELECT count(*) AS n FROM "Photo" WHERE "status" = 'READY'`).get()).toEqual({ n: photos.length });
    } finally {
      db.close();
    }
    const jobLines = jsonLogLines([...stderr.split('\n'), ...restartLines]).filter((line) => line.msg === 'job');
    expect(jobLines.map((line) => line.requestId).sort()).toEqual([...enrollIds].sort());
    expect(jobLines.every((line) => line.outcome === 'DONE')).toBe(true);
  }, 180_000);
});
