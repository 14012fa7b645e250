/**
 * An upgrade that serves a new bundle keeps the gallery: photos enrolled while only lfw-facemesh-v2
 * was served get a vector under the new bundle (a copy of lfw-facemesh-v2 with another id and another
 * regressor, so its vectors differ) from a `face3d worker` serving both, encoded from the stored
 * photo and face box exactly as a fresh enrollment would; an API server that was already running
 * learns of them through the change feed and identifies under the new bundle, with nothing indexed
 * twice. A photo deleted meanwhile is skipped, and an unreadable one is reported once and passed
 * over, not retried forever, while the other faces are encoded.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient, dataOf } from '../../src/api/http-client.js';
import { FaceEncoder } from '../../src/inference/face-encoder.js';
import type { RunningServer } from '../../src/server.js';
import { startWorker, type RunningWorker } from '../../src/service/worker-process.js';
import { ADMIN_KEY, startTestServer, testConfig } from '../helpers/api-server.js';
import { testBackend } from '../helpers/database-backends.js';
import { LFW_DEV, lfwPeople } from '../helpers/lfw.js';
import { parseSamples, sample } from '../helpers/metrics-text.js';

const OLD = 'lfw-facemesh-v2';
const NEW = 'lfw-facemesh-next';
const people = lfwPeople(3)?.slice(0, 2);
/** Three openers of one database (two servers and a worker): PGlite is one opener's (its SQL is tested in gallery-store.test.ts). */
const sharedDatabase = testBackend() !== 'pglite';
const describeWithLfw = people && sharedDatabase ? describe : describe.skip;
if (!people) console.warn(`vector-backfill.test.ts: skipped, the LFW photos are not in ${LFW_DEV}`);
if (!sharedDatabase) console.warn('vector-backfill.test.ts: skipped on PGlite, which one opener owns');

const CREATE = 'mutation($n: String!) { createSubject(input: { name: $n }) { id } }';
const ENROLL = 'mutation($s: ID!, $p: [Upload!]!) { enrollPhotos(subjectId: $s, photos: $p) { photos { id } } }';
const IDENTIFY = 'query($image: Upload, $bundle: String) { identify(image: $image, bundle: $bundle, topK: 3, mode: PHOTO) { matches { similarity subject { id } } } }';

/** lfw-facemesh-v2 under another id, with its shuffled-labels control regressor: a bundle whose vectors are not lfw-facemesh-v2's. */
async function writeNextBundle(bundleDir: string): Promise<void> {
  cpSync(join('models', OLD), bundleDir, { recursive: true });
  const manifest = JSON.parse(await readFile(join(bundleDir, 'manifest.json'), 'utf8')) as { id: string; regressor: { file: string } };
  manifest.id = NEW;
  manifest.regressor.file = 'regressor-control-shuffled-labels.onnx';
  await writeFile(join(bundleDir, 'manifest.json'), JSON.stringify(manifest));
}

