/**
 * One request must never stall the service (issue 18). Each attack found by probing a local server
 * is sent to a real one while /healthz is polled: the attack gets a typed 4xx, /healthz answers
 * within a second all along, and the process's RSS grows by less than 200 MB. Then the same abuse
 * cases over HTTP and over graphql-ws, refused identically by both; one rate limit for both; and
 * a revoked key's open subscription, closed within seconds.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import WebSocket from 'ws';
import { ApiClient, dataOf, errorCodes, type GraphQLResponse } from '../../src/api/http-client.js';
import { KEY_RECHECK_MS } from '../../src/api/websocket.js';
import type { Env } from '../../src/core/config.js';
import { FaceEncoder } from '../../src/inference/face-encoder.js';
import type { RunningServer } from '../../src/server.js';
import { ADMIN_KEY, createKeyThroughApi, startTestServer } from '../helpers/api-server.js';

const MB = 1024 * 1024;
const HEALTHZ_MS = 1000;
const RSS_GROWTH = 200 * MB;
const MAX_UPLOAD_FILES = 3;
/** Past every limit, and enough to make an unbounded walk (or a recursion) fail the bounds above. */
const DEEP = 20_000;
const MESSAGE_BOUND = 1000;

const SUBSCRIBE = 'subscription($s: ID) { photoStatus(subjectId: $s) { id status } }';
const SUBSCRIBE_IDS = 'subscription($ids: [ID!]) { photoStatus(photoIds: $ids) { id } }';
const ENROLL = 'mutation($s: ID!, $p: [Upload!]!) { enrollPhotos(subjectId: $s, photos: $p) { photos { id url } } }';

let encoder: FaceEncoder;
const running: { server: RunningServer; dir: string }[] = [];
let jpeg: Buffer;

async function start(env: Env = {}): Promise<{ server: RunningServer; admin: ApiClient }> {
  const dir = mkdtempSync(join(tmpdir(), 'face3d-abuse-'));
  const server = await startTestServer(dir, encoder, { FACE3D_MAX_UPLOAD_FILES: String(MAX_UPLOAD_FILES), ...env });
  running.push({ server, dir });
  return { server, admin: new ApiClient(server.url, ADMIN_KEY) };
}

beforeAll(async () => {
  encoder = await FaceEncoder.open();
  jpeg = await sharp({ create: { width: 24, height: 24, channels: 3, background: '#336699' } }).jpeg().toBuffer();
});

afterAll(async () => {
  for (const { server, dir } of running) {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
  await encoder?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `attack` while /healthz is asked again and again: every answer within HEALTHZ_MS, RSS
 * grown by less than RSS_GROWTH at the end. The server runs in this process, so a request that
 * blocks its event loop delays the health check by as long.
 */
async function whileHealthy<T>(url: string, attack: () => Promise<T>): Promise<T> {
  const rssBefore = process.memoryUsage().rss;
  let settled = false;
  const attacking = attack().finally(() => {
    settled = true;
  });
  const waits: number[] = [];
  do {
    const asked = performance.now();
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    waits.push(performance.now() - asked);
    if (!settled) await sleep(20);
  } while (!settled);
  const result = await attacking;
  expect(Math.max(...waits)).toBeLessThan(HEALTHZ_MS);
  expect(process.memoryUsage().rss - rssBefore).toBeLessThan(RSS_GROWTH);
  return result;
}

async function postRaw(url: string, body: string, key: string | undefined = ADMIN_KEY): Promise<GraphQLResponse> {
  const response = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) }, body });
  return { status: response.status, ...((await response.json()) as object) };
}

function multipart(operations: unknown, map: Record<string, string[]>, files: number): FormData {
  const form = new FormData();
  form.append('operations', JSON.stringify(operations));
  form.append('map', JSON.stringify(map));
  for (let i = 0; i < files; i++) form.append(String(i), new Blob([jpeg], { type: 'image/jpeg' }), `${i}.jpg`);
  return form;
}

