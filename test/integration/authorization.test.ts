/**
 * Who may do what, against a real server: every root field of the schema (queries, mutations,
 * subscriptions) and every download route, called with no key, a revoked key and a key of each
 * role. The list of operations comes from the schema and the router, so a new field or route
 * without a row here fails the test. Also: keys are stored only as salted hashes.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { isObjectType } from 'graphql';
import { createClient } from 'graphql-ws';
import sharp from 'sharp';
import WebSocket from 'ws';
import type { ApiServices } from '../../src/api/context.js';
import { downloadRoutes } from '../../src/api/downloads.js';
import { ApiClient, dataOf, errorCodes, type GraphQLResponse } from '../../src/api/http-client.js';
import { buildSchema } from '../../src/api/schema.js';
import { hashKey } from '../../src/auth/api-keys.js';
import { FaceEncoder } from '../../src/inference/face-encoder.js';
import type { RunningServer } from '../../src/server.js';
import type { ApiKeyRole } from '../../src/store/enums.js';
import { ADMIN_KEY, startTestServer } from '../helpers/api-server.js';
import { testDatabaseUrl } from '../helpers/database-backends.js';

type CallerName = 'no key' | 'revoked key' | ApiKeyRole;
const CALLERS: readonly CallerName[] = ['no key', 'revoked key', 'read', 'enroll', 'admin'];
const RANK: Readonly<Record<ApiKeyRole, number>> = { read: 1, enroll: 2, admin: 3 };

/** What a caller gets: let through (whatever the operation then answers), or refused with a code. */
type Verdict = 'allowed' | 'UNAUTHENTICATED' | 'FORBIDDEN';
/** Anything else that happened, such as a subscription closed for another reason. */
type Unexpected = `unexpected: ${string}`;

interface Ids {
  readonly subjectId: string;
  readonly photoId: string;
}

interface Operation {
  /** The least role that may call it. */
  readonly needs: ApiKeyRole;
  /** Calls the operation as `client` and tells what happened. */
  call(client: ApiClient, ids: Ids): Promise<Verdict | Unexpected>;
}

function verdictOf(response: GraphQLResponse<unknown>): Verdict {
  const codes = errorCodes(response);
  if (codes.includes('UNAUTHENTICATED')) return 'UNAUTHENTICATED';
  if (codes.includes('FORBIDDEN')) return 'FORBIDDEN';
  return 'allowed';
}

function graphql(needs: ApiKeyRole, document: string, variables: (ids: Ids) => Record<string, unknown> = () => ({})): Operation {
  return { needs, call: async (client, ids) => verdictOf(await client.query(document, variables(ids))) };
}

function httpVerdict(status: number): Verdict {
  return status === 401 ? 'UNAUTHENTICATED' : status === 403 ? 'FORBIDDEN' : 'allowed';
}

function download(path: (ids: Ids) => string): Operation {
  return {
    needs: 'read',
    call: async (client, ids) => {
      const { status } = await client.download(`${client.url}${path(ids)}`);
      return httpVerdict(status);
    },
  };
}

let tinyJpeg: Buffer;

