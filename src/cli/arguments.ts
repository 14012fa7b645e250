/**
 * Argument checks and options shared by the gallery commands. Misuse is reported through
 * commander, so it ends with exit status 2 like any other usage error; failures of the work itself
 * end with 1, with `{"error": {code, message}}` on stdout under --json.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { Face3dError } from '../core/errors.js';
import type { FileInput, GalleryClient } from './gallery-client.js';
import { LocalGallery, type LocalMode } from './local-gallery.js';
import { errorRecord, printJsonLine } from './output.js';
import { RemoteGallery } from './remote-gallery.js';

export function positiveInteger(value: string): number {
  const parsed = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(parsed) || parsed < 1) throw new InvalidArgumentError('must be a positive integer');
  return parsed;
}

export function similarityThreshold(value: string): number {
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed) || parsed < -1 || parsed > 1) throw new InvalidArgumentError('must be a cosine similarity from -1 to 1');
  return parsed;
}

export interface ServerOptions {
  readonly server?: string;
  readonly key?: string;
}

/** `--server` and `--key`: the gallery of a running server instead of the local database. */
export function withServerOptions(command: Command): Command {
  return command
    .option('--server <url>', 'a running face3d server (http://host:port) instead of the local database of DATABASE_URL')
    .addOption(new Option('--key <key>', 'API key for --server').env('FACE3D_API_KEY'));
}

/** Usage errors found after parsing: exit status 2, like commander's own. */
export function usageError(command: Command, message: string): never {
  command.error(`error: ${message}`, { exitCode: 2, code: 'face3d.usage' });
}

/** The server of --server; undefined without it. */
export function remoteGallery(command: Command, options: ServerOptions): RemoteGallery | undefined {
  if (options.server === undefined) return undefined;
  if (!/^https?:\/\/[^/]/.test(options.server)) usageError(command, `--server must be an http:// or https:// URL, got "${options.server}"`);
  if (!options.key) usageError(command, '--server needs --key (or FACE3D_API_KEY)');
  process.stderr.write(`face3d: using the server at ${options.server}\n`);
  return new RemoteGallery(options.server, options.key);
}

/** The server's gallery when --server is given, else the local one opened in `mode`. */
export async function openGallery(command: Command, options: ServerOptions, mode: LocalMode): Promise<GalleryClient> {
  return remoteGallery(command, options) ?? LocalGallery.open(mode);
}

export async function readInputFile(path: string): Promise<FileInput> {
  try {
    return { bytes: await readFile(path), name: basename(path) };
  } catch (error) {
    throw new Face3dError('NOT_FOUND', `cannot read ${path}: ${(error as Error).message}`);
  }
}

/**
 * Runs a command's action; under --json a failure is printed as `{"error": {...}}` on stdout
 * (and the exit status is 1), so scripts reading stdout always get JSON.
 */
export function jsonAware<A extends unknown[]>(action: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await action(...args);
    } catch (error) {
      const command = args.at(-1) as Command;
      if (error instanceof CommanderError || !(command instanceof Command) || !command.opts().json) throw error;
      const record = errorRecord(error);
      printJsonLine({ error: record });
      process.stderr.write(`face3d: ${record.code}: ${record.message}\n`);
      process.exitCode = 1;
    }
  };
}
