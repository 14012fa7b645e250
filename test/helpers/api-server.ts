/** A real face3d server in this process, on a temporary database (see database-backends.ts) and a free port. */
import { join } from 'node:path';
import { dataOf, type ApiClient } from '../../src/api/http-client.js';
import { loadConfig, type Config, type Env } from '../../src/core/config.js';
import type { FaceEncoder } from '../../src/inference/face-encoder.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { testDatabaseUrl } from './database-backends.js';

export const ADMIN_KEY = 'test-admin-key-0123456789abcdef';

export function testConfig(dir: string, env: Env = {}): Config {
  return loadConfig({ DATABASE_URL: testDatabaseUrl(dir), FACE3D_DATA_DIR: join(dir, 'photos'), HOST: '127.0.0.1', PORT: '0', FACE3D_ADMIN_KEY: ADMIN_KEY, ...env });
}

/** `encoder` is shared across restarts: opening the networks is the slow part of a start. */
export function startTestServer(dir: string, encoder: FaceEncoder, env: Env = {}): Promise<RunningServer> {
  return startServer({ config: testConfig(dir, env), encoder, log: () => undefined });
}

/** A new API key of `role`, made through the API by `admin` (shown once, as to any client). */
export async function createKeyThroughApi(admin: ApiClient, role: 'READ' | 'ENROLL' | 'ADMIN', label: string): Promise<string> {
  const mutation = 'mutation($role: ApiKeyRole!, $label: String!) { createApiKey(role: $role, label: $label) { key } }';
  return dataOf(await admin.query<{ createApiKey: { key: string } }>(mutation, { role, label })).createApiKey.key;
}
