/**
 * The real server (real models, real SQLite file, real HTTP) driven like a client would: enroll
 * LFW people, identify held-out photos of them and strangers, verify, page, download meshes,
 * authorise, fail in every documented way, restart. One server for the whole file, since opening
 * the models and enrolling dominate the time.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateBytes } from 'gltf-validator';
import sharp from 'sharp';
import { FaceEncoder } from '../../src/inference/face-encoder.js';
import { readGlb } from '../helpers/glb-reader.js';
import { readPly } from '../helpers/ply-reader.js';
import type { RunningServer } from '../../src/server.js';
import { ApiClient, dataOf, errorCodes, type FilePart } from '../../src/api/http-client.js';
import { LFW_DEV, lfwPeople, type LfwPerson } from '../helpers/lfw.js';
import { ADMIN_KEY, createKeyThroughApi, startTestServer } from '../helpers/api-server.js';
import { pngDeclaringSize } from '../helpers/images.js';
import { subscribePhotoStatus } from '../helpers/photo-status.js';

const ENROLLED_PEOPLE = 4;
const ENROLLED_PHOTOS = 3;
const HELD_OUT_PHOTOS = 2;
const STRANGERS = 3;

const people = lfwPeople(ENROLLED_PHOTOS + HELD_OUT_PHOTOS)?.slice(0, ENROLLED_PEOPLE);
const enrolledNames = new Set(people?.map((person) => person.name));
const strangers = lfwPeople(1)
  ?.filter((person) => !enrolledNames.has(person.name))
  .slice(-STRANGERS);

const describeWithLfw = people && strangers ? describe : describe.skip;
if (!people) console.warn(`api.test.ts: skipped, the LFW photos are not in ${LFW_DEV}`);

const PHOTO_FIELDS = 'id status width height sha256 mimeType url error { code message } qualityFilter quality { score issues } subject { id name } face { id score box { x y width height } pose { yaw pitch roll } }';
const CREATE_SUBJECT = `mutation($input: CreateSubjectInput!) { createSubject(input: $input) { id name externalId metadata createdAt } }`;
const ENROLL = `mutation($subjectId: ID!, $photos: [Upload!]!, $faceBox: BoxInput) { enrollPhotos(subjectId: $subjectId, photos: $photos, faceBox: $faceBox) { photos { ${PHOTO_FIELDS} } } }`;
const PHOTO = `query($id: ID!) { photo(id: $id) { ${PHOTO_FIELDS} } }`;
const IDENTIFY = `query($image: Upload, $photoId: ID, $topK: Int, $threshold: Float, $mode: MatchMode) {
  identify(image: $image, photoId: $photoId, topK: $topK, threshold: $threshold, mode: $mode) {
    unknown threshold falseAcceptRate fpir templates thresholdSource
    probe { box { width } score vector { bundle shape texture } photo { id } }
    matches { rank similarity aboveThreshold strangerChance subject { id name } face { id photo { id } } }
  }
}`;
const VERIFY = `query($a: FaceRef!, $b: FaceRef!) { verify(a: $a, b: $b) { similarity match threshold thresholdSource a { vector { bundle } } b { subject { id } } } }`;

interface PhotoResult {
  id: string;
  status: string;
  error: { code: string; message: string } | null;
  qualityFilter: string;
  quality: { score: number; issues: string[] } | null;
  face: { id: string } | null;
  url: string;
  sha256: string;
}

interface IdentifyResult {
  unknown: boolean;
  threshold: number;
  fpir: number | null;
  templates: number;
  thresholdSource: string;
  probe: { box: { width: number } | null; vector: { bundle: string; shape: number[]; texture: number[] }; photo: { id: string } | null };
  matches: { rank: number; similarity: number; aboveThreshold: boolean; strangerChance: number | null; subject: { id: string; name: string }; face: { id: string; photo: { id: string } } | null }[];
}

async function photoFile(path: string): Promise<FilePart> {
  return { bytes: await readFile(path), name: path.split('/').at(-1)! };
}

let dir: string;
let encoder: FaceEncoder;
let server: RunningServer;
let admin: ApiClient;
let enroller: ApiClient;
let reader: ApiClient;
/** Subject id of each enrolled person, by name. */
const subjectIds = new Map<string, string>();
const enrolledPhotoIds: string[] = [];

