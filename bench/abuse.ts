/**
 * The attacks of issue 18, each sent once to a server in this process while /healthz is asked
 * every 20 ms: how long the request took, the longest /healthz wait (the event loop is shared, so
 * a request that blocks it delays /healthz by as long), the peak RSS growth and the answer.
 *   npm run build && npm run bench:abuse -- [--root <checkout>]
 * `--root`: another built checkout to measure instead (its dist/src/server.js), e.g. the commit
 * before the fixes, so that before and after are the same requests on the same machine.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { findPackageRoot, type Config, type Env } from '../src/core/config.js';
import type { RunningServer, ServerOptions } from '../src/server.js';

const { values: options } = parseArgs({ options: { root: { type: 'string', default: findPackageRoot() } } });
const KEY = 'bench-admin-key-0123456789abcdef';
const MB = 1e6;

interface Served {
  readonly startServer: (options: ServerOptions) => Promise<RunningServer>;
  readonly loadConfig: (env: Env) => Config;
}

interface Measure {
  readonly attack: string;
  readonly ms: number;
  readonly worstHealthzMs: number;
  readonly rssPeakGrowthMb: number;
  readonly answer: string;
}

async function measure(url: string, attack: string, send: () => Promise<Response>): Promise<Measure> {
  const rssBefore = process.memoryUsage().rss;
  let peak = rssBefore;
  let settled = false;
  const started = performance.now();
  const answering = send()
    .then(async (response) => `${response.status} ${(await response.text()).slice(0, 80)}`)
    .catch((error: unknown) => `failed: ${String(error).slice(0, 80)}`)
    .finally(() => (settled = true));
  let worst = 0;
  while (!settled) {
    const asked = performance.now();
    await fetch(`${url}/healthz`).catch(() => undefined);
    worst = Math.max(worst, performance.now() - asked);
    peak = Math.max(peak, process.memoryUsage().rss);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const answer = await answering;
  return { attack, ms: Math.round(performance.now() - started), worstHealthzMs: Math.round(worst), rssPeakGrowthMb: Math.round((peak - rssBefore) / MB), answer };
}

function attacks(url: string): [string, () => Promise<Response>][] {
  const json = (body: string) => fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` }, body });
  const upload = (map: Record<string, string[]>) => {
    const form = new FormData();
    form.append('operations', JSON.stringify({ query: 'mutation($s: ID!, $p: [Upload!]!) { enrollPhotos(subjectId: $s, photos: $p) { photos { id } } }', variables: { s: 'x', p: [null] } }));
    form.append('map', JSON.stringify(map));
    form.append('0', new Blob([Buffer.from('abc')]), 'a.jpg');
    return fetch(`${url}/graphql`, { method: 'POST', headers: { 'apollo-require-preflight': 'true' }, body: form });
  };
  const introspections = Array.from({ length: 1000 }, (_, i) => `s${i}: __schema { types { name fields { name args { name } } } }`).join(' ');
  return [
    ['multipart map variables.p.100000000, no key', () => upload({ 0: ['variables.p.100000000'] })],
    ['multipart map path of 20,000 segments, no key', () => upload({ 0: [`variables.${'q.'.repeat(20_000)}0`] })],
    ['1,000 aliased introspections, no key', () => fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: `{ ${introspections} }` }) })],
    ['variables nested 20,000 deep', () => json(`{"query":"mutation($m: JSON) { createSubject(input: { name: \\"d\\", metadata: $m }) { id } }","variables":{"m":${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}}}`)],
    ['brackets nested 2,000 deep', () => json(JSON.stringify({ query: `{ subjects(search: ${'['.repeat(2000)}"x"${']'.repeat(2000)}) { totalCount } }` }))],
    ['identify(photoId: "")', () => json(JSON.stringify({ query: '{ identify(photoId: "") { unknown } }' }))],
    ['deleteSubject(id: 100 KB)', () => json(JSON.stringify({ query: 'mutation($id: ID!) { deleteSubject(id: $id) }', variables: { id: 'x'.repeat(100_000) } }))],
    ['persisted-query hash mismatch', () => json(JSON.stringify({ query: '{ __typename }', extensions: { persistedQuery: { version: 1, sha256Hash: 'a'.repeat(64) } } }))],
    ['missing /assets file', () => fetch(`${url}/assets/missing.js`)],
  ];
}

const served = (await import(join(options.root, 'dist/src/server.js'))) as Pick<Served, 'startServer'>;
// Checkouts from before src/core/ have their config module directly in src/.
const configModule = ['dist/src/core/config.js', 'dist/src/config.js'].find((path) => existsSync(join(options.root, path))) ?? 'dist/src/core/config.js';
const { loadConfig } = (await import(join(options.root, configModule))) as Pick<Served, 'loadConfig'>;
const dir = mkdtempSync(join(tmpdir(), 'face3d-bench-abuse-'));
const server = await served.startServer({ config: loadConfig({ DATABASE_URL: `file:${join(dir, 'face3d.db')}`, HOST: '127.0.0.1', PORT: '0', FACE3D_ADMIN_KEY: KEY }), log: () => undefined });
try {
  console.log(`bench:abuse on ${options.root} (${cpus().length} × ${cpus()[0]?.model ?? 'CPU'})`);
  console.log('| attack | request ms | worst /healthz ms | RSS peak growth MB | answer |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const [attack, send] of attacks(server.url)) {
    const result = await measure(server.url, attack, send);
    console.log(`| ${result.attack} | ${result.ms} | ${result.worstHealthzMs} | ${result.rssPeakGrowthMb} | ${result.answer.replaceAll('|', '\\|').replaceAll('\n', ' ')} |`);
  }
} finally {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
}
