/**
 * Photo bytes on disk, content-addressed: `<root>/<aa>/<sha256>`. A write is durable before it
 * returns (temporary file, fsync, rename, fsync of the folder), so a database row that names a
 * file never outlives a crash that lost the file. Identical bytes are stored once. Failures reach
 * callers as typed errors that name no path (clients see them): a full or read-only disk while
 * writing (nothing of the write is left behind), a missing, unreadable or damaged file while
 * reading (the name is the content's SHA-256, so every read is checked against it).
 */
import { createHash, randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, utimes } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Face3dError } from '../core/errors.js';

export interface StoredBlob {
  readonly sha256: string;
  /** Relative to the store's root; what the database keeps. */
  readonly storagePath: string;
}

export interface StoredFile {
  readonly storagePath: string;
  /** When the file was written. */
  readonly mtime: Date;
}

const TEMP_FOLDER = 'incoming';
const STORAGE_PATH = /^[0-9a-f]{2}\/[0-9a-f]{64}$/;
const SHARD_FOLDER = /^[0-9a-f]{2}$/;

const FULL = new Set(['ENOSPC', 'EDQUOT']);
/** ENOENT too: a recursive mkdir on a read-only file system reports it, as does a folder removed under us. */
const NOT_WRITABLE = new Set(['EROFS', 'EACCES', 'EPERM', 'ENOENT']);
/** Read failures that mean the file is not there for us (missing, unreadable, replaced by a folder). */
const UNREADABLE = new Set(['ENOENT', 'EACCES', 'EPERM', 'EISDIR', 'ENOTDIR']);

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function storagePathFor(sha256: string): string {
  return `${sha256.slice(0, 2)}/${sha256}`;
}

function errnoOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/** A write's failure as the typed error clients get, or the error itself when it is not the disk's doing. */
function writeFailure(error: unknown): unknown {
  const errno = errnoOf(error) ?? '';
  if (FULL.has(errno)) return new Face3dError('STORAGE_FULL', 'the photo store is full: the photo was not stored', { cause: error });
  if (NOT_WRITABLE.has(errno)) return new Face3dError('STORAGE_UNAVAILABLE', 'the photo store cannot be written (read-only, no permission, or its folder is gone): the photo was not stored', { cause: error });
  return error;
}

async function fsyncPath(path: string, flags: string): Promise<void> {
  const handle = await open(path, flags);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return false;
    throw error;
  }
}

/**
 * Whether the file is there, marked as in use again (its mtime now) when it is, so a sweep in
 * another process leaves it be for its grace period: one system call for a new file and for a
 * stored one alike. A file there that cannot be touched (a read-only store) is there all the same.
 */
async function touch(path: string): Promise<boolean> {
  const now = new Date();
  try {
    await utimes(path, now, now);
    return true;
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return false;
    return exists(path);
  }
}

/** The file's mtime; undefined when it is gone (another process renamed or removed it since it was listed). */
async function writtenAt(path: string): Promise<Date | undefined> {
  try {
    return (await stat(path)).mtime;
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return undefined;
    throw error;
  }
}

async function readdirOrEmpty(path: string): Promise<string[]> {
  try {
    return await readdir(path);
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return [];
    throw error;
  }
}

export class BlobStore {
  /** Folders made by this store: made once, not on every write (and made again should one vanish). */
  private readonly madeFolders = new Set<string>();

  constructor(readonly root: string) {}

  /** STORAGE_FULL or STORAGE_UNAVAILABLE when the disk refuses; then no file of this write is left. */
  async put(bytes: Uint8Array): Promise<StoredBlob> {
    const sha256 = sha256Hex(bytes);
    const storagePath = storagePathFor(sha256);
    const target = this.absolute(storagePath);
    if (await touch(target)) return { sha256, storagePath };
    const temp = join(this.root, TEMP_FOLDER, randomUUID());
    try {
      await this.writeDurably(temp, target, bytes).catch(async (error: unknown) => {
        // A folder removed since this store made it: made again, once.
        if (errnoOf(error) !== 'ENOENT' || this.madeFolders.size === 0) throw error;
        this.madeFolders.clear();
        await rm(temp, { force: true });
        await this.writeDurably(temp, target, bytes);
      });
    } catch (error) {
      await rm(temp, { force: true }).catch(() => undefined);
      throw writeFailure(error);
    }
    return { sha256, storagePath };
  }