async function postMultipart(url: string, form: FormData, key?: string): Promise<GraphQLResponse> {
  const response = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'apollo-require-preflight': 'true', ...(key ? { authorization: `Bearer ${key}` } : {}) }, body: form });
  return { status: response.status, ...((await response.json()) as object) };
}

const aliases = (count: number, field: string) => Array.from({ length: count }, (_, i) => `a${i}: ${field}`).join(' ');

/** `{"a":{"a":…1…}}` as text: JSON.stringify itself recurses too deep for such a value. */
const deepObject = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
const deepList = (depth: number) => `${'['.repeat(depth)}"x"${']'.repeat(depth)}`;

function expectRefused(response: GraphQLResponse, status: number, code: string): void {
  expect({ status: response.status, codes: errorCodes(response) }).toEqual({ status, codes: [code] });
  for (const error of response.errors ?? []) expect(error.message.length).toBeLessThan(MESSAGE_BOUND);
}

async function createSubject(admin: ApiClient, name: string, externalId?: string): Promise<GraphQLResponse<{ createSubject: { id: string } }>> {
  return admin.query('mutation($n: String!, $e: String) { createSubject(input: { name: $n, externalId: $e }) { id } }', { n: name, e: externalId });
}

async function enrollPhoto(admin: ApiClient, subjectId: string): Promise<{ id: string; url: string }> {
  const response = await admin.upload<{ enrollPhotos: { photos: { id: string; url: string }[] } }>(ENROLL, { s: subjectId, p: [null] }, { 'variables.p.0': { bytes: jpeg, name: 'a.jpg' } });
  return dataOf(response).enrollPhotos.photos[0];
}

// --- graphql-ws, by hand, so that a message can be any text ----------------------------------

interface WsOutcome {
  readonly errors?: readonly { message: string; extensions?: { code?: string } }[];
  readonly data?: unknown;
  readonly closed?: { code: number; reason: string };
}

