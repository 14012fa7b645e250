/**
 * Which gallery a command works on, said on stderr before it works. Without it, a command run in
 * another folder or without the server's DATABASE_URL works on another gallery (or a new, empty
 * one) without a word, and its keys or enrollments never reach the server.
 */
import { existsSync } from 'node:fs';
import { DEFAULT_DATABASE_URL } from '../core/config.js';
import { Face3dError } from '../core/errors.js';
import { databaseName, embeddedDatabasePath } from '../store/database-name.js';

/** False when an embedded gallery's file or folder is missing; undefined where only the server knows (PostgreSQL). */
function galleryExists(url: string): boolean | undefined {
  const place = embeddedDatabasePath(url);
  return place === undefined ? undefined : existsSync(place);
}

export interface AnnounceOptions {
  /** Whether the command may make a new, empty gallery (enrolling may; key management and reading may not). */
  readonly create: boolean;
}

/**
 * Writes `face3d: gallery <name>` to stderr, with "(new)" when the command is about to create it;
 * throws NOT_FOUND, with what to do, when it is missing and the command may not create it.
 */
export function announceGallery(url: string, options: AnnounceOptions): void {
  const name = databaseName(url);
  const exists = galleryExists(url);
  if (exists === false && !options.create) {
    const source = url === DEFAULT_DATABASE_URL ? 'DATABASE_URL is not set, so the default ./data/face3d.db of this folder was used' : 'DATABASE_URL';
    throw new Face3dError(
      'NOT_FOUND',
      `no gallery at ${name} (${source}): run this in the folder where the server runs, with its DATABASE_URL; a server's first start creates its gallery`,
    );
  }
  process.stderr.write(`face3d: gallery ${name}${exists === false ? ' (new, empty: created now)' : ''}\n`);
}