  /** `bytes` in a new file at `temp`, synced, then renamed to `target`, and the rename synced. */
  private async writeDurably(temp: string, target: string, bytes: Uint8Array): Promise<void> {
    await Promise.all([this.folder(dirname(temp)), this.folder(dirname(target))]);
    const handle = await open(temp, 'wx');
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
    await fsyncPath(dirname(target), 'r');
  }

  private async folder(path: string): Promise<void> {
    if (this.madeFolders.has(path)) return;
    await mkdir(path, { recursive: true });
    this.madeFolders.add(path);
  }

  /**
   * The file's bytes, checked against their name: PHOTO_MISSING when the file is gone or cannot be
   * read, PHOTO_CORRUPT when its bytes changed. A symbolic link planted in the store is refused
   * (O_NOFOLLOW), so a read cannot reach outside it.
   */
  async read(storagePath: string): Promise<Buffer> {
    let bytes: Buffer;
    try {
      const handle = await open(this.absolute(storagePath), constants.O_RDONLY | constants.O_NOFOLLOW);
      try {
        bytes = await handle.readFile();
      } finally {
        await handle.close();
      }
    } catch (error) {
      const errno = errnoOf(error) ?? '';
      if (UNREADABLE.has(errno)) throw new Face3dError('PHOTO_MISSING', `the stored file is missing or unreadable (${errno})`, { cause: error });
      if (errno === 'ELOOP') throw new Face3dError('PHOTO_CORRUPT', 'the stored file was replaced by a link', { cause: error });
      throw error;
    }
    if (sha256Hex(bytes) !== storagePath.slice(3)) throw new Face3dError('PHOTO_CORRUPT', 'the stored file no longer matches its SHA-256 (damaged on disk)');
    return bytes;
  }

  async has(storagePath: string): Promise<boolean> {
    return exists(this.absolute(storagePath));
  }

  async remove(storagePath: string): Promise<void> {
    await rm(this.absolute(storagePath), { force: true });
  }

  /** Removes what writes a crash interrupted left in the temporary folder, last touched before `before`; how many. */
  async removeTemporaryFiles(before: Date): Promise<number> {
    const tempRoot = join(this.root, TEMP_FOLDER);
    const names = await readdirOrEmpty(tempRoot);
    const written = await Promise.all(names.map((name) => writtenAt(join(tempRoot, name))));
    const removed = names.filter((_, i) => written[i] !== undefined && written[i] < before);
    await Promise.all(removed.map((name) => rm(join(tempRoot, name), { force: true })));
    return removed.length;
  }

  /** Every stored file, with when it was written. */
  async files(): Promise<StoredFile[]> {
    const shards = (await readdirOrEmpty(this.root)).filter((folder) => SHARD_FOLDER.test(folder));
    const paths = (await Promise.all(shards.map(async (folder) => (await readdir(join(this.root, folder))).map((name) => `${folder}/${name}`)))).flat();
    const stored = paths.filter((path) => STORAGE_PATH.test(path));
    // A file another process removes meanwhile is left out.
    const files = await Promise.all(stored.map(async (storagePath) => ({ storagePath, mtime: (await stat(join(this.root, storagePath)).catch(() => undefined))?.mtime })));
    return files.filter((file): file is StoredFile => file.mtime !== undefined);
  }

  /**
   * Deletes stored files written since `writtenSince` and before `before` that `referenced` (read
   * after the listing, so a photo recorded meanwhile counts) does not name; how many.
   */
  async sweep(referenced: () => Promise<ReadonlySet<string>>, writtenSince: Date, before: Date): Promise<number> {
    await this.removeTemporaryFiles(before);
    const files = (await this.files()).filter((file) => file.mtime >= writtenSince && file.mtime < before);
    const named = await referenced();
    const orphans = files.filter((file) => !named.has(file.storagePath)).map((file) => file.storagePath);
    await Promise.all(orphans.map((path) => this.remove(path)));
    return orphans.length;
  }

  /** Refuses paths that are not ours, so a tampered row cannot reach outside the root. */
  private absolute(storagePath: string): string {
    if (!STORAGE_PATH.test(storagePath)) throw new Error(`not a blob storage path: ${storagePath}`);
    return join(this.root, storagePath);
  }
}