class RawGraphqlWs {
  private readonly messages: unknown[] = [];
  private waiting: (() => void) | undefined;
  closed: { code: number; reason: string } | undefined;

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data) => {
      this.messages.push(JSON.parse(String(data)));
      this.waiting?.();
    });
    socket.on('close', (code, reason) => {
      this.closed = { code, reason: String(reason) };
      this.waiting?.();
    });
  }

  /** After the handshake: acknowledged, or closed (see `closed`). */
  static async open(url: string, key: string): Promise<RawGraphqlWs> {
    const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    const client = new RawGraphqlWs(socket);
    socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${key}` } }));
    const ack = (await client.next()) as { type?: string } | undefined;
    if (ack) expect(ack.type).toBe('connection_ack');
    return client;
  }

  static async connect(url: string, key: string): Promise<RawGraphqlWs> {
    const client = await RawGraphqlWs.open(url, key);
    expect(client.closed).toBeUndefined();
    return client;
  }

  /** The next message, or undefined once closed; fails after a while rather than waiting for ever. */
  async next(): Promise<unknown> {
    const giveUp = Date.now() + 20_000;
    while (this.messages.length === 0 && !this.closed) {
      if (Date.now() > giveUp) throw new Error('no message from the server in 20 s');
      await new Promise<void>((resolve) => {
        this.waiting = resolve;
        setTimeout(resolve, 500);
      });
    }
    return this.messages.shift();
  }

  /** Sends a subscribe message whose payload is `payloadJson` as it is. */
  subscribe(id: string, payloadJson: string): void {
    this.socket.send(`{"id":${JSON.stringify(id)},"type":"subscribe","payload":${payloadJson}}`);
  }

  /** What the server answered the subscription: its first result, its errors, or the close. */
  async outcome(): Promise<WsOutcome> {
    const message = (await this.next()) as { type: string; payload: unknown } | undefined;
    if (!message) return { closed: this.closed };
    if (message.type === 'error') return { errors: message.payload as WsOutcome['errors'] };
    if (message.type === 'next') return message.payload as WsOutcome;
    return { closed: this.closed };
  }

  close(): void {
    this.socket.close();
  }
}

async function overWebSocket(url: string, payloadJson: string, key = ADMIN_KEY): Promise<WsOutcome> {
  const client = await RawGraphqlWs.connect(url, key);
  try {
    client.subscribe('1', payloadJson);
    return await client.outcome();
  } finally {
    client.close();
  }
}

const wsCodes = (outcome: WsOutcome) => (outcome.errors ?? []).map((error) => error.extensions?.code);

// --- the findings, one by one ------------------------------------------------------------------

describe('each attack is refused at once, with a typed 4xx, while /healthz answers', () => {
  let dev: { server: RunningServer; admin: ApiClient };

  beforeAll(async () => {
    dev = await start();
  });

  it('multipart map paths past their list (variables.p.100000000), 20,000 segments deep, or too many: 400 before they are followed, no key needed', async () => {
    const url = dev.server.url;
    const operations = { query: ENROLL, variables: { s: 'x', p: [null] } };
    const refuse = async (map: Record<string, string[]>, status = 400, code = 'BAD_REQUEST') => expectRefused(await whileHealthy(url, () => postMultipart(url, multipart(operations, map, 1))), status, code);
    await refuse({ 0: ['variables.p.100000000'] });
    await refuse({ 0: [`variables.${'q.'.repeat(DEEP)}0`] });
    // Not a place for a file: a variable that holds a value.
    await refuse({ 0: ['variables.s'] });
    // One file at more paths than FACE3D_MAX_UPLOAD_FILES.
    await refuse({ 0: Array.from({ length: MAX_UPLOAD_FILES + 1 }, () => 'variables.p.0') }, 413, 'BAD_USER_INPUT');
    // The places the spec gives are taken: the null in the list, and one past its end.
    const subjectId = dataOf(await createSubject(dev.admin, 'Map')).createSubject.id;
    const response = await postMultipart(url, multipart({ query: ENROLL, variables: { s: subjectId, p: [null] } }, { 0: ['variables.p.0'], 1: ['variables.p.1'] }, 2), ADMIN_KEY);
    expect(dataOf(response as GraphQLResponse<{ enrollPhotos: { photos: unknown[] } }>).enrollPhotos.photos).toHaveLength(2);
  });

  it('500 aliases of identify on one upload, and verify or mesh aliases: over the cost limit (read key)', async () => {
    const reader = dev.admin.withKey(await createKeyThroughApi(dev.admin, 'READ', 'abuse reader'));
    const identify = { query: `query($f: Upload) { ${aliases(500, 'identify(image: $f) { unknown }')} }`, variables: { f: null } };
    const response = await whileHealthy(dev.server.url, () => postMultipart(dev.server.url, multipart(identify, { 0: ['variables.f'] }, 1), reader.key));
    expectRefused(response, 400, 'GRAPHQL_VALIDATION_FAILED');
    expect(response.errors?.[0].message).toMatch(/query cost \d+ is over the limit of 5000/);
    expectRefused(await reader.query(`{ ${aliases(3, 'verify(a: { photoId: "p" }, b: { photoId: "q" }) { match }')} }`), 400, 'GRAPHQL_VALIDATION_FAILED');
    expectRefused(await reader.query(`{ subject(id: "s") { ${aliases(30, 'mesh(format: OBJ) { bytes }')} } }`), 400, 'GRAPHQL_VALIDATION_FAILED');
    // 2,400 of them, as found: more tokens than a document may hold.
    const meshes = await whileHealthy(dev.server.url, () => reader.query(`{ ${aliases(2400, 'subject(id: "s") { mesh(format: OBJ) { bytes } }')} }`));
    expectRefused(meshes, 400, 'GRAPHQL_PARSE_FAILED');
  });

  it('introspection is costed: 5,000 copies and 200 copies are refused, one is answered (development)', async () => {
    const copy = '__schema { types { name fields { name } } }';
    const flood = await whileHealthy(dev.server.url, () => postRaw(dev.server.url, JSON.stringify({ query: `{ ${aliases(5000, copy)} }` }), undefined));
    expectRefused(flood, 400, 'GRAPHQL_PARSE_FAILED');
    expectRefused(await postRaw(dev.server.url, JSON.stringify({ query: `{ ${aliases(200, copy)} }` }), undefined), 400, 'GRAPHQL_VALIDATION_FAILED');
    expect(errorCodes(await dev.admin.query(`{ ${copy} }`))).toEqual([]);
  });

  it(`${DEEP}-deep variables: BAD_USER_INPUT, not a stack overflow`, async () => {
    const body = `{"query":"mutation($m: JSON) { createSubject(input: { name: \\"deep\\", metadata: $m }) { id } }","variables":{"m":${deepObject(DEEP)}}}`;
    expectRefused(await whileHealthy(dev.server.url, () => postRaw(dev.server.url, body)), 400, 'BAD_USER_INPUT');
  });

  it('search: 60,000 characters are BAD_USER_INPUT', async () => {
    const response = await whileHealthy(dev.server.url, () => dev.admin.query('query($s: String) { subjects(search: $s) { totalCount } }', { s: 'a'.repeat(60_000) }));
    expectRefused(response, 200, 'BAD_USER_INPUT');
  });

  it('empty and 100 KB ids are BAD_USER_INPUT, and no message echoes the id', async () => {
    expectRefused(await dev.admin.query('{ identify(photoId: "") { unknown } }'), 400, 'BAD_USER_INPUT');
    expectRefused(await dev.admin.query('query($id: ID!) { subject(id: $id) { id } }', { id: ' ' }), 400, 'BAD_USER_INPUT');
    const long = 'x'.repeat(100_000);
    for (const query of ['query($id: ID!) { subject(id: $id) { id } }', 'mutation($id: ID!) { deleteSubject(id: $id) }', 'query($id: ID!) { verify(a: { photoId: $id }, b: { subjectId: "s" }) { match } }']) {
      const response = await dev.admin.query(query, { id: long });
      expectRefused(response, 400, 'BAD_USER_INPUT');
      expect(JSON.stringify(response)).not.toContain('x'.repeat(200));
    }
    const download = await dev.admin.download(`${dev.server.url}/photos/${'x'.repeat(8000)}/original`);
    expect(download.status).toBe(404);
    expect((await download.text()).length).toBeLessThan(MESSAGE_BOUND);
  });

  it('a missing static asset is 404 NOT_FOUND, naming no path of the server', async () => {
    const response = await fetch(`${dev.server.url}/assets/missing-0000.js`);
    expect(response.status).toBe(404);
    const body = await response.text();
    expect(body).not.toContain('/dist/');
    expect(JSON.parse(body).errors[0].extensions.code).toBe('NOT_FOUND');
  });

  it('a persisted-query hash that does not match its query is a 4xx with a client code', async () => {
    const response = await postRaw(dev.server.url, JSON.stringify({ query: '{ __typename }', extensions: { persistedQuery: { version: 1, sha256Hash: 'a'.repeat(64) } } }));
    expectRefused(response, 400, 'PERSISTED_QUERY_NOT_SUPPORTED');
  });

  it('search: `%` and `_` are LIKE patterns, as documented; a backslash is itself', async () => {
    const id = dataOf(await createSubject(dev.admin, 'Pat_tern 100% a\\b')).createSubject.id;
    const found = async (search: string) =>
      dataOf(await dev.admin.query<{ subjects: { edges: { node: { id: string } }[] } }>('query($s: String) { subjects(search: $s) { edges { node { id } } } }', { s: search })).subjects.edges.map((edge) => edge.node.id);
    for (const search of ['Pat_tern', 'Pat%100', 'P_t', '100%', 'a\\b']) expect({ search, found: await found(search) }).toEqual({ search, found: [id] });
    expect(await found('Pat__tern')).toEqual([]);
    expect(await found('ab')).toEqual([]);
  });

  it('the NFC and NFD forms of one externalId are one subject; search finds either', async () => {
    const nfc = 'Jos\u00e9-0001';
    const nfd = 'Jose\u0301-0001';
    const created = dataOf(await createSubject(dev.admin, 'Zo\u00eb Nfc', nfc)).createSubject.id;
    expect(errorCodes(await createSubject(dev.admin, 'Zoe\u0308 Nfc', nfd))).toEqual(['CONFLICT']);
    for (const search of [nfd, 'Zoe\u0308 N']) {
      const found = dataOf(await dev.admin.query<{ subjects: { edges: { node: { id: string; name: string } }[] } }>('query($s: String) { subjects(search: $s) { edges { node { id name } } } }', { s: search }));
      expect(found.subjects.edges.map((edge) => edge.node)).toEqual([{ id: created, name: 'Zo\u00eb Nfc' }]);
    }
  });

  it('photo URLs never carry a Host header that is not a plain host[:port]', async () => {
    const subjectId = dataOf(await createSubject(dev.admin, 'Host')).createSubject.id;
    await enrollPhoto(dev.admin, subjectId);
    const { port } = new URL(dev.server.url);
    const body = JSON.stringify({ query: 'query($id: ID!) { subject(id: $id) { photos { edges { node { url } } } } }', variables: { id: subjectId } });
    const urlWithHost = (host: string) =>
      new Promise<string>((resolve, reject) => {
        const request = httpRequest({ host: '127.0.0.1', port, path: '/graphql', method: 'POST', headers: { host, 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` } }, (response) => {
          let text = '';
          response.on('data', (chunk) => (text += chunk));
          response.on('end', () => resolve((JSON.parse(text) as { data: { subject: { photos: { edges: { node: { url: string } }[] } } } }).data.subject.photos.edges[0].node.url));
        });
        request.on('error', reject);
        request.end(body);
      });
    expect(await urlWithHost('faces.example.com:8443')).toMatch(/^http:\/\/faces\.example\.com:8443\/photos\//);
    for (const host of ['evil.example/x?y=', 'evil.example@other.example', 'a b']) {
      expect(await urlWithHost(host)).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${port}/photos/[^/]+/original$`));
    }
  });

  it('FACE3D_PUBLIC_URL is the base of every photo URL, whatever the Host header', async () => {
    const { admin } = await start({ FACE3D_PUBLIC_URL: 'https://faces.example.com/face3d/' });
    const subjectId = dataOf(await createSubject(admin, 'Public')).createSubject.id;
    expect((await enrollPhoto(admin, subjectId)).url).toMatch(/^https:\/\/faces\.example\.com\/face3d\/photos\/[^/]+\/original$/);
  });
});

describe('production', () => {
  let prod: { server: RunningServer; admin: ApiClient };

  beforeAll(async () => {
    prod = await start({ NODE_ENV: 'production' });
  });

  it('serves no landing page and no script from elsewhere at /graphql (development serves Apollo Sandbox)', async () => {
    const page = async (url: string) => (await fetch(`${url}/graphql`, { headers: { accept: 'text/html' } })).text();
    expect(await page(prod.server.url)).not.toMatch(/<script|<html/i);
    const policy = (await fetch(`${prod.server.url}/graphql`)).headers.get('content-security-policy');
    expect(policy).toContain("script-src 'self'");
    expect(policy).toContain("default-src 'self'");
    expect(await page((await start()).server.url)).toMatch(/<script[^>]+src="https:/i);
  });

  it('names no field in "Did you mean" hints (development still does)', async () => {
    const response = await prod.admin.query('{ subjectz { totalCount } }');
    expect(errorCodes(response)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(response.errors?.[0].message).not.toMatch(/Did you mean|subjects/);
    const { admin } = await start();
    expect((await admin.query('{ subjectz { totalCount } }')).errors?.[0].message).toMatch(/Did you mean .*"subjects"/);
  });
});

// --- one set of rules for HTTP and WebSocket ---------------------------------------------------

interface SharedCase {
  readonly name: string;
  /** The JSON of a GraphQL request (query, variables), sent as it is over both transports. */
  readonly payload: string;
  readonly code: string;
}

const payload = (query: string, variables: string = '{}') => `{"query":${JSON.stringify(query)},"variables":${variables}}`;

const SHARED_CASES: readonly SharedCase[] = [
  { name: 'introspection, off in production', payload: payload('{ __schema { types { name } } }'), code: 'GRAPHQL_VALIDATION_FAILED' },
  { name: 'a misspelt field (no hint)', payload: payload('subscription { photoStatus { idd } }'), code: 'GRAPHQL_VALIDATION_FAILED' },
  { name: 'U+0000 in a variable', payload: payload(SUBSCRIBE, '{"s":"a\\u0000b"}'), code: 'BAD_USER_INPUT' },
  { name: 'U+0000 in the document', payload: payload('subscription { photoStatus(subjectId: "a\\u0000b") { id } }'), code: 'BAD_USER_INPUT' },
  { name: `${DEEP}-deep variables`, payload: payload(SUBSCRIBE_IDS, `{"ids":${deepList(DEEP)}}`), code: 'BAD_USER_INPUT' },
  { name: 'an empty id', payload: payload(SUBSCRIBE, '{"s":""}'), code: 'BAD_USER_INPUT' },
  { name: 'a 100 KB id', payload: payload(SUBSCRIBE, `{"s":"${'x'.repeat(100_000)}"}`), code: 'BAD_USER_INPUT' },
  { name: 'mesh aliases over the cost limit', payload: payload(`subscription { photoStatus { subject { ${aliases(30, 'mesh(format: OBJ) { bytes }')} } } }`), code: 'GRAPHQL_VALIDATION_FAILED' },
  { name: 'deeper than FACE3D_MAX_QUERY_DEPTH', payload: payload(`subscription { photoStatus { ${'face { photo { '.repeat(7)}id${' } }'.repeat(7)} } }`), code: 'GRAPHQL_VALIDATION_FAILED' },
  { name: 'brackets nested 2,000 deep (graphql-js parses by recursion)', payload: payload(`subscription { photoStatus(photoIds: ${'['.repeat(2000)}"x"${']'.repeat(2000)}) { id } }`), code: 'GRAPHQL_PARSE_FAILED' },
  { name: 'selections nested 1,000 deep', payload: payload(`subscription { photoStatus { ${'face { photo { '.repeat(500)}id${' } }'.repeat(500)} } }`), code: 'GRAPHQL_PARSE_FAILED' },
  { name: 'more tokens than a document may hold', payload: payload(`subscription { photoStatus { ${aliases(6000, 'id')} } }`), code: 'GRAPHQL_PARSE_FAILED' },
];

describe('HTTP and WebSocket refuse the same abuse the same way (production)', () => {
  let prod: { server: RunningServer; admin: ApiClient };

  beforeAll(async () => {
    prod = await start({ NODE_ENV: 'production' });
  });

  it.each(SHARED_CASES.map((testCase) => [testCase.name, testCase] as const))('%s', async (_name, testCase) => {
    const url = prod.server.url;
    const overHttp = await whileHealthy(url, () => postRaw(url, testCase.payload));
    const overWs = await whileHealthy(url, () => overWebSocket(url, testCase.payload));
    expect({ http: errorCodes(overHttp), ws: wsCodes(overWs) }).toEqual({ http: [testCase.code], ws: [testCase.code] });
    expect(overHttp.status).toBe(400);
    for (const error of [...(overHttp.errors ?? []), ...(overWs.errors ?? [])]) {
      expect(error.message.length).toBeLessThan(MESSAGE_BOUND);
      expect(error.message).not.toMatch(/Did you mean/);
    }
  });

  it('WebSocket serves subscriptions only: a mutation sent there is refused and writes nothing', async () => {
    const url = prod.server.url;
    const outcome = await overWebSocket(url, payload('mutation { createSubject(input: { name: "over ws" }) { id } }'));
    expect(wsCodes(outcome)).toEqual(['BAD_REQUEST']);
    expect(wsCodes(await overWebSocket(url, payload('{ subjects { totalCount } }')))).toEqual(['BAD_REQUEST']);
    expect(dataOf(await prod.admin.query<{ subjects: { totalCount: number } }>('{ subjects { totalCount } }')).subjects.totalCount).toBe(0);
  });

  it('a well-formed subscription is served over WebSocket', async () => {
    const url = prod.server.url;
    const subjectId = dataOf(await createSubject(prod.admin, 'Watched')).createSubject.id;
    const client = await RawGraphqlWs.connect(url, ADMIN_KEY);
    try {
      client.subscribe('1', payload(SUBSCRIBE, JSON.stringify({ s: subjectId })));
      await sleep(200);
      await enrollPhoto(prod.admin, subjectId);
      const outcome = await client.outcome();
      expect(outcome.errors).toBeUndefined();
      expect(outcome.data).toEqual({ photoStatus: { id: expect.any(String), status: 'PENDING' } });
    } finally {
      client.close();
    }
  });
});

describe('one rate limit and one key check for both transports', () => {
  it('WebSocket connections and subscribe messages take tokens from the key’s bucket, which HTTP requests share', async () => {
    const limit = 5;
    const { server, admin } = await start({ FACE3D_RATE_LIMIT: String(limit) });
    for (let i = 0; i < limit - 2; i++) expect(errorCodes(await admin.query('{ serverInfo { bundle } }'))).toEqual([]);
    const client = await RawGraphqlWs.connect(server.url, ADMIN_KEY);
    try {
      client.subscribe('1', payload(SUBSCRIBE));
      client.subscribe('2', payload(SUBSCRIBE));
      expect(wsCodes(await client.outcome())).toEqual(['RATE_LIMITED']);
    } finally {
      client.close();
    }
    expect(errorCodes(await admin.query('{ serverInfo { bundle } }'))).toEqual(['RATE_LIMITED']);
    const refused = await RawGraphqlWs.open(server.url, ADMIN_KEY);
    expect(refused.closed).toEqual({ code: 4429, reason: expect.stringMatching(/^Too many requests: over the limit of 5 requests per minute/) });
  });

  it('a revoked key’s open subscription is closed within seconds', async () => {
    const { server, admin } = await start();
    const created = dataOf(await admin.query<{ createApiKey: { key: string; apiKey: { id: string } } }>('mutation { createApiKey(role: READ, label: "revoked") { key apiKey { id } } }')).createApiKey;
    const subjectId = dataOf(await createSubject(admin, 'Revoked')).createSubject.id;
    const client = await RawGraphqlWs.connect(server.url, created.key);
    client.subscribe('1', payload(SUBSCRIBE, JSON.stringify({ s: subjectId })));
    await sleep(200);
    await enrollPhoto(admin, subjectId);
    expect((await client.outcome()).data).toEqual({ photoStatus: { id: expect.any(String), status: 'PENDING' } });

    const revokedAt = performance.now();
    expect(dataOf(await admin.query<{ revokeApiKey: boolean }>('mutation($id: ID!) { revokeApiKey(id: $id) }', { id: created.apiKey.id })).revokeApiKey).toBe(true);
    while (!client.closed) await client.next();
    expect(client.closed).toEqual({ code: 4403, reason: expect.stringMatching(/revoked/) });
    expect(performance.now() - revokedAt).toBeLessThan(KEY_RECHECK_MS + 2000);
  });
});
