/**
 * PostgreSQL galleries are dumped and restored with the server's own tools, pg_dump and
 * pg_restore (custom format), which must be on PATH.
 */
import { spawn } from 'node:child_process';
import pg from 'pg';
import { redactUrl } from '../store/database.js';

/** Runs `command` to its end; rejects with its stderr when it fails or cannot start. */
function runTool(command: string, args: readonly string[], url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-4000)));
    child.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'ENOENT'
          ? new Error(`${command} is not on PATH: install the PostgreSQL client tools (the server's major version or newer) to back up or restore ${redactUrl(url)}`)
          : error,
      ),
    );
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`${command} failed (exit ${code}) for ${redactUrl(url)}:\n${stderr.split(url).join(redactUrl(url))}`))));
  });
}

/**
 * Dumps the database at `url` into `target` (pg_dump --format=custom) and returns the storage
 * paths of the photos in the dump. Both come from one exported snapshot, so the list matches the
 * dump exactly however busy the server is.
 */
export async function dumpPostgres(url: string, target: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const snapshot = (await client.query<{ id: string }>('SELECT pg_export_snapshot() AS id')).rows[0].id;
    const paths = (await client.query<{ storagePath: string }>('SELECT DISTINCT "storagePath" FROM "Photo" ORDER BY "storagePath"')).rows.map((row) => row.storagePath);
    await runTool('pg_dump', ['--format=custom', `--snapshot=${snapshot}`, `--file=${target}`, `--dbname=${url}`], url);
    await client.query('COMMIT');
    return paths;
  } finally {
    await client.end();
  }
}

/** Replaces the database's objects at `url` with those of the dump, in one transaction. */
export function restorePostgres(url: string, dump: string): Promise<void> {
  return runTool('pg_restore', ['--clean', '--if-exists', '--no-owner', '--single-transaction', '--exit-on-error', `--dbname=${url}`, dump], url);
}