describeWithLfw('stored photos encoded under a bundle served after they were enrolled', () => {
  let dir: string;
  let bundleDir: string;
  let encoder: FaceEncoder;
  /** Serves both bundles, runs no jobs, started before the worker: it learns of new vectors only through the change feed. */
  let reader: RunningServer;
  let worker: RunningWorker | undefined;
  const workerLog: string[] = [];
  let client: ApiClient;
  const subjectIds: string[] = [];
  /** Photo ids by subject, in enrollment order. */
  const photoIds: string[][] = [];
  let deletedPhotoId: string;
  let unreadablePhotoId: string;

  const facesUnder = (bundle: string) => reader.gallery.served(bundle).index.faceCount;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'face3d-backfill-'));
    bundleDir = join(dir, NEW);
    await writeNextBundle(bundleDir);
    encoder = await FaceEncoder.open();
    // Before the upgrade: lfw-facemesh-v2 alone, its own worker.
    const before = await startTestServer(dir, encoder, { FACE3D_WORKERS: '1' });
    const oldClient = new ApiClient(before.url, ADMIN_KEY);
    for (const person of people!) {
      const subjectId = dataOf(await oldClient.query<{ createSubject: { id: string } }>(CREATE, { n: person.name })).createSubject.id;
      const files = Object.fromEntries(await Promise.all(person.photos.slice(0, 3).map(async (path, i) => [`variables.p.${i}`, { bytes: await readFile(path), name: `${i}.jpg` }] as const)));
      const enrolled = dataOf(await oldClient.upload<{ enrollPhotos: { photos: { id: string }[] } }>(ENROLL, { s: subjectId, p: [null, null, null] }, files)).enrollPhotos.photos;
      subjectIds.push(subjectId);
      photoIds.push(enrolled.map((photo) => photo.id));
    }
    await before.worker.idle();
    await before.close();
    deletedPhotoId = photoIds[1][1];
    unreadablePhotoId = photoIds[1][2];
    // The upgrade: a server serving both bundles, the new one the default, no worker yet.
    reader = await startTestServer(dir, encoder, { FACE3D_BUNDLES: `${bundleDir},${OLD}`, FACE3D_WORKERS: '0', FACE3D_SYNC_MS: '100' });
    client = new ApiClient(reader.url, ADMIN_KEY);
  }, 300_000);

  afterAll(async () => {
    await worker?.close();
    await reader?.close();
    await encoder?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('sees nothing under the new bundle before a worker encoded the stored photos, and says how many wait', async () => {
    expect(facesUnder(OLD)).toBe(6);
    expect(facesUnder(NEW)).toBe(0);
    const probe = { 'variables.image': { bytes: await readFile(people![0].photos[0]), name: 'probe.jpg' } };
    const answer = dataOf(await client.upload<{ identify: { matches: unknown[] } }>(IDENTIFY, { image: null, bundle: NEW }, probe)).identify;
    expect(answer.matches).toEqual([]);
    const samples = parseSamples(await (await fetch(`${reader.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).text());
    expect(sample(samples, `face3d_faces_without_vector{bundle="${NEW}"}`)).toBe(6);
    expect(sample(samples, `face3d_faces_without_vector{bundle="${OLD}"}`)).toBe(0);
  });

  it('has a worker serving both bundles encode every readable stored face under the new one, which the running server then identifies', async () => {
    // One photo deleted, one photo's file damaged, before the worker starts.
    dataOf(await client.query('mutation($id: ID!) { deletePhoto(id: $id) }', { id: deletedPhotoId }));
    const [unreadable] = await reader.gallery.photos.findMany([unreadablePhotoId]);
    const file = join(dir, 'photos', unreadable!.storagePath);
    await rm(file, { force: true });
    await writeFile(file, 'not a photo any more');

    // A worker not yet upgraded to the new default (a rolling upgrade): it serves the new bundle beside lfw-facemesh-v2, and backfills it all the same.
    worker = await startWorker({ config: testConfig(dir, { FACE3D_BUNDLES: `${OLD},${bundleDir}`, FACE3D_WORKERS: '2' }), encoder, log: (line) => workerLog.push(line) });
    await worker.worker.idle();
    const [unreadableFace] = await reader.gallery.photos.facesByPhotoIds([unreadablePhotoId]);
    expect((await reader.gallery.photos.facesWithoutVector(NEW, 100)).map((face) => face.faceId)).toEqual([unreadableFace!.id]);
    // The running server's index, through the change feed: the four readable faces under the new bundle, the old one's five left as they were.
    for (const deadline = Date.now() + 60_000; facesUnder(NEW) < 4 && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(facesUnder(NEW)).toBe(4);
    expect(facesUnder(OLD)).toBe(5);
    expect(reader.gallery.served(OLD).index.subjectCount).toBe(2);
    const samples = parseSamples(await (await fetch(`${reader.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).text());
    expect(sample(samples, `face3d_faces_without_vector{bundle="${NEW}"}`)).toBe(1);

    for (const [i, person] of people!.entries()) {
      const probe = { 'variables.image': { bytes: await readFile(person.photos[0]), name: 'probe.jpg' } };
      const answer = dataOf(await client.upload<{ identify: { matches: { similarity: number; subject: { id: string } }[] } }>(IDENTIFY, { image: null, bundle: NEW }, probe)).identify;
      expect(answer.matches[0].subject.id).toBe(subjectIds[i]);
      // The probe's face is found anew; the stored vector was encoded from the face box lfw-facemesh-v2 found.
      expect(answer.matches[0].similarity).toBeGreaterThan(0.98);
    }
  }, 300_000);

  it('gives a stored face the vector a fresh enrollment gets under the new bundle', async () => {
    const subjectId = dataOf(await client.query<{ createSubject: { id: string } }>(CREATE, { n: 'fresh' })).createSubject.id;
    const files = { 'variables.p.0': { bytes: await readFile(people![0].photos[1]), name: 'fresh.jpg' } };
    const [fresh] = dataOf(await client.upload<{ enrollPhotos: { photos: { id: string }[] } }>(ENROLL, { s: subjectId, p: [null] }, files)).enrollPhotos.photos;
    worker!.worker.wake();
    await worker!.worker.idle();
    const [freshFace, storedFace] = await reader.gallery.photos.facesByPhotoIds([fresh.id, photoIds[0][1]]);
    // The worker found both faces with lfw-facemesh-v2, its default, and encoded the same box under the new bundle.
    expect(freshFace!.box).toEqual(storedFace!.box);
    const [freshVector, storedVector] = await reader.gallery.photos.vectorsByFaceIds([freshFace!.id, storedFace!.id], NEW);
    const [oldVector] = await reader.gallery.photos.vectorsByFaceIds([storedFace!.id], OLD);
    expect(Array.from(storedVector!.vector)).toEqual(Array.from(freshVector!.vector));
    expect(Array.from(storedVector!.vector)).not.toEqual(Array.from(oldVector!.vector));
  }, 120_000);

  it('reports an unreadable photo once and does not retry it, and stores nothing for a face deleted meanwhile', async () => {
    const reports = () => workerLog.filter((line) => line.includes(unreadablePhotoId));
    expect(reports()).toHaveLength(1);
    expect(reports()[0]).toMatch(/PHOTO_CORRUPT|CORRUPT_IMAGE/);
    for (let round = 0; round < 3; round++) {
      worker!.worker.wake();
      await worker!.worker.idle();
    }
    expect(reports()).toHaveLength(1);

    // A face deleted between its encoding and its save.
    const [face] = await reader.gallery.photos.facesByPhotoIds([photoIds[0][2]]);
    const [vector] = await reader.gallery.photos.vectorsByFaceIds([face!.id], NEW);
    dataOf(await client.query('mutation($id: ID!) { deletePhoto(id: $id) }', { id: photoIds[0][2] }));
    expect(await reader.gallery.addFaceVectors([vector!])).toBe(0);
    // Another worker's vector stored first: left as it is.
    const [other] = await reader.gallery.photos.vectorsByFaceIds([(await reader.gallery.photos.facesByPhotoIds([photoIds[0][0]]))[0]!.id], NEW);
    expect(await reader.gallery.addFaceVectors([other!])).toBe(0);
  }, 120_000);

  it('gives a face backfilled under the worker\'s default bundle the vector a fresh enrollment gets there: the face found again, not its stored box', async () => {
    await worker!.close();
    const bytes = await readFile(people![1].photos[0]);
    const enrollOnce = async (api: ApiClient, name: string) => {
      const subjectId = dataOf(await api.query<{ createSubject: { id: string } }>(CREATE, { n: name })).createSubject.id;
      const files = { 'variables.p.0': { bytes, name: 'once.jpg' } };
      return dataOf(await api.upload<{ enrollPhotos: { photos: { id: string }[] } }>(ENROLL, { s: subjectId, p: [null] }, files)).enrollPhotos.photos[0].id;
    };
    // Enrolled by a process not yet upgraded: lfw-facemesh-v2 alone.
    const late = await startTestServer(dir, encoder, { FACE3D_WORKERS: '1' });
    const storedPhotoId = await enrollOnce(new ApiClient(late.url, ADMIN_KEY), 'enrolled before the upgrade');
    await late.worker.idle();
    await late.close();
    // A worker whose default is the new bundle backfills that face, then enrolls the same photo afresh.
    worker = await startWorker({ config: testConfig(dir, { FACE3D_BUNDLES: `${bundleDir},${OLD}`, FACE3D_WORKERS: '1' }), encoder, log: (line) => workerLog.push(line) });
    await worker.worker.idle();
    const freshPhotoId = await enrollOnce(client, 'enrolled after the upgrade');
    worker.worker.wake();
    await worker.worker.idle();

    const [storedFace, freshFace] = await reader.gallery.photos.facesByPhotoIds([storedPhotoId, freshPhotoId]);
    expect(storedFace!.box).toEqual(freshFace!.box);
    const [stored, fresh] = (await reader.gallery.photos.vectorsByFaceIds([storedFace!.id, freshFace!.id], NEW)).map((vector) => Array.from(vector!.vector));
    const scale = Math.max(...fresh.map(Math.abs));
    expect(Math.max(...stored.map((value, i) => Math.abs(value - fresh[i])))).toBeLessThan(1e-5 * scale);
    expect(workerLog.filter((line) => line.includes('not found again'))).toEqual([]);
  }, 300_000);
});