/** The matrix: one row per root field and download route. */
const OPERATIONS: Readonly<Record<string, Operation>> = {
  'Query.serverInfo': graphql('read', '{ serverInfo { bundle } }'),
  'Query.subject': graphql('read', 'query($id: ID!) { subject(id: $id) { id } }', (ids) => ({ id: ids.subjectId })),
  'Query.subjects': graphql('read', '{ subjects { totalCount } }'),
  'Query.photo': graphql('read', 'query($id: ID!) { photo(id: $id) { id } }', (ids) => ({ id: ids.photoId })),
  'Query.face': graphql('read', '{ face(id: "missing") { id } }'),
  'Query.identify': graphql('read', 'query($id: ID) { identify(photoId: $id) { unknown } }', (ids) => ({ id: ids.photoId })),
  'Query.verify': graphql('read', 'query($id: ID) { verify(a: { photoId: $id }, b: { photoId: $id }) { match } }', (ids) => ({ id: ids.photoId })),
  'Query.apiKeys': graphql('admin', '{ apiKeys { id } }'),
  'Mutation.createSubject': graphql('enroll', 'mutation { createSubject(input: { name: "made by the matrix" }) { id } }'),
  'Mutation.updateSubject': graphql('enroll', 'mutation($id: ID!) { updateSubject(id: $id, input: { name: "renamed" }) { id } }', (ids) => ({ id: ids.subjectId })),
  'Mutation.deleteSubject': graphql('admin', 'mutation { deleteSubject(id: "missing") }'),
  'Mutation.deletePhoto': graphql('admin', 'mutation { deletePhoto(id: "missing") }'),
  'Mutation.enrollPhotos': {
    needs: 'enroll',
    call: async (client) =>
      verdictOf(
        await client.upload('mutation($photos: [Upload!]!) { enrollPhotos(subjectId: "missing", photos: $photos) { photos { id } } }', { photos: [null] }, { 'variables.photos.0': { bytes: tinyJpeg, name: 'a.jpg' } }),
      ),
  },
  'Mutation.createApiKey': graphql('admin', 'mutation { createApiKey(role: READ, label: "made by the matrix") { key } }'),
  'Mutation.revokeApiKey': graphql('admin', 'mutation { revokeApiKey(id: "missing") }'),
  'Subscription.photoStatus': { needs: 'read', call: (client, ids) => subscriptionVerdict(client, ids) },
  'GET /photos/:id/original': download((ids) => `/photos/${ids.photoId}/original`),
  'GET /meshes/:kind/:id/:file': download((ids) => `/meshes/subject/${ids.subjectId}/subject-${ids.subjectId}.ply`),
  // A faceless 16×16 JPEG: an allowed caller gets NO_FACE, past the key check.
  'POST /meshes/probe.:extension': {
    needs: 'read',
    call: async (client) => {
      const { status } = await fetch(`${client.url}/meshes/probe.glb`, { method: 'POST', headers: client.headers({ 'content-type': 'image/jpeg' }), body: tinyJpeg });
      return httpVerdict(status);
    },
  },
};

function expectedVerdict(caller: CallerName, needs: ApiKeyRole): Verdict {
  if (caller === 'no key' || caller === 'revoked key') return 'UNAUTHENTICATED';
  return RANK[caller] >= RANK[needs] ? 'allowed' : 'FORBIDDEN';
}

let dir: string;
let encoder: FaceEncoder;
let server: RunningServer;
let admin: ApiClient;
let ids: Ids;
const clients = new Map<CallerName, ApiClient>();
/** Plain keys this test created, to look for in the database. */
const createdKeys: string[] = [];
let photoBytesSeed = 0;

/**
 * Subscribes to the test subject's photo status, then enrolls a new photo of it: an allowed caller
 * receives the change; a refused one has its connection closed with 4403 (graphql-ws's Forbidden).
 */
