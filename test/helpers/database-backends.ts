/**
 * Which database the integration suites run on: FACE3D_TEST_DATABASE = sqlite (default),
 * pglite (PostgreSQL in WebAssembly with pgvector, in the test process) or postgres (a real
 * server: FACE3D_TEST_POSTGRES_URL, e.g. the one .ci/run starts; every test directory gets a
 * database of its own, created on first open).
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';

export type TestBackend = 'sqlite' | 'pglite' | 'postgres';

export function testBackend(): TestBackend {
  const backend = process.env.FACE3D_TEST_DATABASE ?? 'sqlite';
  if (backend !== 'sqlite' && backend !== 'pglite' && backend !== 'postgres') throw new Error(`FACE3D_TEST_DATABASE must be sqlite, pglite or postgres, got "${backend}"`);
  return backend;
}

/** The database of the test files under `dir` (a fresh one for a fresh directory; the same one for the same directory). */
export function testDatabaseUrl(dir: string, backend: TestBackend = testBackend()): string {
  if (backend === 'sqlite') return `file:${join(dir, 'face3d.db')}`;
  if (backend === 'pglite') return `pglite:${join(dir, 'pgdata')}`;
  const server = process.env.FACE3D_TEST_POSTGRES_URL;
  if (!server) throw new Error('FACE3D_TEST_DATABASE=postgres needs FACE3D_TEST_POSTGRES_URL (postgres://user@127.0.0.1:port/): see .ci/run');
  const url = new URL(server);
  // Named after the directory, so a restarted server finds the same database.
  url.pathname = `/face3d_test_${createHash('sha256').update(dir).digest('hex').slice(0, 16)}`;
  return url.toString();
}
