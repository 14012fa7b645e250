/**
 * The API under load, against a gallery of 10,000 subjects: latency (p50, p99) and throughput of
 * identify by upload and by photo id, each also as a ratio to a trivial query (`serverInfo`) on
 * the same server in the same run; and enrollment throughput (photos per second, upload to READY).
 *   npm run build && npm run bench:api -- [--subjects 10000] [--requests 200] [--uploads 40] [--concurrency 4]
 * The gallery is synthetic: α and β drawn from the bundle's prior (independent N(0, 1) in σ units),
 * inserted through the repositories, plus a few LFW people enrolled for real through the API.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ApiClient, dataOf } from '../src/api/http-client.js';
import { createSubject, ENROLL_PHOTOS, IDENTIFY, percentile, readPhoto, type EnrollPhotosData, type IdentifyData } from './api-helpers.js';
import { loadConfig } from '../src/core/config.js';
import { listPeople } from '../src/dataset/folder-dataset.js';
import { mapConcurrent } from '../src/core/concurrency.js';
import { storagePathFor, sha256Hex } from '../src/store/blob-store.js';
import { PhotoRepository } from '../src/store/photo-repository.js';
import { GalleryStore } from '../src/store/gallery-store.js';
import { SubjectRepository } from '../src/store/subject-repository.js';
import { loadBundle, type Bundle } from '../src/morphable/bundle.js';
import { defaultBundleDir } from '../src/inference/face-encoder.js';
import { openDatabase } from '../src/store/database.js';
import { startServer } from '../src/server.js';
import { joinedIdentityVector } from '../src/core/vector.js';
import { mulberry32, randomNormal, type Random } from '../src/training/random.js';

const { values: options } = parseArgs({
  options: {
    subjects: { type: 'string', default: '10000' },
    requests: { type: 'string', default: '200' },
    uploads: { type: 'string', default: '40' },
    concurrency: { type: 'string', default: '4' },
    people: { type: 'string', default: '5' },
    root: { type: 'string', default: '../shared/datasets/lfw/dev' },
  },
});
const SUBJECTS = Number(options.subjects);
const REQUESTS = Number(options.requests);
const UPLOADS = Number(options.uploads);
const CONCURRENCY = Number(options.concurrency);
const PEOPLE = Number(options.people);
const PHOTOS_PER_PERSON = 4;
const ADMIN_KEY = 'bench-admin-key-0123456789abcdef';

interface Timing {
  readonly label: string;
  readonly requests: number;
  readonly p50: number;
  readonly p99: number;
  readonly perSecond: number;
}

/** `count` requests with CONCURRENCY in flight; each request's own latency, and the overall rate. */
async function measure(label: string, count: number, request: (i: number) => Promise<void>): Promise<Timing> {
  const latencies: number[] = [];
  const started = performance.now();
  await mapConcurrent(
    Array.from({ length: count }, (_, i) => i),
    CONCURRENCY,
    async (i) => {
      const t0 = performance.now();
      await request(i);
      latencies.push(performance.now() - t0);
    },
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { label, requests: count, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), perSecond: count / seconds };
}

function sample(random: Random, count: number): Float32Array {
  return Float32Array.from({ length: count }, () => randomNormal(random));
}

/** Synthetic subjects, each with one READY photo whose vector is drawn from the bundle's prior. */
async function synthesiseGallery(databaseUrl: string, bundle: Bundle, count: number): Promise<void> {
  const database = await openDatabase(databaseUrl);
  const store = new GalleryStore(database.prisma, { provider: database.provider });
  const subjects = new SubjectRepository(store);
  const photos = new PhotoRepository(store);
  const random = mulberry32(2017);
  const { shape, texture, expression } = bundle.manifest;
  try {
    for (let i = 0; i < count; i++) {
      const subject = await subjects.create({ name: `Synthetic ${i}`, externalId: `synthetic-${i}` });
      const sha256 = sha256Hex(Buffer.from(subject.id));
      await photos.importEnrolled(
        subject.id,
        { sha256, storagePath: storagePathFor(sha256), mimeType: 'image/jpeg', width: 250, height: 250 },
        {
          box: { x: 68, y: 68, width: 113, height: 113 },
          score: 1,
          pose: { yaw: 0, pitch: 0, roll: 0 },
          expression: new Float32Array(expression.components),
          ...joinedIdentityVector(bundle.manifest.id, sample(random, shape.components), sample(random, texture.components)),
        },
      );
    }
  } finally {
    await database.close();
  }
}

