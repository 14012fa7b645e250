/**
 * Every kind of bad or unusual input of test/helpers/bad-input-table.ts, made here, sent to a real
 * server over HTTP, answered as the table says; the server stays up and a refused request leaves
 * the database and the photo store as they were. Then arbitrary variables of real operations
 * (fast-check): never a 5xx, always a result or a typed error.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import fc from 'fast-check';
import sharp, { type Sharp } from 'sharp';
import { BAD_INPUTS, renderBadInputTable, type BadInputKind } from '../helpers/bad-input-table.js';
import { ApiClient, dataOf, errorCodes, type FilePart, type GraphQLResponse } from '../../src/api/http-client.js';
import { findPackageRoot } from '../../src/core/config.js';
import type { ErrorCode } from '../../src/core/errors.js';
import { FaceEncoder } from '../../src/inference/face-encoder.js';
import type { Box } from '../../src/core/image.js';
import type { RunningServer } from '../../src/server.js';
import { ADMIN_KEY, startTestServer } from '../helpers/api-server.js';
import { testDatabaseUrl } from '../helpers/database-backends.js';
import { pngDeclaringSize } from '../helpers/images.js';
import { LFW_DEV, lfwPeople } from '../helpers/lfw.js';

const MAX_IMAGE_BYTES = 8 * 1024 * 1024;
const MAX_UPLOAD_FILES = 3;
const MIN_KINDS = 30;

const facePhoto = lfwPeople(1)?.[0]?.photos[0];
if (!facePhoto) console.warn(`bad-input.test.ts: the kinds made of face photos are skipped, the LFW photos are not in ${LFW_DEV}`);

const ENROLL = 'mutation($subjectId: ID!, $photos: [Upload!]!) { enrollPhotos(subjectId: $subjectId, photos: $photos) { photos { id } } }';
const IDENTIFY = 'query($image: Upload) { identify(image: $image) { probe { box { x y width height } vector { shape } } } }';
const DEEP_QUERY = '{ subjects { edges { node { photos { edges { node { face { photo { face { photo { face { photo { id } } } } } } } } } } } } }';
const COSTLY_QUERY = '{ subjects(first: 100) { edges { node { photos(first: 100) { edges { node { id } } } } } } }';

type IdentifyData = { identify: { probe: { box: Box | null; vector: { shape: number[] } } } };

let dir: string;
let encoder: FaceEncoder;
let server: RunningServer;
let admin: ApiClient;
let subjectId: string;

// --- what the database and photo store hold -------------------------------------------------

type Snapshot = Record<string, { rows: number; sha256: string }>;

/** Row count and checksum of every table; lastUsedAt is a usage hint that reads may update. */
function snapshot(): Snapshot {
  const db = new BetterSqlite3(join(dir, 'face3d.db'), { readonly: true });
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[];
    const result: Snapshot = {};
    for (const { name } of tables) {
      const rows = (db.prepare(`SELECT * FROM "${name}" ORDER BY rowid`).all() as Record<string, unknown>[]).map(({ lastUsedAt: _hint, ...row }) => row);
      result[name] = { rows: rows.length, sha256: createHash('sha256').update(JSON.stringify(rows)).digest('hex') };
    }
    const photos = readdirSync(join(dir, 'photos'), { recursive: true }).map(String).sort();
    result['photo files'] = { rows: photos.length, sha256: createHash('sha256').update(photos.join('\n')).digest('hex') };
    return result;
  } finally {
    db.close();
  }
}

// --- requests built by hand -------------------------------------------------------------------

async function asResponse(response: Response): Promise<GraphQLResponse> {
  const text = await response.text();
  try {
    return { status: response.status, ...(JSON.parse(text) as object) };
  } catch {
    return { status: response.status, errors: [{ message: `not JSON: ${text.slice(0, 200)}` }] };
  }
}

function postGraphql(body: string | Uint8Array, headers: Record<string, string>): Promise<GraphQLResponse> {
  return fetch(`${server.url}/graphql`, { method: 'POST', headers: admin.headers(headers), body }).then(asResponse);
}

function postJson(body: string): Promise<GraphQLResponse> {
  return postGraphql(body, { 'content-type': 'application/json' });
}

interface RawPart {
  readonly name: string;
  /** Raw bytes of the file name: they need not be UTF-8. */
  readonly filename?: Buffer;
  readonly content: Buffer | string;
}