async function waitForPhotos(ids: readonly string[], timeoutMs = 120_000): Promise<PhotoResult[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const photos = await Promise.all(ids.map(async (id) => dataOf(await reader.query<{ photo: PhotoResult }>(PHOTO, { id })).photo));
    if (photos.every((photo) => photo.status === 'READY' || photo.status === 'FAILED')) return photos;
    if (Date.now() > deadline) throw new Error(`photos still not processed: ${JSON.stringify(photos.map((photo) => photo.status))}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function identifyUpload(client: ApiClient, path: string, variables: Record<string, unknown> = {}) {
  return client.upload<{ identify: IdentifyResult }>(IDENTIFY, { image: null, ...variables }, { 'variables.image': await photoFile(path) });
}

describeWithLfw('the face3d GraphQL API over HTTP', () => {
  const enrolled = people as LfwPerson[];
  const outsiders = strangers as LfwPerson[];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'face3d-api-'));
    encoder = await FaceEncoder.open();
    server = await startTestServer(dir, encoder);
    admin = new ApiClient(server.url, ADMIN_KEY);
    enroller = admin.withKey(await createKeyThroughApi(admin, 'ENROLL', 'enroller'));
    reader = admin.withKey(await createKeyThroughApi(admin, 'READ', 'reader'));
  });

  afterAll(async () => {
    await server?.close();
    await encoder?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe('authentication and roles', () => {
    it('answers UNAUTHENTICATED without a key, with a malformed header and with an unknown key', async () => {
      const query = '{ serverInfo { bundle } }';
      expect(errorCodes(await admin.withKey(undefined).query(query))).toEqual(['UNAUTHENTICATED']);
      expect(errorCodes(await admin.withKey('f3d_nope_0000000000000000000000000000000000000000000').query(query))).toEqual(['UNAUTHENTICATED']);
      const malformed = await fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Basic abc' }, body: JSON.stringify({ query }) });
      expect(((await malformed.json()) as { errors: { extensions: { code: string } }[] }).errors[0].extensions.code).toBe('UNAUTHENTICATED');
    });

    it('serves queries over GET too (CSRF preflight header required), and /healthz without a key', async () => {
      const url = `${server.url}/graphql?query=${encodeURIComponent('{ serverInfo { bundle } }')}`;
      const blocked = await fetch(url, { headers: reader.headers() });
      expect(blocked.status).toBe(400);
      const allowed = await fetch(url, { headers: reader.headers({ 'apollo-require-preflight': 'true' }) });
      expect(await allowed.json()).toEqual({ data: { serverInfo: { bundle: encoder.bundleId } } });
      expect(await (await fetch(`${server.url}/healthz`)).json()).toEqual({ status: 'ok', bundle: encoder.bundleId });
    });

    it('answers FORBIDDEN below the role an operation needs', async () => {
      expect(errorCodes(await reader.query(CREATE_SUBJECT, { input: { name: 'x' } }))).toEqual(['FORBIDDEN']);
      expect(errorCodes(await enroller.query('mutation { deleteSubject(id: "x") }'))).toEqual(['FORBIDDEN']);
      expect(errorCodes(await enroller.query('{ apiKeys { id } }'))).toEqual(['FORBIDDEN']);
      expect(dataOf(await enroller.query<{ serverInfo: { bundle: string } }>('{ serverInfo { bundle } }')).serverInfo.bundle).toBe(encoder.bundleId);
    });

    it('lets admins list and revoke keys; a revoked key stops working at once', async () => {
      const created = dataOf(await admin.query<{ createApiKey: { key: string; apiKey: { id: string; role: string } } }>(`mutation { createApiKey(role: READ, label: "temp") { key apiKey { id role } } }`)).createApiKey;
      expect(created.apiKey.role).toBe('READ');
      const temp = admin.withKey(created.key);
      expect(errorCodes(await temp.query('{ serverInfo { bundle } }'))).toEqual([]);
      const keys = dataOf(await admin.query<{ apiKeys: { id: string; label: string }[] }>('{ apiKeys { id label role revokedAt } }')).apiKeys;
      expect(keys.map((key) => key.label)).toEqual(expect.arrayContaining(['FACE3D_ADMIN_KEY', 'enroller', 'reader', 'temp']));
      expect(JSON.stringify(keys)).not.toContain(created.key);
      expect(dataOf(await admin.query<{ revokeApiKey: boolean }>('mutation($id: ID!) { revokeApiKey(id: $id) }', { id: created.apiKey.id })).revokeApiKey).toBe(true);
      expect(errorCodes(await temp.query('{ serverInfo { bundle } }'))).toEqual(['UNAUTHENTICATED']);
    });
  });

  describe('subjects and enrollment', () => {
    it('creates subjects; externalId is unique', async () => {
      for (const person of enrolled) {
        const subject = dataOf(await enroller.query<{ createSubject: { id: string; name: string; metadata: unknown } }>(CREATE_SUBJECT, { input: { name: person.name.replaceAll('_', ' '), externalId: `lfw:${person.name}`, metadata: { source: 'LFW' } } })).createSubject;
        expect(subject.metadata).toEqual({ source: 'LFW' });
        subjectIds.set(person.name, subject.id);
      }
      const duplicate = await enroller.query(CREATE_SUBJECT, { input: { name: 'Again', externalId: `lfw:${enrolled[0].name}` } });
      expect(errorCodes(duplicate)).toEqual(['CONFLICT']);
    });

    it('accepts photos as a multipart upload, returns them PENDING at once and enrolls one face each', async () => {
      const subscription = await subscribePhotoStatus(server.url, reader.key!, [...subjectIds.values()][0]);
      for (const person of enrolled) {
        const files = Object.fromEntries(await Promise.all(person.photos.slice(0, ENROLLED_PHOTOS).map(async (path, i) => [`variables.photos.${i}`, await photoFile(path)] as const)));
        const response = await enroller.upload<{ enrollPhotos: { photos: PhotoResult[] } }>(ENROLL, { subjectId: subjectIds.get(person.name), photos: Array(ENROLLED_PHOTOS).fill(null) }, files);
        const photos = dataOf(response).enrollPhotos.photos;
        expect(photos).toHaveLength(ENROLLED_PHOTOS);
        for (const photo of photos) expect(['PENDING', 'PROCESSING']).toContain(photo.status);
        enrolledPhotoIds.push(...photos.map((photo) => photo.id));
      }
      const done = await waitForPhotos(enrolledPhotoIds);
      expect(done.map((photo) => [photo.status, photo.error])).toEqual(done.map(() => ['READY', null]));
      for (const photo of done) {
        expect(photo.face?.id).toEqual(expect.any(String));
        expect(photo.qualityFilter).toBe('AUTO');
        expect(photo.quality?.score).toBeGreaterThan(0);
        expect(photo.quality?.score).toBeLessThanOrEqual(1);
      }
      const pushed = await subscription.statuses(ENROLLED_PHOTOS);
      expect(pushed).toEqual(expect.arrayContaining(['READY']));
      await subscription.close();
    });

    it('stores each photo once per subject: the same bytes again return the same photo', async () => {
      const person = enrolled[0];
      const response = await enroller.upload<{ enrollPhotos: { photos: PhotoResult[] } }>(ENROLL, { subjectId: subjectIds.get(person.name), photos: [null] }, { 'variables.photos.0': await photoFile(person.photos[0]) });
      const [photo] = dataOf(response).enrollPhotos.photos;
      expect(enrolledPhotoIds).toContain(photo.id);
      expect(photo.status).toBe('READY');
    });

    it('stays consistent under concurrent enrollments and identifications', async () => {
      const subject = dataOf(await enroller.query<{ createSubject: { id: string } }>(CREATE_SUBJECT, { input: { name: 'Concurrent' } })).createSubject;
      const sameFile = { 'variables.photos.0': await photoFile(outsiders[0].photos[0]) };
      const [first, second, identified] = await Promise.all([
        enroller.upload<{ enrollPhotos: { photos: PhotoResult[] } }>(ENROLL, { subjectId: subject.id, photos: [null] }, sameFile),
        enroller.upload<{ enrollPhotos: { photos: PhotoResult[] } }>(ENROLL, { subjectId: subject.id, photos: [null] }, sameFile),
        identifyUpload(reader, enrolled[0].photos[ENROLLED_PHOTOS]),
      ]);
      expect(dataOf(first).enrollPhotos.photos[0].id).toBe(dataOf(second).enrollPhotos.photos[0].id);
      expect(dataOf(identified).identify.matches[0].subject.id).toBe(subjectIds.get(enrolled[0].name));
      await waitForPhotos([dataOf(first).enrollPhotos.photos[0].id]);
      expect(dataOf(await admin.query<{ deleteSubject: boolean }>('mutation($id: ID!) { deleteSubject(id: $id) }', { id: subject.id })).deleteSubject).toBe(true);
    });

    it('serves the original photo bytes to key holders only', async () => {
      const photo = dataOf(await reader.query<{ photo: PhotoResult }>(PHOTO, { id: enrolledPhotoIds[0] })).photo;
      const download = await reader.download(photo.url);
      expect(download.headers.get('content-type')).toBe('image/jpeg');
      expect(Buffer.from(await download.arrayBuffer()).equals(await readFile(enrolled[0].photos[0]))).toBe(true);
      expect((await fetch(photo.url)).status).toBe(401);
    });

    it('refuses multipart requests without the CSRF preflight header', async () => {
      const response = await enroller.upload(ENROLL, { subjectId: subjectIds.get(enrolled[0].name), photos: [null] }, { 'variables.photos.0': await photoFile(enrolled[0].photos[0]) }, {});
      expect(response.status).toBe(400);
      expect(errorCodes(response)).toEqual(['BAD_REQUEST']);
    });
  });

  describe('identify and verify', () => {
    it('puts the right subject at rank 1 for held-out photos of enrolled people', async () => {
      let correct = 0;
      let total = 0;
      for (const person of enrolled) {
        for (const path of person.photos.slice(ENROLLED_PHOTOS, ENROLLED_PHOTOS + HELD_OUT_PHOTOS)) {
          const result = dataOf(await identifyUpload(reader, path, { topK: 3 })).identify;
          expect(result.matches).toHaveLength(3);
          expect(result.matches.map((match) => match.rank)).toEqual([1, 2, 3]);
          expect(result.matches.map((match) => match.similarity)).toEqual([...result.matches.map((match) => match.similarity)].sort((a, b) => b - a));
          expect(result.unknown).toBe(result.matches[0].similarity < result.threshold);
          expect(result.probe.vector.shape).toHaveLength(encoder.bundle.manifest.shape.components);
          total++;
          if (result.matches[0].subject.id === subjectIds.get(person.name)) correct++;
        }
      }
      expect(correct).toBe(total);
    });

    it('answers unknown for people who were never enrolled, at a threshold set for the target FPIR at this gallery’s size', async () => {
      const info = dataOf(await reader.query<{ serverInfo: { defaultThreshold: number; targetFpir: number | null; fpir: number | null; fpirConfidence: number | null; templates: number; thresholdSource: string } }>(
        '{ serverInfo { defaultThreshold targetFpir fpir fpirConfidence templates thresholdSource } }',
      )).serverInfo;
      expect(info.fpirConfidence).toBe(encoder.bundle.manifest.calibration?.impostors?.bound?.quantile ?? null);
      const curve = encoder.bundle.manifest.calibration?.impostors;
      expect(info.templates).toBe(ENROLLED_PEOPLE);
      expect(info.thresholdSource).toBe(curve ? 'TARGET_FPIR' : encoder.bundle.manifest.calibration ? 'CALIBRATION' : 'DEFAULT');
      if (curve) {
        expect(info.targetFpir).toBe(0.01);
        expect(info.fpir).toBeCloseTo(0.01, 6);
      }
      for (const stranger of outsiders) {
        const result = dataOf(await identifyUpload(reader, stranger.photos[0])).identify;
        expect(result).toMatchObject({ thresholdSource: info.thresholdSource, threshold: info.defaultThreshold, templates: ENROLLED_PEOPLE });
        expect(result.unknown).toBe(true);
        expect(result.matches.every((match) => !match.aboveThreshold)).toBe(true);
        // Below the threshold, more strangers than the target score as high as the best candidate.
        if (curve) expect(result.matches[0].strangerChance).toBeGreaterThan(0.01);
      }
    });

    it('identifies by an enrolled photo’s stored vector, per subject or per photo', async () => {
      const [photoId] = enrolledPhotoIds;
      const byTemplate = dataOf(await reader.query<{ identify: IdentifyResult }>(IDENTIFY, { photoId })).identify;
      expect(byTemplate.probe.photo?.id).toBe(photoId);
      expect(byTemplate.matches[0].subject.id).toBe(subjectIds.get(enrolled[0].name));
      const byPhoto = dataOf(await reader.query<{ identify: IdentifyResult }>(IDENTIFY, { photoId, mode: 'PHOTO', topK: 2 })).identify;
      expect(byPhoto.matches[0].face?.photo.id).toBe(photoId);
      expect(byPhoto.matches[0].similarity).toBeCloseTo(1, 5);
      const strict = dataOf(await reader.query<{ identify: IdentifyResult }>(IDENTIFY, { photoId, threshold: 1 })).identify;
      expect(strict).toMatchObject({ threshold: 1, thresholdSource: 'REQUEST' });
    });

    it('verifies an upload against a subject, a photo or another upload', async () => {
      const [alice, bob] = enrolled;
      const probe = await photoFile(alice.photos[ENROLLED_PHOTOS]);
      const against = async (b: Record<string, unknown>) =>
        dataOf(await reader.upload<{ verify: { similarity: number; match: boolean; threshold: number } }>(VERIFY, { a: { image: null }, b }, { 'variables.a.image': probe })).verify;
      const same = await against({ subjectId: subjectIds.get(alice.name) });
      const other = await against({ subjectId: subjectIds.get(bob.name) });
      expect(same.similarity).toBeGreaterThan(other.similarity);
      expect(same.match).toBe(same.similarity >= same.threshold);
      const itself = dataOf(await reader.query<{ verify: { similarity: number; match: boolean } }>(VERIFY, { a: { photoId: enrolledPhotoIds[0] }, b: { photoId: enrolledPhotoIds[0] } })).verify;
      expect(itself).toMatchObject({ similarity: expect.closeTo(1, 5), match: true });
      const both = await reader.upload<{ verify: { similarity: number } }>(VERIFY, { a: { image: null }, b: { image: null } }, { 'variables.a.image': probe, 'variables.b.image': probe });
      expect(dataOf(both).verify.similarity).toBeCloseTo(1, 5);
    });
  });

  describe('listing', () => {
    it('pages through subjects with cursors and counts them', async () => {
      const LIST = `query($after: String) { subjects(first: 3, after: $after) { totalCount edges { cursor node { id photoCount photos(first: 2) { edges { node { id } } pageInfo { hasNextPage } } } } pageInfo { hasNextPage endCursor } } }`;
      type Page = { subjects: { totalCount: number; edges: { node: { id: string; photoCount: number; photos: { edges: unknown[]; pageInfo: { hasNextPage: boolean } } } }[]; pageInfo: { hasNextPage: boolean; endCursor: string } } };
      const seen: string[] = [];
      let after: string | null = null;
      for (;;) {
        const page: Page = dataOf(await reader.query<Page>(LIST, { after }));
        expect(page.subjects.totalCount).toBe(ENROLLED_PEOPLE);
        for (const edge of page.subjects.edges) {
          seen.push(edge.node.id);
          expect(edge.node.photoCount).toBe(ENROLLED_PHOTOS);
          expect(edge.node.photos.edges).toHaveLength(2);
          expect(edge.node.photos.pageInfo.hasNextPage).toBe(true);
        }
        if (!page.subjects.pageInfo.hasNextPage) break;
        after = page.subjects.pageInfo.endCursor;
      }
      expect(seen).toEqual([...subjectIds.values()]);
      const search = dataOf(await reader.query<{ subjects: { edges: { node: { id: string } }[] } }>('query($s: String) { subjects(search: $s) { edges { node { id } } } }', { s: `lfw:${enrolled[1].name}` }));
      expect(search.subjects.edges.map((edge) => edge.node.id)).toEqual([subjectIds.get(enrolled[1].name)]);
    });
  });

  describe('batching', () => {
    it('loads the photo counts and photo pages of a whole page of subjects in one repository call each (no N+1)', async () => {
      const photos = server.gallery.photos;
      const calls = { counts: 0, pages: 0 };
      const counts = photos.countsBySubject.bind(photos);
      const pages = photos.pagesBySubject.bind(photos);
      photos.countsBySubject = (ids) => { calls.counts++; return counts(ids); };
      photos.pagesBySubject = (ids, args) => { calls.pages++; return pages(ids, args); };
      try {
        const page = dataOf(await reader.query<{ subjects: { edges: unknown[] } }>('{ subjects(first: 4) { edges { node { photoCount photos(first: 2) { edges { node { id } } } } } } }'));
        expect(page.subjects.edges.length).toBeGreaterThan(1);
        expect(calls).toEqual({ counts: 1, pages: 1 });
      } finally {
        photos.countsBySubject = counts;
        photos.pagesBySubject = pages;
      }
    });
  });

  describe('meshes', () => {
    const MESH = `query($id: ID!, $format: MeshFormat!) { subject(id: $id) { mesh(format: $format) { format url vertices triangles bytes files { name url contentType bytes } } template { bundle shape } } }`;
    type MeshResult = { url: string; vertices: number; triangles: number; bytes: number; files: { name: string; url: string; contentType: string; bytes: number }[] };

    async function subjectMesh(format: string): Promise<MeshResult> {
      return dataOf(await reader.query<{ subject: { mesh: MeshResult } }>(MESH, { id: subjectIds.get(enrolled[0].name), format })).subject.mesh;
    }

    async function download(url: string): Promise<Buffer> {
      const response = await reader.download(url);
      expect(response.status).toBe(200);
      return Buffer.from(await response.arrayBuffer());
    }

    it('serves a binary PLY with colours (and ASCII on request) of the subject’s template', async () => {
      const mesh = await subjectMesh('PLY');
      const ply = await download(mesh.url);
      expect(ply.length).toBe(mesh.bytes);
      expect(ply.subarray(0, 60).toString('ascii')).toContain('format binary_little_endian 1.0');
      const parsed = readPly(ply);
      expect(parsed.positions.length / 3).toBe(mesh.vertices);
      expect(parsed.indices.length / 3).toBe(mesh.triangles);
      expect(parsed.colors?.length).toBe(parsed.positions.length);
      const ascii = await download(`${mesh.url}?ascii=1`);
      expect(ascii.toString('ascii')).toContain('format ascii 1.0');
      expect(readPly(ascii).positions.length).toBe(parsed.positions.length);
      expect((await fetch(mesh.url)).status).toBe(401);
    });

    it('serves a GLB that the Khronos glTF validator accepts', async () => {
      const mesh = await subjectMesh('GLB');
      const glb = await download(mesh.url);
      const report = await validateBytes(new Uint8Array(glb), { format: 'glb', writeTimestamp: false });
      expect(report.issues.messages.filter((message) => message.severity === 0)).toEqual([]);
      expect((await readGlb(glb)).positions.length / 3).toBe(mesh.vertices);
    });

    it('serves an OBJ with its MTL and PNG texture next to it', async () => {
      const mesh = await subjectMesh('OBJ');
      expect(mesh.files.map((file) => file.contentType)).toEqual(['model/obj', 'model/mtl', 'image/png']);
      const [obj, mtl, png] = await Promise.all(mesh.files.map((file) => download(file.url)));
      const lines = obj.toString('utf8').split('\n');
      expect(lines.filter((line) => line.startsWith('v ')).length).toBe(mesh.vertices);
      expect(lines.filter((line) => line.startsWith('f ')).length).toBe(mesh.triangles);
      expect(lines).toContain(`mtllib ${mesh.files[1].name}`);
      expect(mtl.toString('utf8')).toContain(`map_Kd ${mesh.files[2].name}`);
      expect((await sharp(png).metadata()).format).toBe('png');
    });

    it('makes a mesh off the event loop: requests sent while it downloads are answered meanwhile, and its bytes are the in-thread export’s', async () => {
      const mesh = await subjectMesh('GLB');
      const IDENTIFY_STORED = 'query($photoId: ID) { identify(photoId: $photoId) { matches { subject { id } } } }';
      const started = performance.now();
      const answered: string[] = [];
      let finished = 0;
      const downloading = download(mesh.url).then((bytes) => {
        finished = performance.now();
        answered.push('mesh');
        return bytes;
      });
      const identifying = reader.query<{ identify: { matches: unknown[] } }>(IDENTIFY_STORED, { photoId: enrolledPhotoIds[0] }).then((response) => {
        answered.push('identify');
        return response;
      });
      // Probes one after another for as long as the mesh is being made: each waits behind whatever holds the event loop.
      const answeredAt: number[] = [];
      while (!finished) {
        dataOf(await reader.query<{ serverInfo: { bundle: string } }>('{ serverInfo { bundle } }'));
        answeredAt.push(performance.now());
      }
      const glb = await downloading;
      expect(dataOf(await identifying).identify.matches.length).toBeGreaterThan(0);
      expect(answered).toEqual(['identify', 'mesh']);
      // Made in this thread, the mesh held the loop for most of its time (no answer in between); in the pool's, the probes flow.
      const gaps = answeredAt.map((at, i) => at - (answeredAt[i - 1] ?? started));
      expect(Math.max(...gaps)).toBeLessThan((finished - started) / 3);
      // The same subject's mesh made in the request's own thread (a second server over the same gallery) is the same file.
      const inThread = await startTestServer(dir, encoder, { FACE3D_MESH_THREADS: '0', FACE3D_WORKERS: '0' });
      try {
        expect(glb.equals(await download(mesh.url.replace(server.url, inThread.url)))).toBe(true);
      } finally {
        await inThread.close();
      }
      expect(dataOf(await reader.query<{ serverInfo: { bundle: string } }>('{ serverInfo { bundle } }')).serverInfo.bundle).toBe(encoder.bundleId);
    });

    it('serves a face’s own mesh, with its expression on request', async () => {
      const FACE_MESH = `query($id: ID!) { photo(id: $id) { face { vector { shape } neutral: mesh(format: PLY) { url } expressive: mesh(format: PLY, expression: true) { url } } } }`;
      const face = dataOf(await reader.query<{ photo: { face: { neutral: { url: string }; expressive: { url: string } } } }>(FACE_MESH, { id: enrolledPhotoIds[0] })).photo.face;
      const neutral = readPly(await download(face.neutral.url));
      const expressive = readPly(await download(face.expressive.url));
      expect(expressive.positions.length).toBe(neutral.positions.length);
      expect(Array.from(expressive.positions)).not.toEqual(Array.from(neutral.positions));
    });
  });

  describe('errors', () => {
    it('names bad images with their codes and refuses the whole batch', async () => {
      const subjectId = subjectIds.get(enrolled[0].name);
      const jpeg = await readFile(enrolled[0].photos[0]);
      const cases: [FilePart, string][] = [
        [{ bytes: Buffer.from('%PDF-1.4 not a photo'), name: 'doc.pdf' }, 'UNSUPPORTED_IMAGE'],
        [{ bytes: jpeg.subarray(0, jpeg.length / 2), name: 'half.jpg' }, 'CORRUPT_IMAGE'],
        [{ bytes: pngDeclaringSize(20_000, 20_000), name: 'bomb.png' }, 'IMAGE_TOO_LARGE'],
      ];
      for (const [file, code] of cases) {
        const good = await photoFile(enrolled[0].photos[ENROLLED_PHOTOS + HELD_OUT_PHOTOS] ?? enrolled[0].photos.at(-1)!);
        const response = await enroller.upload(ENROLL, { subjectId, photos: [null, null] }, { 'variables.photos.0': good, 'variables.photos.1': file });
        expect(errorCodes(response)).toEqual([code]);
        expect(response.errors?.[0].message).toMatch(new RegExp(`^photo 2 \\(${file.name.replace('.', '\\.')}\\)`));
        expect(errorCodes(await identifyFile(file))).toEqual([code]);
      }
      const count = dataOf(await reader.query<{ subject: { photoCount: number } }>('query($id: ID!) { subject(id: $id) { photoCount } }', { id: subjectId })).subject.photoCount;
      expect(count).toBe(ENROLLED_PHOTOS);
    });

    it('enrolls under qualityFilter NONE a face that AUTO refuses, naming its issues', async () => {
      const subject = dataOf(await enroller.query<{ createSubject: { id: string } }>(CREATE_SUBJECT, { input: { name: 'Blurred' } })).createSubject;
      const blurred = { bytes: await sharp(outsiders[1].photos[0]).blur(6).jpeg().toBuffer(), name: 'blurred.jpg' };
      const enroll = `mutation($subjectId: ID!, $photos: [Upload!]!, $filter: QualityFilter) { enrollPhotos(subjectId: $subjectId, photos: $photos, qualityFilter: $filter) { photos { ${PHOTO_FIELDS} } } }`;
      const [kept] = dataOf(await enroller.upload<{ enrollPhotos: { photos: PhotoResult[] } }>(enroll, { subjectId: subject.id, photos: [null], filter: 'NONE' }, { 'variables.photos.0': blurred })).enrollPhotos.photos;
      expect(kept.qualityFilter).toBe('NONE');
      const [done] = await waitForPhotos([kept.id]);
      expect(done).toMatchObject({ status: 'READY', error: null, quality: { issues: expect.arrayContaining(['BLURRY']) } });
      expect(done.quality!.score).toBeLessThan(0.5);
      expect(errorCodes(await enroller.query(enroll, { subjectId: subject.id, photos: [], filter: 'LOW' }))).toEqual(['BAD_USER_INPUT']);
      await admin.query('mutation($id: ID!) { deleteSubject(id: $id) }', { id: subject.id });
    });

    it('fails a photo without a face with NO_FACE, and refuses it as a probe', async () => {
      const subject = dataOf(await enroller.query<{ createSubject: { id: string } }>(CREATE_SUBJECT, { input: { name: 'Nobody' } })).createSubject;
      const blank = { bytes: await sharp({ create: { width: 200, height: 200, channels: 3, background: '#8090a0' } }).jpeg().toBuffer(), name: 'wall.jpg' };
      const [photo] = dataOf(await enroller.upload<{ enrollPhotos: { photos: PhotoResult[] } }>(ENROLL, { subjectId: subject.id, photos: [null] }, { 'variables.photos.0': blank })).enrollPhotos.photos;
      const [failed] = await waitForPhotos([photo.id]);
      expect(failed).toMatchObject({ status: 'FAILED', error: { code: 'NO_FACE' }, face: null });
      expect(errorCodes(await identifyFile(blank))).toEqual(['NO_FACE']);
      expect(errorCodes(await reader.query(IDENTIFY, { photoId: photo.id }))).toEqual(['NOT_READY']);
      expect(errorCodes(await reader.query(VERIFY, { a: { subjectId: subject.id }, b: { photoId: enrolledPhotoIds[0] } }))).toEqual(['NOT_READY']);
      expect(dataOf(await reader.query<{ subject: { mesh: null } }>('query($id: ID!) { subject(id: $id) { mesh(format: GLB) { url } } }', { id: subject.id })).subject.mesh).toBeNull();
      await admin.query('mutation($id: ID!) { deleteSubject(id: $id) }', { id: subject.id });
    });

    it('answers NOT_FOUND, BAD_USER_INPUT and query-limit errors with their codes', async () => {
      expect(dataOf(await reader.query<{ subject: null }>('{ subject(id: "missing") { id } }')).subject).toBeNull();
      expect(errorCodes(await admin.query('mutation { deleteSubject(id: "missing") }'))).toEqual(['NOT_FOUND']);
      expect(errorCodes(await reader.query(IDENTIFY, { photoId: 'missing' }))).toEqual(['NOT_FOUND']);
      expect(errorCodes(await enroller.upload(ENROLL, { subjectId: 'missing', photos: [null] }, { 'variables.photos.0': await photoFile(enrolled[0].photos[0]) }))).toEqual(['NOT_FOUND']);
      expect(errorCodes(await reader.query(IDENTIFY, {}))).toEqual(['BAD_USER_INPUT']);
      expect(errorCodes(await reader.query(IDENTIFY, { photoId: enrolledPhotoIds[0], topK: 0 }))).toEqual(['BAD_USER_INPUT']);
      expect(errorCodes(await reader.query(IDENTIFY, { photoId: enrolledPhotoIds[0], threshold: 2 }))).toEqual(['BAD_USER_INPUT']);
      expect(errorCodes(await reader.query('{ subjects(after: "bogus") { totalCount } }'))).toEqual(['BAD_USER_INPUT']);
      expect(errorCodes(await reader.query('{ subjects(first: "x") { totalCount } }'))).toEqual(['GRAPHQL_VALIDATION_FAILED']);
      expect(errorCodes(await reader.query('{ subjects { edges { node { photos { edges { node { face { photo { face { photo { face { photo { id } } } } } } } } } } } } }'))).toEqual(['GRAPHQL_VALIDATION_FAILED']);
      expect(errorCodes(await reader.query('{ subjects(first: 100) { edges { node { photos(first: 100) { edges { node { id } } } } } } }'))).toEqual(['GRAPHQL_VALIDATION_FAILED']);
      expect(errorCodes(await reader.query('{ nope }'))).toEqual(['GRAPHQL_VALIDATION_FAILED']);
      expect(errorCodes(await reader.query('{ subjects { '))).toEqual(['GRAPHQL_PARSE_FAILED']);
      const tooMany = await enroller.upload(ENROLL, { subjectId: 'x', photos: Array(21).fill(null) }, Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`variables.photos.${i}`, { bytes: Buffer.from('x'), name: `${i}.jpg` }])));
      expect(tooMany.status).toBe(413);
      expect(errorCodes(tooMany)).toEqual(['BAD_USER_INPUT']);
    });
  });

  describe('deletes', () => {
    it('remove a subject with its photos, faces, vectors and files; it is no longer found', async () => {
      const victim = enrolled.at(-1)!;
      const subjectId = subjectIds.get(victim.name)!;
      const files = () => readdirSync(join(dir, 'photos'), { recursive: true }).filter((name) => /[0-9a-f]{64}$/.test(String(name))).length;
      const before = files();
      const meshUrl = dataOf(await reader.query<{ subject: { mesh: { url: string } } }>('query($id: ID!) { subject(id: $id) { mesh(format: PLY) { url } } }', { id: subjectId })).subject.mesh.url;
      expect(dataOf(await admin.query<{ deleteSubject: boolean }>('mutation($id: ID!) { deleteSubject(id: $id) }', { id: subjectId })).deleteSubject).toBe(true);
      subjectIds.delete(victim.name);
      expect(files()).toBe(before - ENROLLED_PHOTOS);
      expect(dataOf(await reader.query<{ subject: null }>('query($id: ID!) { subject(id: $id) { id } }', { id: subjectId })).subject).toBeNull();
      expect((await reader.download(meshUrl)).status).toBe(404);
      const result = dataOf(await identifyUpload(reader, victim.photos[ENROLLED_PHOTOS], { topK: 10 })).identify;
      expect(result.matches.map((match) => match.subject.id)).not.toContain(subjectId);
    });
  });

  describe('a restart', () => {
    it('finds everything still there, in production mode with tighter upload limits', async () => {
      const probe = enrolled[0].photos[ENROLLED_PHOTOS];
      await server.close();
      server = await startTestServer(dir, encoder, { NODE_ENV: 'production', FACE3D_MAX_IMAGE_BYTES: '4000', FACE3D_MAX_UPLOAD_FILES: '2' });
      [admin, enroller, reader] = [admin, enroller, reader].map((client) => new ApiClient(server.url, client.key));

      const after = dataOf(await reader.query<{ identify: IdentifyResult }>(IDENTIFY, { photoId: enrolledPhotoIds[0] })).identify;
      expect(after.matches[0].subject.id).toBe(subjectIds.get(enrolled[0].name));
      expect(dataOf(await reader.query<{ serverInfo: { subjects: number; enrolledFaces: number } }>('{ serverInfo { subjects enrolledFaces } }')).serverInfo).toEqual({
        subjects: ENROLLED_PEOPLE - 1,
        enrolledFaces: (ENROLLED_PEOPLE - 1) * ENROLLED_PHOTOS,
      });
      const photos = await waitForPhotos(enrolledPhotoIds.slice(0, ENROLLED_PHOTOS));
      expect(photos.map((photo) => photo.status)).toEqual(Array(ENROLLED_PHOTOS).fill('READY'));

      const tooBig = await identifyUpload(reader, probe);
      expect(errorCodes(tooBig)).toEqual(['IMAGE_TOO_LARGE']);
      expect(tooBig.errors?.[0].extensions?.stacktrace).toBeUndefined();
      expect(errorCodes(await reader.query('{ __schema { types { name } } }'))).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    });
  });
});

/** Identify with an arbitrary file as the probe. */
function identifyFile(file: FilePart) {
  return reader.upload<{ identify: IdentifyResult }>(IDENTIFY, { image: null }, { 'variables.image': file });
}
