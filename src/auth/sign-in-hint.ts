/**
 * The start-up line that tells whoever started the server how a client gets in, without printing
 * a secret: FACE3D_ADMIN_KEY was chosen by them, and `face3d keys create` shows a new key once, to
 * whoever made it.
 */
import { DEFAULT_DATABASE_URL, type Config } from '../core/config.js';
import { databaseKind } from '../store/database.js';
import { databaseName } from '../store/database-name.js';
import type { ApiKeys } from './api-keys.js';

/** `face3d keys create` pointed at this server's gallery: a command to paste, where it can be one without a password. */
function keysCreateCommand(databaseUrl: string): string {
  if (databaseUrl === DEFAULT_DATABASE_URL) return '`npx face3d keys create --role admin` (in this folder)';
  if (databaseKind(databaseUrl) === 'sqlite') return `\`DATABASE_URL=${databaseName(databaseUrl)} npx face3d keys create --role admin\``;
  return "`npx face3d keys create --role admin` with this server's DATABASE_URL";
}

export async function signInHint(config: Pick<Config, 'adminKey' | 'databaseUrl'>, keys: ApiKeys, url: string): Promise<string> {
  const sendKey = `clients send "Authorization: Bearer <key>"; the viewer at ${url}/ signs in with a key`;
  if (config.adminKey) return `face3d: FACE3D_ADMIN_KEY is registered as an admin key: ${sendKey}`;
  const active = (await keys.list()).filter((key) => key.revokedAt === null).length;
  if (active > 0) return `face3d: ${active} API key(s) active (face3d keys list): ${sendKey}`;
  return `face3d: no API keys yet, so every request is refused: make an admin key with ${keysCreateCommand(config.databaseUrl)}, or start with FACE3D_ADMIN_KEY=$(openssl rand -hex 24)`;
}
