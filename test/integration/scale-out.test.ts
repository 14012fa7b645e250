/**
 * Scale-out on one database: an API process that runs no jobs (FACE3D_WORKERS=0), a
 * `face3d worker` process that runs them, and a second API process. Photos submitted to the
 * first API process are enrolled by the worker; both API processes learn of the new faces and
 * of deletes through the change feed. Runs on SQLite by default and on a real PostgreSQL server
 * with FACE3D_TEST_DATABASE=postgres (PGlite is one process's database: skipped there).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient, dataOf } from '../../src/api/http-client.js';
import { subscribePhotoStatus } from '../helpers/photo-status.js';
import { CHILD_ADMIN_KEY, childServerEnv, exited, freePort, startChildServer, startChildWorker, type ChildServer } from '../../bench/child-server.js';
import { testBackend, testDatabaseUrl } from '../helpers/database-backends.js';
import { LFW_DEV, lfwPeople } from '../helpers/lfw.js';

const PHOTOS = 3;
/** Short, so the test does not wait a minute for a dead worker's jobs. */
const LEASE_MS = 3000;
const people = lfwPeople(PHOTOS)?.slice(0, 2);
const multiProcess = testBackend() !== 'pglite';
const describeScaleOut = people && multiProcess ? describe : describe.skip;
if (!people) console.warn(`scale-out.test.ts: skipped, the LFW photos are not in ${LFW_DEV}`);
if (!multiProcess) console.warn('scale-out.test.ts: skipped on PGlite, which one process owns');

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describeScaleOut('an API process, a separate worker process and a second API process on one database', () => {
  let dir: string;
  const servers: ChildServer[] = [];
  let worker: { child: ChildProcess; log: () => string } | undefined;
  let api: ApiClient;
  let otherApi: ApiClient;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'face3d-scale-'));
    const shared = { DATABASE_URL: testDatabaseUrl(dir), FACE3D_WORKERS: '0', FACE3D_SYNC_MS: '200' };
    // The second API process polls seldom, so most of its polls read a photo's claim and its save together.
    for (const syncMs of ['200', '2000']) servers.push(await startChildServer(childServerEnv(dir, await freePort(), { ...shared, FACE3D_SYNC_MS: syncMs })));
    worker = await startChildWorker(childServerEnv(dir, 0, { ...shared, FACE3D_WORKERS: '2' }));
    api = new ApiClient(servers[0].url, CHILD_ADMIN_KEY);
    otherApi = new ApiClient(servers[1].url, CHILD_ADMIN_KEY);
  });

  afterAll(async () => {
    for (const child of [...servers.map((server) => server.child), worker?.child]) {
      child?.kill('SIGTERM');
      if (child) await exited(child);
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('enrolls through the worker what the API process accepted, both API processes identify it, and the other one pushes its status', async () => {
    const enroll = 'mutation($s: ID!, $p: [Upload!]!) { enrollPhotos(subjectId: $s, photos: $p) { photos { id status } } }';
    const photoIds: string[][] = [];
    let subscription: Awaited<ReturnType<typeof subscribePhotoStatus>> | undefined;
    for (const person of people!) {
      const subject = dataOf(await api.query<{ createSubject: { id: string } }>('mutation($n: String!) { createSubject(input: { name: $n }) { id } }', { n: person.name })).createSubject;
      // The worker's changes reach a subscriber of the other API process only through the change feed.
      subscription ??= await subscribePhotoStatus(servers[1].url, CHILD_ADMIN_KEY, subject.id);
      const files = Object.fromEntries(await Promise.all(person.photos.slice(0, PHOTOS).map(async (path, i) => [`variables.p.${i}`, { bytes: await readFile(path), name: `${i}.jpg` }] as const)));
      const accepted = dataOf(await api.upload<{ enrollPhotos: { photos: { id: string; status: string }[] } }>(enroll, { s: subject.id, p: Array(PHOTOS).fill(null) }, files)).enrollPhotos.photos;
      expect(accepted.every((photo) => photo.status === 'PENDING')).toBe(true);
      photoIds.push(accepted.map((photo) => photo.id));
    }
    const status = 'query($id: ID!) { photo(id: $id) { status } }';
    for (const id of photoIds.flat()) {
      await until(`photo ${id} READY`, async () => {
        const photo = dataOf(await api.query<{ photo: { status: string } }>(status, { id })).photo;
        expect(photo.status).not.toBe('FAILED');
        return photo.status === 'READY' ? true : undefined;
      });
    }

    const identify = 'query($p: ID!) { identify(photoId: $p, topK: 2, mode: PHOTO) { matches { subject { name } face { id } } } }';
    const stats = '{ serverInfo { enrolledFaces } }';
    for (const client of [api, otherApi]) {
      await until('the change feed to bring every face', async () => {
        const { enrolledFaces } = dataOf(await client.query<{ serverInfo: { enrolledFaces: number } }>(stats)).serverInfo;
        return enrolledFaces === PHOTOS * people!.length ? true : undefined;
      });
      const { matches } = dataOf(await client.query<{ identify: { matches: { subject: { name: string } }[] } }>(identify, { p: photoIds[0][0] })).identify;
      expect(matches[0].subject.name).toBe(people![0].name);
    }
    await subscription!.statuses(PHOTOS);
    await subscription!.close();
    // Each change entry carries the status its transaction left: PENDING from the upload's own entry,
    // PROCESSING even when one of the other process's polls reads a photo's claim and its save together
    // (a fast worker claims in the previous save), and READY once, not once per entry read.
    for (const id of photoIds[0]) expect(subscription!.ofPhoto(id)).toEqual(['PENDING', 'PROCESSING', 'READY']);
  });

  it('finishes the jobs of a worker killed mid-job once their leases lapse, each photo with one face', async () => {
    worker!.child.kill('SIGKILL');
    await exited(worker!.child);
    const person = lfwPeople(PHOTOS + 2)![2];
    const subject = dataOf(await api.query<{ createSubject: { id: string } }>('mutation($n: String!) { createSubject(input: { name: $n }) { id } }', { n: person.name })).createSubject;
    const files = Object.fromEntries(await Promise.all(person.photos.slice(0, PHOTOS).map(async (path, i) => [`variables.p.${i}`, { bytes: await readFile(path), name: `${i}.jpg` }] as const)));
    const enroll = 'mutation($s: ID!, $p: [Upload!]!) { enrollPhotos(subjectId: $s, photos: $p) { photos { id } } }';
    const ids = dataOf(await api.upload<{ enrollPhotos: { photos: { id: string }[] } }>(enroll, { s: subject.id, p: Array(PHOTOS).fill(null) }, files)).enrollPhotos.photos.map((photo) => photo.id);
    const env = childServerEnv(dir, 0, { DATABASE_URL: testDatabaseUrl(dir), FACE3D_WORKERS: '2', FACE3D_JOB_LEASE_MS: String(LEASE_MS) });
    const doomed = await startChildWorker(env);
    const status = 'query($id: ID!) { photo(id: $id) { status } }';
    await until('a job to be claimed', async () => {
      const states = await Promise.all(ids.map(async (id) => dataOf(await api.query<{ photo: { status: string } }>(status, { id })).photo.status));
      return states.includes('PROCESSING') || states.includes('READY') ? true : undefined;
    });
    doomed.child.kill('SIGKILL');
    await exited(doomed.child);
    worker = await startChildWorker(env);
    for (const id of ids) {
      await until(`photo ${id} READY after the takeover`, async () => {
        const photo = dataOf(await api.query<{ photo: { status: string } }>(status, { id })).photo;
        return photo.status === 'READY' ? true : undefined;
      });
    }
    const faces = 'query($id: ID!) { subject(id: $id) { photos(first: 20) { edges { node { face { id } } } } } }';
    const edges = dataOf(await api.query<{ subject: { photos: { edges: { node: { face: { id: string } | null } }[] } } }>(faces, { id: subject.id })).subject.photos.edges;
    expect(edges.filter((edge) => edge.node.face).length).toBe(PHOTOS);
  });

  it('forgets on every API process a subject deleted on one of them', async () => {
    const { subjects } = dataOf(await api.query<{ subjects: { edges: { node: { id: string; name: string } }[] } }>('{ subjects(first: 10) { edges { node { id name } } } }'));
    const doomed = subjects.edges.map((edge) => edge.node).find((subject) => subject.name === people![0].name)!;
    const stats = '{ serverInfo { subjects enrolledFaces } }';
    const countsOn = async (client: ApiClient) => dataOf(await client.query<{ serverInfo: { subjects: number; enrolledFaces: number } }>(stats)).serverInfo;
    const before = { subjects: people!.length + 1, enrolledFaces: PHOTOS * (people!.length + 1) };
    for (const client of [api, otherApi]) {
      await until('both API processes to see every face', async () => {
        const counts = await countsOn(client);
        return counts.subjects === before.subjects && counts.enrolledFaces === before.enrolledFaces ? true : undefined;
      });
    }
    dataOf(await api.query('mutation($id: ID!) { deleteSubject(id: $id) }', { id: doomed.id }));
    await until('the other API process to drop the subject', async () => {
      const counts = await countsOn(otherApi);
      return counts.subjects === before.subjects - 1 && counts.enrolledFaces === before.enrolledFaces - PHOTOS ? true : undefined;
    });
  });
});
