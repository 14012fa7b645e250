/**
 * The short form of `npm run bench:load`: 4 clients enrolling and identifying against `face3d serve`
 * (the built CLI, as a child process) for 5 s of warm-up and 15 s measured. No 5xx, no lost photo,
 * and the server's memory after the run within 50 % of its memory after the warm-up (the benchmark
 * holds it to 20 % over a longer run; a run this short still grows its heap and allocator arenas).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHILD_ADMIN_KEY, childServerEnv, freePort, startChildServer, stopChildServer, type ChildServer } from '../../bench/child-server.js';
import { loadFailures, runLoad } from '../../bench/load-run.js';
import { LFW_DEV, lfwPeople } from '../helpers/lfw.js';

const PEOPLE = 80;
const PHOTOS_PER_PERSON = 5;
const people = lfwPeople(2)?.slice(0, PEOPLE);
const describeWithLfw = people ? describe : describe.skip;
if (!people) console.warn(`load.test.ts: skipped, the LFW photos are not in ${LFW_DEV}`);

describeWithLfw('face3d serve under a short mixed load', () => {
  let dir: string;
  let server: ChildServer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'face3d-load-'));
    server = await startChildServer(childServerEnv(dir, await freePort()));
  });

  afterAll(async () => {
    if (server) await stopChildServer(server, 'SIGKILL');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('answers without 5xx, loses no photo and keeps its memory', async () => {
    const photos = people!.flatMap((person) => person.photos.slice(0, PHOTOS_PER_PERSON).map((path) => ({ person: person.name, path })));
    const report = await runLoad(
      { url: server.url, key: CHILD_ADMIN_KEY, pid: server.child.pid! },
      { clients: 4, warmupSeconds: 5, durationSeconds: 15, mix: { enroll: 1, identify: 1 }, photos, seed: 11, drainSeconds: 120 },
    );
    console.log(`load.test.ts: ${JSON.stringify(report)}`);

    expect(report.operations['enroll upload']?.count).toBeGreaterThan(0);
    expect(report.operations['identify']?.count).toBeGreaterThan(0);
    expect(report.accepted).toBeGreaterThan(0);
    expect(report.ready + report.failed).toBe(report.accepted);
    expect({ errors: loadFailures(report, 0.5), samples: report.errorSamples, serverLog: report.serverErrors > 0 ? server.log() : '' }).toEqual({ errors: [], samples: [], serverLog: '' });
  });
});