async function subscriptionVerdict(client: ApiClient, { subjectId }: Ids): Promise<Verdict | Unexpected> {
  const ws = createClient({
    url: `${client.url.replace('http', 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: client.key ? { authorization: `Bearer ${client.key}` } : {},
    lazy: false,
    retryAttempts: 0,
    shouldRetry: () => false,
  });
  try {
    const closedVerdict = (event: unknown): Verdict | Unexpected => {
      const code = (event as { code?: number }).code;
      return code === 4403 ? 'UNAUTHENTICATED' : `unexpected: closed with ${code}`;
    };
    const outcome = new Promise<Verdict | Unexpected>((resolve) => {
      ws.on('closed', (event) => resolve(closedVerdict(event)));
      ws.subscribe(
        { query: 'subscription($s: ID) { photoStatus(subjectId: $s) { id status } }', variables: { s: subjectId } },
        {
          next: (message) => resolve(verdictOf({ status: 200, errors: message.errors as GraphQLResponse['errors'] })),
          error: (error) => resolve(Array.isArray(error) ? verdictOf({ status: 200, errors: error }) : closedVerdict(error)),
          complete: () => undefined,
        },
      );
    });
    ws.on('connected', () => {
      void newPhoto(subjectId);
    });
    return await outcome;
  } finally {
    await ws.dispose();
  }
}

async function newPhoto(subjectId: string): Promise<string> {
  const bytes = await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: photoBytesSeed++ % 256, g: 90, b: 160 } } }).jpeg().toBuffer();
  const enrolled = await admin.upload<{ enrollPhotos: { photos: { id: string }[] } }>(
    'mutation($s: ID!, $photos: [Upload!]!) { enrollPhotos(subjectId: $s, photos: $photos) { photos { id } } }',
    { s: subjectId, photos: [null] },
    { 'variables.photos.0': { bytes, name: 'p.jpg' } },
  );
  return dataOf(enrolled).enrollPhotos.photos[0].id;
}

async function createKey(role: 'READ' | 'ENROLL' | 'ADMIN'): Promise<{ key: string; id: string }> {
  const created = dataOf(
    await admin.query<{ createApiKey: { key: string; apiKey: { id: string } } }>('mutation($role: ApiKeyRole!) { createApiKey(role: $role, label: "matrix") { key apiKey { id } } }', { role }),
  ).createApiKey;
  createdKeys.push(created.key);
  return { key: created.key, id: created.apiKey.id };
}

/** Route paths of the download router, as `GET /photos/:id/original`. */
function downloadRoutePaths(): string[] {
  const router = downloadRoutes({} as ApiServices, () => undefined);
  return router.stack.flatMap((layer) => {
    const route = layer.route as { path: string; methods?: Record<string, boolean> } | undefined;
    if (!route) return [];
    return Object.keys(route.methods ?? {}).map((method) => `${method.toUpperCase()} ${route.path}`);
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'face3d-authorization-'));
  encoder = await FaceEncoder.open();
  // SQLite whatever FACE3D_TEST_DATABASE says: the key test reads the database file directly.
  server = await startTestServer(dir, encoder, { DATABASE_URL: testDatabaseUrl(dir, 'sqlite') });
  admin = new ApiClient(server.url, ADMIN_KEY);
  tinyJpeg = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#808080' } }).jpeg().toBuffer();
  const revoked = await createKey('ADMIN');
  dataOf(await admin.query('mutation($id: ID!) { revokeApiKey(id: $id) }', { id: revoked.id }));
  clients.set('no key', admin.withKey(undefined));
  clients.set('revoked key', admin.withKey(revoked.key));
  clients.set('read', admin.withKey((await createKey('READ')).key));
  clients.set('enroll', admin.withKey((await createKey('ENROLL')).key));
  clients.set('admin', admin.withKey((await createKey('ADMIN')).key));
  const subjectId = dataOf(await admin.query<{ createSubject: { id: string } }>('mutation { createSubject(input: { name: "Guarded" }) { id } }')).createSubject.id;
  ids = { subjectId, photoId: await newPhoto(subjectId) };
});

afterAll(async () => {
  await server?.close();
  await encoder?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the authorisation matrix', () => {
  it('has a row for every query, mutation and subscription field and every download route', () => {
    const schema = buildSchema();
    const fields = [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]
      .filter(isObjectType)
      .flatMap((type) => Object.keys(type.getFields()).map((field) => `${type.name}.${field}`));
    expect(Object.keys(OPERATIONS).sort()).toEqual([...fields, ...downloadRoutePaths()].sort());
  });

  const rows = Object.entries(OPERATIONS).flatMap(([name, operation]) => CALLERS.map((caller) => [name, caller, expectedVerdict(caller, operation.needs)] as const));

  it.each(rows)('%s with %s: %s', async (name, caller, expected) => {
    expect(await OPERATIONS[name].call(clients.get(caller)!, ids)).toBe(expected);
  });

  it('treats a malformed Authorization header like no key', async () => {
    const response = await fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Basic ${ADMIN_KEY}` }, body: JSON.stringify({ query: '{ serverInfo { bundle } }' }) });
    expect(errorCodes({ status: response.status, ...((await response.json()) as object) })).toEqual(['UNAUTHENTICATED']);
  });
});

describe('stored API keys', () => {
  it('are salted SHA-256 hashes, never the key itself', () => {
    const db = new BetterSqlite3(join(dir, 'face3d.db'), { readonly: true });
    let rows: { id: string; salt: string; hash: string }[];
    try {
      rows = db.prepare('SELECT id, salt, hash FROM "ApiKey"').all() as typeof rows;
    } finally {
      db.close();
    }
    // The matrix's own createApiKey calls add keys whose plain text was not kept.
    expect(rows.length).toBeGreaterThan(createdKeys.length);
    expect(new Set(rows.map((row) => row.salt)).size).toBe(rows.length);
    for (const row of rows) expect(row.salt).toMatch(/^[0-9a-f]{32}$/);
    for (const key of [...createdKeys, ADMIN_KEY]) {
      const row = rows.find((candidate) => hashKey(key, candidate.salt) === candidate.hash);
      expect(row).toBeDefined();
      expect(row!.hash).not.toBe(createHash('sha256').update(key).digest('hex'));
    }
    const files = ['face3d.db', 'face3d.db-wal'].map((name) => {
      try {
        return readFileSync(join(dir, name)).toString('latin1');
      } catch {
        return '';
      }
    });
    for (const key of [...createdKeys, ADMIN_KEY]) for (const content of files) expect(content.includes(key)).toBe(false);
  });
});
