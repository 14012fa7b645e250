/**
 * HTTP hardening of a real server: security headers, CORS, per-key rate limits, CSRF prevention,
 * downloads that reach no other file, and production mode (no introspection, no stack traces).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { ApiClient, dataOf, errorCodes, type GraphQLResponse } from '../../src/api/http-client.js';
import { findPackageRoot, type Env } from '../../src/core/config.js';
import { FaceEncoder } from '../../src/inference/face-encoder.js';
import type { RunningServer } from '../../src/server.js';
import { ADMIN_KEY, createKeyThroughApi, startTestServer } from '../helpers/api-server.js';

const VIEWER_ORIGIN = 'https://viewer.example.com';
const RATE_LIMIT = 5;

let encoder: FaceEncoder;
const running: { server: RunningServer; dir: string }[] = [];

async function start(env: Env = {}): Promise<{ server: RunningServer; admin: ApiClient; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'face3d-security-'));
  const server = await startTestServer(dir, encoder, env);
  running.push({ server, dir });
  return { server, admin: new ApiClient(server.url, ADMIN_KEY), dir };
}

async function json(response: Response): Promise<GraphQLResponse> {
  return { status: response.status, ...((await response.json()) as object) };
}

beforeAll(async () => {
  encoder = await FaceEncoder.open();
});

afterAll(async () => {
  for (const { server, dir } of running) {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
  await encoder?.close();
});

describe('security headers', () => {
  it('forbid framing and sniffing, send no referrer, and let pages run only their own scripts', async () => {
    const { server } = await start();
    for (const path of ['/healthz', '/photos/x/original', '/graphql']) {
      const response = await fetch(`${server.url}${path}`, { method: path === '/graphql' ? 'POST' : 'GET', headers: { 'content-type': 'application/json' }, body: path === '/graphql' ? '{"query":"{ __typename }"}' : undefined });
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('x-frame-options')).toBe('DENY');
      expect(response.headers.get('referrer-policy')).toBe('no-referrer');
      expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(response.headers.get('x-powered-by')).toBeNull();
    }
    const policy = (await fetch(`${server.url}/healthz`)).headers.get('content-security-policy')!;
    const directives = Object.fromEntries(policy.split(';').map((directive) => directive.trim().split(/\s+/)).map(([name, ...values]) => [name, values]));
    expect(directives['script-src']).toEqual(["'self'"]);
    expect(directives['default-src']).toEqual(["'self'"]);
    expect(directives['img-src']).toEqual(expect.arrayContaining(["'self'", 'blob:', 'data:']));
    expect(directives['object-src']).toEqual(["'none'"]);
  });
});

describe('CORS', () => {
  const preflight = (url: string, origin: string) =>
    fetch(`${url}/graphql`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' } });
  const post = (client: ApiClient, origin: string) =>
    fetch(`${client.url}/graphql`, { method: 'POST', headers: client.headers({ origin, 'content-type': 'application/json' }), body: '{"query":"{ serverInfo { bundle } }"}' });

  it('lets no other origin read responses by default', async () => {
    const { server, admin } = await start();
    const refused = await preflight(server.url, VIEWER_ORIGIN);
    expect(refused.status).toBe(403);
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    const response = await post(admin, VIEWER_ORIGIN);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    expect(response.headers.get('vary')).toMatch(/origin/i);
  });

  it('allows exactly the origins of FACE3D_CORS_ORIGINS, without credentials', async () => {
    const { server, admin } = await start({ FACE3D_CORS_ORIGINS: `${VIEWER_ORIGIN},http://localhost:5173` });
    const allowed = await preflight(server.url, VIEWER_ORIGIN);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(VIEWER_ORIGIN);
    expect(allowed.headers.get('access-control-allow-headers')).toMatch(/authorization/i);
    expect(allowed.headers.get('access-control-allow-credentials')).toBeNull();
    expect((await post(admin, VIEWER_ORIGIN)).headers.get('access-control-allow-origin')).toBe(VIEWER_ORIGIN);
    expect((await preflight(server.url, 'https://evil.example.com')).status).toBe(403);
    expect((await post(admin, 'https://viewer.example.com.evil.example')).headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('rate limits', () => {
  const query = (client: ApiClient) => client.query('{ serverInfo { bundle } }');

  it(`refuse the request after FACE3D_RATE_LIMIT per key with 429 RATE_LIMITED; other keys and /healthz go on`, async () => {
    const { server, admin } = await start({ FACE3D_RATE_LIMIT: String(RATE_LIMIT) });
    const other = admin.withKey(await createKeyThroughApi(admin, 'READ', 'other'));
    for (let i = 1; i < RATE_LIMIT; i++) expect(errorCodes(await query(admin))).toEqual([]);
    const response = await fetch(`${server.url}/graphql`, { method: 'POST', headers: admin.headers({ 'content-type': 'application/json' }), body: '{"query":"{ serverInfo { bundle } }"}' });
    expect(response.status).toBe(429);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(errorCodes(await json(response))).toEqual(['RATE_LIMITED']);
    expect((await admin.download(`${server.url}/photos/x/original`)).status).toBe(429);
    expect(errorCodes(await query(other))).toEqual([]);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it('count requests without a valid key per client address, whatever key they make up', async () => {
    const { admin } = await start({ FACE3D_RATE_LIMIT: String(RATE_LIMIT) });
    const madeUp = (i: number) => admin.withKey(`f3d_made${i}_${'x'.repeat(43)}`);
    const codes = [];
    for (let i = 0; i <= RATE_LIMIT; i++) codes.push(errorCodes(await query(madeUp(i))));
    expect(codes).toEqual([...Array(RATE_LIMIT).fill(['UNAUTHENTICATED']), ['RATE_LIMITED']]);
    expect(errorCodes(await query(admin))).toEqual([]);
  });
});

describe('CSRF prevention', () => {
  it('refuses simple requests a browser may send cross-site without a preflight', async () => {
    const { server, admin } = await start();
    const url = `${server.url}/graphql`;
    const get = await fetch(`${url}?query=${encodeURIComponent('{ serverInfo { bundle } }')}`, { headers: admin.headers() });
    expect(get.status).toBe(400);
    const textPlain = await fetch(url, { method: 'POST', headers: admin.headers({ 'content-type': 'text/plain' }), body: '{"query":"mutation { createSubject(input: { name: \\"csrf\\" }) { id } }"}' });
    expect(textPlain.status).toBe(400);
    const form = new FormData();
    form.append('operations', JSON.stringify({ query: 'mutation { createSubject(input: { name: "csrf" }) { id } }' }));
    form.append('map', '{}');
    const multipart = await fetch(url, { method: 'POST', headers: admin.headers(), body: form });
    expect({ status: multipart.status, codes: errorCodes(await json(multipart)) }).toEqual({ status: 400, codes: ['BAD_REQUEST'] });
    expect(dataOf(await admin.query<{ subjects: { totalCount: number } }>('{ subjects { totalCount } }')).subjects.totalCount).toBe(0);
  });
});

describe('downloads', () => {
  it('reach only the photo and mesh files they name: no traversal, no other subject’s files, no unserved bundle', async () => {
    const { server, admin } = await start();
    const packageJson = readFileSync(join(findPackageRoot(), 'package.json'), 'utf8');
    const subject = dataOf(await admin.query<{ createSubject: { id: string } }>('mutation { createSubject(input: { name: "A" }) { id } }')).createSubject.id;
    const other = dataOf(await admin.query<{ createSubject: { id: string } }>('mutation { createSubject(input: { name: "B" }) { id } }')).createSubject.id;
    const jpeg = await sharp({ create: { width: 24, height: 24, channels: 3, background: '#336699' } }).jpeg().toBuffer();
    const photo = dataOf(
      await admin.upload<{ enrollPhotos: { photos: { id: string; sha256: string }[] } }>('mutation($s: ID!, $p: [Upload!]!) { enrollPhotos(subjectId: $s, photos: $p) { photos { id sha256 } } }', { s: subject, p: [null] }, { 'variables.p.0': { bytes: jpeg, name: 'a.jpg' } }),
    ).enrollPhotos.photos[0];
    expect((await admin.download(`${server.url}/photos/${photo.id}/original`)).status).toBe(200);

    const paths = [
      '/photos/..%2f..%2fpackage.json/original',
      '/photos/%2e%2e%2f%2e%2e%2fpackage.json/original',
      `/photos/${encodeURIComponent(join(findPackageRoot(), 'package.json'))}/original`,
      '/photos/..%5c..%5cpackage.json/original',
      `/photos/${photo.sha256}/original`,
      `/photos/${photo.sha256.slice(0, 2)}%2f${photo.sha256}/original`,
      '/photos/%00/original',
      `/meshes/subject/${subject}/..%2f..%2f..%2fpackage.json`,
      `/meshes/subject/..%2f..%2f${subject}/subject-..%2f..%2f${subject}.ply`,
      `/meshes/subject/${subject}/subject-${other}.ply`,
      `/meshes/subject/${subject}/subject-${subject}.ply%00.json`,
      `/meshes/subject/${subject}/subject-${subject}.ply?bundle=..%2f..%2fpackage.json`,
      `/meshes/..%2f..%2fpackage.json/x/y`,
      '/..%2f..%2fpackage.json',
      '/%2e%2e/%2e%2e/package.json',
    ];
    for (const path of paths) {
      const response = await admin.download(`${server.url}${path}`);
      const body = await response.text();
      expect({ path, refused: [400, 404, 409].includes(response.status) }).toEqual({ path, refused: true });
      expect(body.includes(packageJson.slice(0, 40))).toBe(false);
      expect(body.includes('"dependencies"')).toBe(false);
    }
  });
});

describe('production mode', () => {
  const INTROSPECTION = '{ __schema { queryType { name } } }';

  it('sends stack traces only when asked for (FACE3D_DEBUG=1 or NODE_ENV=development), not by default', async () => {
    const plain = (await start()).admin;
    expect(errorCodes(await plain.query(INTROSPECTION))).toEqual([]);
    const missing = await plain.query('mutation { deleteSubject(id: "missing") }');
    expect(errorCodes(missing)).toEqual(['NOT_FOUND']);
    expect(missing.errors?.[0].extensions?.stacktrace).toBeUndefined();
    for (const env of [{ FACE3D_DEBUG: '1' }, { NODE_ENV: 'development' }]) {
      const debugging = (await start(env)).admin;
      expect((await debugging.query('mutation { deleteSubject(id: "missing") }')).errors?.[0].extensions?.stacktrace).toEqual(expect.any(Array));
    }
  });

  it('NODE_ENV=production turns introspection off, and stack traces stay off', async () => {
    const production = (await start({ NODE_ENV: 'production' })).admin;
    expect(errorCodes(await production.query(INTROSPECTION))).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    for (const response of [
      await production.query('mutation { deleteSubject(id: "missing") }'),
      await production.query('{ subjects { '),
      await production.query('{ nope }'),
      await production.withKey('wrong').query('{ serverInfo { bundle } }'),
    ]) {
      expect(response.errors?.length).toBeGreaterThan(0);
      for (const error of response.errors ?? []) expect(error.extensions?.stacktrace).toBeUndefined();
    }
  });
});