function row(timing: Timing, baseline: Timing): string {
  const ratio = (value: number, base: number): string => (value / base).toFixed(1);
  return `| ${timing.label} | ${timing.requests} | ${timing.p50.toFixed(1)} | ${timing.p99.toFixed(1)} | ${timing.perSecond.toFixed(1)} | ${ratio(timing.p50, baseline.p50)}× | ${ratio(baseline.perSecond, timing.perSecond)}× |`;
}

async function main(): Promise<void> {
  const people = (await listPeople(options.root)).filter((person) => person.images.length >= PHOTOS_PER_PERSON + 1).slice(0, PEOPLE);
  if (people.length < PEOPLE) throw new Error(`need ${PEOPLE} people with ${PHOTOS_PER_PERSON + 1}+ photos in ${options.root}`);
  const dir = mkdtempSync(join(tmpdir(), 'face3d-bench-api-'));
  const config = loadConfig({ ...process.env, DATABASE_URL: `file:${join(dir, 'face3d.db')}`, HOST: '127.0.0.1', PORT: '0', FACE3D_ADMIN_KEY: ADMIN_KEY });
  const bundle = await loadBundle(defaultBundleDir(config));

  let started = performance.now();
  await synthesiseGallery(config.databaseUrl, bundle, SUBJECTS);
  process.stderr.write(`bench: ${SUBJECTS} synthetic subjects inserted in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);

  const server = await startServer({ config, log: (line) => process.stderr.write(`${line}\n`) });
  try {
    const client = new ApiClient(server.url, ADMIN_KEY);
    const read = (path: string) => readPhoto(join(options.root, path));

    // Enrollment: every person's photos uploaded at once, timed until the last one is READY.
    started = performance.now();
    const photoIds: string[] = [];
    for (const person of people) {
      const subjectId = await createSubject(client, person.name);
      const files = Object.fromEntries(await Promise.all(person.images.slice(0, PHOTOS_PER_PERSON).map(async (path, i) => [`variables.p.${i}`, await read(path)] as const)));
      const enrolled = dataOf(await client.upload<EnrollPhotosData>(ENROLL_PHOTOS, { s: subjectId, p: Array(PHOTOS_PER_PERSON).fill(null) }, files));
      photoIds.push(...enrolled.enrollPhotos.photos.map((photo) => photo.id));
    }
    await server.worker.idle();
    const enrollSeconds = (performance.now() - started) / 1000;
    const enrolledPhotos = photoIds.length;

    const probes = await Promise.all(people.map((person) => read(person.images[PHOTOS_PER_PERSON])));
    let rankOne = 0;
    for (const [i, probe] of probes.entries()) {
      const result = dataOf(await client.upload<IdentifyData>(IDENTIFY, { image: null }, { 'variables.image': probe }));
      if (result.identify.matches[0]?.subject.name === people[i].name) rankOne++;
    }

    const trivial = await measure('trivial query (`serverInfo`)', REQUESTS, async () => {
      dataOf(await client.query('{ serverInfo { bundle subjects } }'));
    });
    const byPhoto = await measure('identify by photoId', REQUESTS, async (i) => {
      dataOf(await client.query(IDENTIFY, { photoId: photoIds[i % photoIds.length] }));
    });
    const byUpload = await measure('identify by upload', UPLOADS, async (i) => {
      dataOf(await client.upload(IDENTIFY, { image: null }, { 'variables.image': probes[i % probes.length] }));
    });

    const info = dataOf(await client.query<{ serverInfo: { subjects: number; enrolledFaces: number } }>('{ serverInfo { subjects enrolledFaces } }')).serverInfo;
    const lines = [
      `Gallery: ${info.subjects} subjects (${SUBJECTS} synthetic + ${people.length} LFW people), ${info.enrolledFaces} faces, bundle ${bundle.manifest.id}.`,
      `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'} (load average ${loadavg()[0].toFixed(1)} at the end), Node ${process.version}; ${CONCURRENCY} requests in flight; FACE3D_WORKERS=${config.workers}.`,
      '',
      '| request | n | p50 ms | p99 ms | req/s | p50 vs trivial | time per request vs trivial |',
      '|---|---:|---:|---:|---:|---:|---:|',
      row(trivial, trivial),
      row(byPhoto, trivial),
      row(byUpload, trivial),
      '',
      `Enrollment: ${enrolledPhotos} photos uploaded and enrolled in ${enrollSeconds.toFixed(1)} s = ${(enrolledPhotos / enrollSeconds).toFixed(2)} photos/s (upload to READY).`,
      `Sanity: ${rankOne}/${probes.length} held-out LFW probes identified at rank 1 among ${info.subjects} subjects.`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
