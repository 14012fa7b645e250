/**
 * Photo bytes on disk, content-addressed: `<root>/<aa>/<sha256>`. A write is durable before it
 * returns (temporary file, fsync, rename, fsync of the folder), so a database row that names a
 * file never outlives a crash that lost the file. Identical bytes are stored once.
 */
import { createHash, randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export interface StoredBlob {
  readonly sha256: string;
  /** Relative to the store's root; what the database keeps. */
  readonly storagePath: string;
}

const TEMP_FOLDER = 'incoming';
const STORAGE_PATH = /^[0-9a-f]{2}\/[0-9a-f]{64}$/;
const SHARD_FOLDER = /^[0-9a-f]{2}$/;

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function storagePathFor(sha256: string): string {
  return `${sha256.slice(0, 2)}/${sha256}`;
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
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

export class BlobStore {
  constructor(readonly root: string) {}

  async put(bytes: Uint8Array): Promise<StoredBlob> {
    const sha256 = sha256Hex(bytes);
    const storagePath = storagePathFor(sha256);
    const target = this.absolute(storagePath);
    if (await exists(target)) return { sha256, storagePath };
    const temp = join(this.root, TEMP_FOLDER, randomUUID());
    await Promise.all([mkdir(dirname(temp), { recursive: true }), mkdir(dirname(target), { recursive: true })]);
    const handle = await open(temp, 'wx');
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
    await fsyncPath(dirname(target), 'r');
    return { sha256, storagePath };
  }

  /** A symbolic link planted in the store is refused (ELOOP), so a download cannot reach outside it. */
  async read(storagePath: string): Promise<Buffer> {
    const handle = await open(this.absolute(storagePath), constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      return await handle.readFile();
    } finally {
      await handle.close();
    }
  }

  async remove(storagePath: string): Promise<void> {
    await rm(this.absolute(storagePath), { force: true });
  }

  /**
   * Every stored path, and leftovers of writes a crash interrupted removed. With `before`, only
   * files last written before then: other processes sharing the store may be mid-write.
   */
  async list(before?: Date): Promise<string[]> {
    const isOld = async (path: string): Promise<boolean> => !before || (await stat(path)).mtime < before;
    const tempRoot = join(this.root, TEMP_FOLDER);
    const temps = await readdir(tempRoot).catch(() => [] as string[]);
    if (before) await Promise.all(temps.map(async (name) => (await isOld(join(tempRoot, name))) && rm(join(tempRoot, name), { force: true })));
    else await rm(tempRoot, { recursive: true, force: true });
    let folders: string[];
    try {
      folders = await readdir(this.root);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const shards = folders.filter((folder) => SHARD_FOLDER.test(folder));
    const paths = (await Promise.all(shards.map(async (folder) => (await readdir(join(this.root, folder))).map((name) => `${folder}/${name}`)))).flat();
    const stored = paths.filter((path) => STORAGE_PATH.test(path));
    const old = await Promise.all(stored.map((path) => isOld(join(this.root, path))));
    return stored.filter((_, i) => old[i]);
  }

  /** Refuses paths that are not ours, so a tampered row cannot reach outside the root. */
  private absolute(storagePath: string): string {
    if (!STORAGE_PATH.test(storagePath)) throw new Error(`not a blob storage path: ${storagePath}`);
    return join(this.root, storagePath);
  }
}