const BOUNDARY = 'face3d-bad-input-boundary';

/** A multipart body written byte by byte, so it can be wrong in ways FormData never is. */
function multipartBody(parts: readonly RawPart[], closed = true): Buffer {
  const chunks = parts.flatMap((part) => [
    Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="${part.name}"`),
    part.filename ? Buffer.concat([Buffer.from('; filename="'), part.filename, Buffer.from('"\r\nContent-Type: image/jpeg')]) : Buffer.alloc(0),
    Buffer.from('\r\n\r\n'),
    Buffer.from(part.content),
    Buffer.from('\r\n'),
  ]);
  return Buffer.concat([...chunks, Buffer.from(closed ? `--${BOUNDARY}--\r\n` : '')]);
}

function postMultipart(body: Buffer): Promise<GraphQLResponse> {
  return postGraphql(new Uint8Array(body), { 'content-type': `multipart/form-data; boundary=${BOUNDARY}`, 'apollo-require-preflight': 'true' });
}

const enrollOperations = (photos: number) => JSON.stringify({ query: ENROLL, variables: { subjectId, photos: Array(photos).fill(null) } });
const identifyOperations = JSON.stringify({ query: IDENTIFY, variables: { image: null } });

// --- images ---------------------------------------------------------------------------------

/** An empty room: two walls, a floor and a window, and no face. */
function noFacePhoto(): Promise<Buffer> {
  const rectangle = (width: number, height: number, colour: string, left: number, top: number) => ({
    input: { create: { width, height, channels: 3 as const, background: colour } },
    left,
    top,
  });
  return sharp({ create: { width: 640, height: 480, channels: 3, background: '#c8b89a' } })
    .composite([rectangle(320, 340, '#b5a585', 320, 0), rectangle(640, 140, '#6b4f3a', 0, 340), rectangle(160, 120, '#a9c8e8', 80, 90)])
    .jpeg()
    .toBuffer();
}

const BACKGROUND = { r: 112, g: 128, b: 144 };

/** The LFW face moved off-centre (padded right and below), so that a wrong orientation moves its box. */
function uprightFace(): Promise<Buffer> {
  return sharp(facePhoto!).extend({ right: 150, bottom: 50, background: BACKGROUND }).jpeg({ quality: 95 }).toBuffer();
}

/** Stored pixels that EXIF `orientation` displays as `upright` (transposes are their own inverse). */
async function storedForOrientation(upright: Buffer, orientation: number): Promise<Buffer> {
  const rotate = (degrees: number) => (image: Buffer) => sharp(image).rotate(degrees).toBuffer();
  const flop = (image: Buffer) => sharp(image).flop().toBuffer();
  const steps: Record<number, ((image: Buffer) => Promise<Buffer>)[]> = {
    1: [],
    2: [flop],
    3: [rotate(180)],
    4: [(image) => sharp(image).flip().toBuffer()],
    5: [rotate(90), flop],
    6: [rotate(270)],
    7: [rotate(270), flop],
    8: [rotate(90)],
  };
  let stored = upright;
  for (const step of steps[orientation]) stored = await step(stored);
  return sharp(stored).jpeg({ quality: 95 }).withMetadata({ orientation }).toBuffer();
}

function iou(a: Box, b: Box): number {
  const width = Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x));
  const height = Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y));
  const intersection = width * height;
  return intersection / (a.width * a.height + b.width * b.height - intersection);
}

const scaled = (box: Box, scale: number, dx = 0, dy = 0): Box => ({ x: box.x * scale + dx, y: box.y * scale + dy, width: box.width * scale, height: box.height * scale });

// --- the cases ------------------------------------------------------------------------------

interface Case {
  send(): Promise<GraphQLResponse>;
  /** Where the face must be found, from the box found in the plain upright photo. */
  expectedBox?(reference: Box): Box;
  /** Further checks once the response is in. */
  after?(): void;
}

const file = (bytes: Uint8Array, name: string, type?: string): FilePart => ({ bytes, name, type });

let validJpeg: Buffer;
let upright: Buffer;
let referenceBox: Box;
/** Requests that reached the "other server" an SVG links to. */
let trackerHits = 0;
let tracker: Server;

/** As photo 2 of an enrollPhotos request whose photo 1 is fine: the whole batch must be refused. */
function enrollSecond(bad: FilePart): Promise<GraphQLResponse> {
  return admin.upload(ENROLL, { subjectId, photos: [null, null] }, { 'variables.photos.0': file(validJpeg, 'fine.jpg'), 'variables.photos.1': bad });
}

type PhotoData = { photo: { status: string; error: { code: string } | null; quality: { score: number; issues: string[] } | null } };

/** As the only photo of an enrollPhotos request (default qualityFilter AUTO): the photo once its enrollment is over. */
async function enrollAlone(image: Sharp, name: string): Promise<GraphQLResponse> {
  const enrolled = await admin.upload<{ enrollPhotos: { photos: { id: string }[] } }>(ENROLL, { subjectId, photos: [null] }, { 'variables.photos.0': file(await image.jpeg().toBuffer(), name) });
  const [{ id }] = dataOf(enrolled).enrollPhotos.photos;
  await waitUntilProcessed(id);
  return admin.query<PhotoData>('query($id: ID!) { photo(id: $id) { status error { code } quality { score issues } } }', { id });
}

function identify(image: FilePart): Promise<GraphQLResponse> {
  return admin.upload(IDENTIFY, { image: null }, { 'variables.image': image });
}

async function identifySharp(image: Sharp, name: string): Promise<GraphQLResponse> {
  return identify(file(await image.toBuffer(), name));
}

function trackerUrl(): string {
  return `http://127.0.0.1:${(tracker.address() as AddressInfo).port}/tracker.png`;
}

const CASES: Readonly<Record<string, Case>> = {
  'truncated-jpeg': { send: () => enrollSecond(file(validJpeg.subarray(0, validJpeg.length >> 1), 'half.jpg')) },
  'truncated-png': {
    send: async () => {
      const png = await sharp(validJpeg).png().toBuffer();
      return enrollSecond(file(png.subarray(0, png.length >> 1), 'half.png', 'image/png'));
    },
  },
  'corrupt-jpeg-header': {
    send: () => {
      const bytes = Buffer.from(validJpeg);
      const frame = bytes.indexOf(Buffer.from([0xff, 0xc0]));
      bytes.fill(0xab, frame + 2, frame + 12);
      return enrollSecond(file(bytes, 'garbled.jpg'));
    },
  },
  'png-bad-checksum': {
    send: async () => {
      const png = await sharp(validJpeg).png().toBuffer();
      const data = png.indexOf(Buffer.from('IDAT')) + 4;
      png[data + 2] ^= 0xff;
      return enrollSecond(file(png, 'bad-crc.png', 'image/png'));
    },
  },
  'gif-without-frames': {
    // Header, a 64×48 logical screen without a colour table, then the trailer.
    send: () => enrollSecond(file(Buffer.from([...Buffer.from('GIF89a'), 64, 0, 48, 0, 0, 0, 0, 0x3b]), 'empty.gif', 'image/gif')),
  },
  'empty-file': { send: () => enrollSecond(file(new Uint8Array(0), 'empty.jpg')) },
  'random-bytes': { send: () => enrollSecond(file(Uint8Array.from({ length: 50_000 }, (_, i) => (i * 2654435761) >>> 24), 'photo.jpg')) },
  'plain-text': { send: () => enrollSecond(file(Buffer.from('this is not a photo\n'.repeat(50)), 'photo.png', 'image/png')) },
  html: { send: () => enrollSecond(file(Buffer.from('<!doctype html><html><body><script>alert(1)</script><img src="x.jpg"></body></html>'), 'photo.jpg', 'text/html')) },
  svg: {
    send: () => enrollSecond(file(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="200" height="200"><circle cx="100" cy="100" r="80"/></svg>'), 'face.svg', 'image/svg+xml')),
  },
  'svg-external-reference': {
    send: () => {
      const svg = `<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="200" height="200">
        <image href="${trackerUrl()}" width="200" height="200"/><image xlink:href="${trackerUrl()}?xlink" width="200" height="200"/></svg>`;
      return enrollSecond(file(Buffer.from(svg), 'face.svg', 'image/svg+xml'));
    },
    after: () => expect(trackerHits).toBe(0),
  },
  pdf: { send: () => enrollSecond(file(Buffer.from('%PDF-1.4\n1 0 obj<< /Type /Catalog >>endobj\ntrailer<< /Root 1 0 R >>\n%%EOF\n'), 'face.pdf', 'application/pdf')) },
  'heic-in-avif-clothing': {
    send: () => enrollSecond(file(Buffer.concat([Buffer.from([0, 0, 0, 24]), Buffer.from('ftypheic\0\0\0\0mif1heic', 'latin1'), Buffer.alloc(2000, 7)]), 'face.avif', 'image/avif')),
  },
  'decompression-bomb': { send: () => enrollSecond(file(pngDeclaringSize(50_000, 50_000), 'bomb.png', 'image/png')) },
  'oversized-upload': { send: () => enrollSecond(file(Buffer.concat([validJpeg, Buffer.alloc(MAX_IMAGE_BYTES + 1 - validJpeg.length)]), 'huge.jpg')) },
  'face-box-outside-image': {
    send: () =>
      admin.upload('query($image: Upload, $box: BoxInput) { identify(image: $image, faceBox: $box) { unknown } }', { image: null, box: { x: 100, y: 100, width: 50, height: 50 } }, { 'variables.image': file(validJpeg, 'small.jpg') }),
  },
  'one-pixel': { send: () => identifySharp(sharp({ create: { width: 1, height: 1, channels: 3, background: BACKGROUND } }).png(), 'dot.png') },
  'twenty-pixels': { send: () => identifySharp(sharp(facePhoto ?? validJpeg).resize(20, 20).jpeg(), 'tiny.jpg') },
  'no-face': { send: async () => identify(file(await noFacePhoto(), 'landscape.jpg')) },
  'blurred-face': { send: () => enrollAlone(sharp(facePhoto!).blur(6), 'blurred.jpg') },
  'dark-face': { send: () => enrollAlone(sharp(facePhoto!).linear(0.06, 0), 'dark.jpg') },
  'overexposed-face': { send: () => enrollAlone(sharp(facePhoto!).linear(0.2, 235), 'overexposed.jpg') },
  'two-equal-faces': {
    send: async () => {
      const face = await sharp(facePhoto!).toBuffer();
      return enrollAlone(sharp({ create: { width: 500, height: 250, channels: 3, background: BACKGROUND } }).composite([{ input: face, left: 0, top: 0 }, { input: face, left: 250, top: 0 }]), 'twins.jpg');
    },
  },
  'png-16-bit': {
    send: async () => {
      const png = await sharp(upright).toColourspace('rgb16').png().toBuffer();
      expect((await sharp(png).metadata()).depth).toBe('ushort');
      return identify(file(png, 'deep.png', 'image/png'));
    },
    expectedBox: (box) => box,
  },
  'cmyk-jpeg': {
    send: async () => {
      const jpeg = await sharp(upright).toColourspace('cmyk').jpeg().toBuffer();
      expect((await sharp(jpeg).metadata()).space).toBe('cmyk');
      return identify(file(jpeg, 'print.jpg'));
    },
    expectedBox: (box) => box,
  },
  grayscale: { send: () => identifySharp(sharp(upright).grayscale().jpeg(), 'grey.jpg'), expectedBox: (box) => box },
  alpha: {
    send: () => identifySharp(sharp(upright).ensureAlpha().extend({ top: 40, bottom: 40, left: 40, right: 40, background: { r: 0, g: 0, b: 0, alpha: 0 } }).png(), 'cutout.png'),
    expectedBox: (box) => scaled(box, 1, 40, 40),
  },
  'animated-gif': {
    send: async () => {
      const { data, info } = await sharp(upright).raw().toBuffer({ resolveWithObject: true });
      const frames = Buffer.concat([data, Buffer.alloc(data.length, 200)]);
      const gif = await sharp(frames, { raw: { width: info.width, height: info.height * 2, channels: 3, pageHeight: info.height } }).gif().toBuffer();
      expect((await sharp(gif).metadata()).pages).toBe(2);
      return identify(file(gif, 'animated.gif', 'image/gif'));
    },
    expectedBox: (box) => box,
  },
  ...Object.fromEntries(
    [1, 2, 3, 4, 5, 6, 7, 8].map((orientation): [string, Case] => [
      `exif-orientation-${orientation}`,
      { send: async () => identify(file(await storedForOrientation(upright, orientation), `oriented-${orientation}.jpg`)), expectedBox: (box) => box },
    ]),
  ),
  'five-faces': {
    send: async () => {
      const tiles = await Promise.all(
        [0, 1, 2, 3, 4].map(async (i) => ({ input: await sharp(facePhoto!).resize(i === 2 ? 300 : 200).toBuffer(), left: i * 320, top: i === 2 ? 0 : 50 })),
      );
      return identifySharp(sharp({ create: { width: 1600, height: 300, channels: 3, background: BACKGROUND } }).composite(tiles).jpeg(), 'group.jpg');
    },
    expectedBox: (box) => scaled(box, 300 / 250, 640, 0),
  },
  'face-at-border': {
    send: () => identifySharp(sharp(facePhoto!).extract({ left: 90, top: 0, width: 160, height: 250 }).jpeg(), 'cut.jpg'),
    expectedBox: (box) => scaled(box, 1, -90),
  },
  'large-photo': {
    send: async () => {
      const face = await sharp(facePhoto!).resize(2400, 2400).toBuffer();
      return identifySharp(sharp({ create: { width: 6000, height: 4000, channels: 3, background: BACKGROUND } }).composite([{ input: face, left: 1800, top: 800 }]).jpeg(), 'large.jpg');
    },
    expectedBox: (box) => scaled(box, 2400 / 250, 1800, 800),
  },
  webp: { send: () => identifySharp(sharp(upright).webp(), 'face.webp'), expectedBox: (box) => box },
  avif: { send: () => identifySharp(sharp(upright).avif(), 'face.avif'), expectedBox: (box) => box },
  tiff: { send: () => identifySharp(sharp(upright).tiff(), 'face.tiff'), expectedBox: (box) => box },
  'wrong-mime-type': { send: () => identify(file(upright, 'face.pdf', 'application/pdf')), expectedBox: (box) => box },
  'invalid-utf8-name': {
    send: () =>
      postMultipart(
        multipartBody([
          { name: 'operations', content: identifyOperations },
          { name: 'map', content: JSON.stringify({ 0: ['variables.image'] }) },
          { name: '0', filename: Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0x2e, 0x6a, 0x70, 0x67]), content: upright },
        ]),
      ),
    expectedBox: (box) => box,
  },
  'too-many-files': {
    send: () =>
      admin.upload(
        ENROLL,
        { subjectId, photos: Array(MAX_UPLOAD_FILES + 1).fill(null) },
        Object.fromEntries(Array.from({ length: MAX_UPLOAD_FILES + 1 }, (_, i) => [`variables.photos.${i}`, file(validJpeg, `${i}.jpg`)])),
      ),
  },
  'multipart-without-preflight': { send: () => admin.upload(ENROLL, { subjectId, photos: [null] }, { 'variables.photos.0': file(validJpeg, 'fine.jpg') }, {}) },
  'multipart-without-map': {
    send: () => postMultipart(multipartBody([{ name: 'operations', content: enrollOperations(1) }, { name: '0', filename: Buffer.from('fine.jpg'), content: validJpeg }])),
  },
  'multipart-invalid-operations': {
    send: () => postMultipart(multipartBody([{ name: 'operations', content: '{"query": "mutation {' }, { name: 'map', content: '{"0": ["variables.photos.0"]}' }, { name: '0', filename: Buffer.from('a.jpg'), content: validJpeg }])),
  },
  'multipart-missing-file': {
    send: () => postMultipart(multipartBody([{ name: 'operations', content: enrollOperations(2) }, { name: 'map', content: '{"0": ["variables.photos.0"], "1": ["variables.photos.1"]}' }, { name: '0', filename: Buffer.from('a.jpg'), content: validJpeg }])),
  },
  'multipart-cut-short': {
    send: () => {
      const body = multipartBody([{ name: 'operations', content: enrollOperations(1) }, { name: 'map', content: '{"0": ["variables.photos.0"]}' }, { name: '0', filename: Buffer.from('a.jpg'), content: validJpeg }], false);
      return postMultipart(body.subarray(0, body.length - (validJpeg.length >> 1)));
    },
  },
  'upload-as-string': { send: () => admin.query(ENROLL, { subjectId, photos: ['data:image/jpeg;base64,/9j/4AAQ'] }) },
  'invalid-json-body': { send: () => postJson('{"query": "{ serverInfo { bundle } }", "variables": {') },
  'huge-variables': {
    send: () => postJson(JSON.stringify({ query: 'mutation($input: CreateSubjectInput!) { createSubject(input: $input) { id } }', variables: { input: { name: 'big', metadata: { blob: 'x'.repeat(2_000_000) } } } })),
  },
  'huge-multipart-operations': {
    send: () => {
      const operations = JSON.stringify({ query: ENROLL, variables: { subjectId, photos: [null], padding: 'x'.repeat(2_000_000) } });
      return postMultipart(multipartBody([{ name: 'operations', content: operations }, { name: 'map', content: '{"0": ["variables.photos.0"]}' }, { name: '0', filename: Buffer.from('a.jpg'), content: validJpeg }]));
    },
  },
  'nul-character': { send: () => admin.query('mutation($name: String!) { createSubject(input: { name: $name }) { id } }', { name: 'Bobby\u0000Tables' }) },
  'deep-query': { send: () => admin.query(DEEP_QUERY) },
  'costly-query': { send: () => admin.query(COSTLY_QUERY) },
  'inference-aliases': { send: () => admin.query(`{ ${Array.from({ length: 6 }, (_, i) => `a${i}: identify(photoId: "p") { unknown }`).join(' ')} }`) },
  'token-flood': { send: () => postJson(JSON.stringify({ query: `{ ${Array.from({ length: 5000 }, (_, i) => `a${i}: __schema { types { name } }`).join(' ')} }` })) },
  'deep-document': { send: () => admin.query(`{ subjects(search: ${'['.repeat(2000)}"x"${']'.repeat(2000)}) { totalCount } }`) },
  'deep-variables': {
    send: () => postJson(`{"query":"mutation($m: JSON) { createSubject(input: { name: \\"deep\\", metadata: $m }) { id } }","variables":{"m":${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}}}`),
  },
  'empty-id': { send: () => admin.query('{ identify(photoId: "") { unknown } }') },
  'long-id': { send: () => admin.query('query($id: ID!) { subject(id: $id) { id } }', { id: 'x'.repeat(100_000) }) },
  'long-search': { send: () => admin.query('query($s: String) { subjects(search: $s) { totalCount } }', { s: 'a'.repeat(60_000) }) },
  'multipart-map-far-index': {
    send: () => postMultipart(multipartBody([{ name: 'operations', content: enrollOperations(1) }, { name: 'map', content: '{"0": ["variables.photos.100000000"]}' }, { name: '0', filename: Buffer.from('a.jpg'), content: validJpeg }])),
  },
  'multipart-map-deep-path': {
    send: () => postMultipart(multipartBody([{ name: 'operations', content: enrollOperations(1) }, { name: 'map', content: `{"0": ["variables.${'q.'.repeat(20_000)}0"]}` }, { name: '0', filename: Buffer.from('a.jpg'), content: validJpeg }])),
  },
  'multipart-map-many-paths': {
    send: () => {
      const map = JSON.stringify({ 0: Array(MAX_UPLOAD_FILES + 1).fill('variables.photos.0') });
      return postMultipart(multipartBody([{ name: 'operations', content: enrollOperations(1) }, { name: 'map', content: map }, { name: '0', filename: Buffer.from('a.jpg'), content: validJpeg }]));
    },
  },
  'persisted-query': { send: () => postJson(JSON.stringify({ query: '{ __typename }', extensions: { persistedQuery: { version: 1, sha256Hash: '0'.repeat(64) } } })) },
};

/** The worker's writes must be over before the database is compared. */
async function waitUntilProcessed(photoId: string): Promise<void> {
  for (;;) {
    const { photo } = dataOf(await admin.query<{ photo: { status: string } }>('query($id: ID!) { photo(id: $id) { status } }', { id: photoId }));
    if (photo.status === 'READY' || photo.status === 'FAILED') return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function checkOutcome(kind: BadInputKind, testCase: Case, response: GraphQLResponse): void {
  const { outcome } = kind;
  if ('code' in outcome) {
    expect({ status: response.status, codes: errorCodes(response) }).toEqual({ status: outcome.httpStatus, codes: [outcome.code] });
    return;
  }
  if ('photoError' in outcome) {
    const { photo } = dataOf(response as GraphQLResponse<PhotoData>);
    expect(photo).toMatchObject({ status: 'FAILED', error: { code: outcome.photoError }, quality: { issues: expect.arrayContaining([...outcome.issues]) } });
    // A refused face scores at most the floor of its worst issue (SEVERAL_FACES: 0.5, gallery/quality.ts).
    expect(photo.quality!.score).toBeLessThanOrEqual(0.5);
    return;
  }
  const probe = dataOf(response as GraphQLResponse<IdentifyData>).identify.probe;
  expect(probe.vector.shape.length).toBeGreaterThan(0);
  expect(probe.box).not.toBeNull();
  expect(iou(probe.box!, testCase.expectedBox!(referenceBox))).toBeGreaterThan(0.5);
}

describe('bad input through a real server', () => {
  let baseline: Snapshot;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'face3d-bad-input-'));
    encoder = await FaceEncoder.open();
    // SQLite whatever FACE3D_TEST_DATABASE says: the checksums read the database file directly.
    const env = { DATABASE_URL: testDatabaseUrl(dir, 'sqlite'), FACE3D_MAX_IMAGE_BYTES: String(MAX_IMAGE_BYTES), FACE3D_MAX_UPLOAD_FILES: String(MAX_UPLOAD_FILES) };
    server = await startTestServer(dir, encoder, env);
    admin = new ApiClient(server.url, ADMIN_KEY);
    subjectId = dataOf(await admin.query<{ createSubject: { id: string } }>('mutation { createSubject(input: { name: "Target" }) { id } }')).createSubject.id;
    validJpeg = await sharp({ create: { width: 64, height: 48, channels: 3, background: BACKGROUND } }).jpeg().toBuffer();
    // One photo stored, so that the photo store exists and a refused batch could be seen in it.
    const stored = await admin.upload<{ enrollPhotos: { photos: { id: string }[] } }>(ENROLL, { subjectId, photos: [null] }, { 'variables.photos.0': file(await noFacePhoto(), 'stored.jpg') });
    await waitUntilProcessed(dataOf(stored).enrollPhotos.photos[0].id);
    if (facePhoto) {
      upright = await uprightFace();
      referenceBox = dataOf(await identify(file(upright, 'upright.jpg')) as GraphQLResponse<IdentifyData>).identify.probe.box!;
    }
    tracker = createServer((_req, res) => {
      trackerHits++;
      res.end();
    });
    await new Promise<void>((resolve) => tracker.listen(0, '127.0.0.1', resolve));
    baseline = snapshot();
  });

  afterAll(async () => {
    tracker?.close();
    await server?.close();
    await encoder?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('has a case for exactly the kinds of the table, at least 30 of them', () => {
    expect(Object.keys(CASES).sort()).toEqual(BAD_INPUTS.map((kind) => kind.id).sort());
    expect(new Set(BAD_INPUTS.map((kind) => kind.id)).size).toBe(BAD_INPUTS.length);
    expect(BAD_INPUTS.length).toBeGreaterThanOrEqual(MIN_KINDS);
  });

  it('docs/bad-input.md shows exactly this table', () => {
    const doc = readFileSync(join(findPackageRoot(), 'docs/bad-input.md'), 'utf8');
    const table = /<!-- table:start -->\n([\s\S]*?)\n<!-- table:end -->/.exec(doc)?.[1];
    expect(table).toBe(renderBadInputTable());
  });

  it.each(BAD_INPUTS.map((kind) => [kind.id, kind] as const))('%s', async (_id, kind) => {
    if (kind.needsFaces && !facePhoto) {
      console.warn(`bad-input.test.ts: ${kind.id} skipped, no LFW face photos`);
      return;
    }
    const testCase = CASES[kind.id];
    const response = await testCase.send();
    checkOutcome(kind, testCase, response);
    testCase.after?.();
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    // A photo refused for its quality is stored, FAILED, as the outcome says; anything else writes nothing.
    if (kind.sentAs === 'enrollment') baseline = snapshot();
    else expect(snapshot()).toEqual(baseline);
  });
});

describe('arbitrary variables of real operations (property-based)', () => {
  /** Every code a client may see; INTERNAL is deliberately absent. */
  const TYPED_CODES: readonly string[] = [
    'BAD_USER_INPUT', 'NOT_FOUND', 'NOT_READY', 'CONFLICT', 'NO_FACE', 'UNSUPPORTED_IMAGE', 'CORRUPT_IMAGE', 'IMAGE_TOO_LARGE', 'FORBIDDEN',
    'GRAPHQL_VALIDATION_FAILED', 'GRAPHQL_PARSE_FAILED', 'BAD_REQUEST',
  ] satisfies (ErrorCode | 'GRAPHQL_VALIDATION_FAILED' | 'GRAPHQL_PARSE_FAILED' | 'BAD_REQUEST')[];

  /** Mostly values of the wrong type or shape, with well-typed ones mixed in. */
  const anyValue = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.integer(),
    fc.double(),
    fc.constantFrom(null, true, 0, -1, 2 ** 31, 1e308, '', '\u0000', 'a\u0000b', 'TEMPLATE', 'PLY', 'READ', 'ADMIN'),
    fc.jsonValue({ maxDepth: 3 }),
  );

  const OPERATIONS: readonly { name: string; query: string; variables: fc.Arbitrary<Record<string, unknown>> }[] = [
    {
      name: 'subjects',
      query: 'query($first: Int, $after: String, $search: String) { subjects(first: $first, after: $after, search: $search) { totalCount edges { cursor node { id } } } }',
      variables: fc.record({ first: anyValue, after: anyValue, search: anyValue }, { requiredKeys: [] }),
    },
    {
      name: 'createSubject',
      query: 'mutation($input: CreateSubjectInput!) { createSubject(input: $input) { id name externalId metadata } }',
      variables: fc.record({ input: fc.oneof(anyValue, fc.record({ name: anyValue, externalId: anyValue, metadata: anyValue }, { requiredKeys: [] })) }),
    },
    {
      name: 'updateSubject',
      query: 'mutation($id: ID!, $input: UpdateSubjectInput!) { updateSubject(id: $id, input: $input) { id } }',
      variables: fc.record({ id: fc.oneof(anyValue, fc.constant('SUBJECT')), input: fc.oneof(anyValue, fc.record({ name: anyValue, metadata: anyValue }, { requiredKeys: [] })) }),
    },
    {
      name: 'identify',
      query: 'query($photoId: ID, $topK: Int, $threshold: Float, $mode: MatchMode, $bundle: String) { identify(photoId: $photoId, topK: $topK, threshold: $threshold, mode: $mode, bundle: $bundle) { unknown matches { rank } } }',
      variables: fc.record({ photoId: anyValue, topK: anyValue, threshold: anyValue, mode: anyValue, bundle: anyValue }, { requiredKeys: [] }),
    },
    {
      name: 'verify',
      query: 'query($a: FaceRef!, $b: FaceRef!, $threshold: Float) { verify(a: $a, b: $b, threshold: $threshold) { similarity } }',
      variables: fc.record({ a: anyValue, b: fc.record({ photoId: anyValue, subjectId: anyValue, faceBox: anyValue }, { requiredKeys: [] }), threshold: anyValue }),
    },
    {
      name: 'subject mesh',
      query: 'query($id: ID!, $format: MeshFormat!, $expression: Boolean, $bundle: String) { subject(id: $id) { mesh(format: $format, expression: $expression, bundle: $bundle) { url } } }',
      variables: fc.record({ id: fc.oneof(anyValue, fc.constant('SUBJECT')), format: anyValue, expression: anyValue, bundle: anyValue }),
    },
    {
      name: 'createApiKey',
      query: 'mutation($role: ApiKeyRole!, $label: String!) { createApiKey(role: $role, label: $label) { apiKey { id } } }',
      variables: fc.record({ role: anyValue, label: anyValue }),
    },
  ];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'face3d-graphql-property-'));
    encoder = await FaceEncoder.open();
    server = await startTestServer(dir, encoder);
    admin = new ApiClient(server.url, ADMIN_KEY);
    subjectId = dataOf(await admin.query<{ createSubject: { id: string } }>('mutation { createSubject(input: { name: "Target" }) { id } }')).createSubject.id;
  });

  afterAll(async () => {
    await server?.close();
    await encoder?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it.each(OPERATIONS.map((operation) => [operation.name, operation] as const))('%s: a result or a typed error, never a 5xx', async (_name, operation) => {
    await fc.assert(
      fc.asyncProperty(operation.variables, async (variables) => {
        const withSubject = JSON.parse(JSON.stringify(variables).replaceAll('"SUBJECT"', JSON.stringify(subjectId))) as Record<string, unknown>;
        const response = await admin.query(operation.query, withSubject);
        expect(response.status).toBeLessThan(500);
        if (response.errors?.length) {
          for (const code of errorCodes(response)) expect(TYPED_CODES).toContain(code);
        } else {
          expect(response.data).toEqual(expect.any(Object));
        }
      }),
      { numRuns: 60 },
    );
  });
});
