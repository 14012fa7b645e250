/**
 * Online backup and restore of a gallery: its database and the photo files the database points
 * at (content-addressed under the photos folder), in one tar file:
 *   face3d-backup.json          what the archive holds (format, version, database kind, photo count)
 *   database/face3d.db          SQLite: a VACUUM INTO snapshot
 *   database/face3d.pgdump      PostgreSQL: pg_dump --format=custom
 *   photos/<aa>/<sha256>        every photo the snapshot references, nothing else
 * The database is snapshotted first and then the photos it references are copied; photo files are
 * written before their rows and never change, so the only race is a photo deleted between the
 * snapshot and its copy, and then the backup starts over from a fresh snapshot.
 * A restore puts the photos in place first and the database last, so no row ever points at a
 * missing file, and checks every photo's bytes against its name (SHA-256).
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Config } from '../core/config.js';
import { isFace3dError } from '../core/errors.js';
import { BlobStore } from '../store/blob-store.js';
import { photosDirOf } from '../store/photo-folder.js';
import { databaseKind, redactUrl, sqliteFilePath } from '../store/database.js';
import { dumpPostgres, restorePostgres } from './postgres-dump.js';
import { checkSqliteFile, snapshotSqlite } from './sqlite-snapshot.js';
import { readTar, TarWriter } from './tar.js';

export type BackupDatabase = 'sqlite' | 'postgres';

export interface GalleryLocation {
  readonly databaseUrl: string;
  /** The blob store's root. */
  readonly photosDir: string;
}

export interface BackupManifest {
  readonly format: 'face3d-backup';
  readonly version: 1;
  readonly database: BackupDatabase;
  readonly createdAt: string;
  readonly photos: number;
}

export interface BackupSummary {
  readonly database: BackupDatabase;
  readonly photos: number;
  /** Snapshots taken: more than one when photos were deleted while the first was copied. */
  readonly attempts: number;
}

const MANIFEST = 'face3d-backup.json';
const PHOTOS = 'photos/';
const DATABASE_ENTRY: Record<BackupDatabase, string> = { sqlite: 'database/face3d.db', postgres: 'database/face3d.pgdump' };
const MAX_ATTEMPTS = 5;

/** A photo the snapshot references was deleted before it was copied. */
class PhotoGoneError extends Error {}

function backupDatabaseOf(url: string): BackupDatabase {
  const kind = databaseKind(url);
  if (kind === 'pglite') throw new Error('backup and restore do not support pglite: galleries (PGlite is open in one process only): stop the server and copy its folder');
  return kind;
}

/** Where the configured gallery keeps its rows and photos (FACE3D_DATA_DIR, else the server's default: src/store/photo-folder.ts). */
export function galleryLocation(config: Pick<Config, 'databaseUrl' | 'dataDir'>): GalleryLocation {
  backupDatabaseOf(config.databaseUrl);
  return { databaseUrl: config.databaseUrl, photosDir: photosDirOf(config) };
}

async function snapshot(database: BackupDatabase, url: string, target: string): Promise<string[]> {
  if (database === 'postgres') return dumpPostgres(url, target);
  const file = sqliteFilePath(url);
  if (!existsSync(file)) throw new Error(`there is no gallery to back up at ${file} (DATABASE_URL)`);
  return snapshotSqlite(file, target);
}

async function writeArchive(file: string, manifest: BackupManifest, databaseCopy: string, photoPaths: readonly string[], blobs: BlobStore): Promise<void> {
  const tar = await TarWriter.create(file);
  try {
    await tar.addBytes(MANIFEST, Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`));
    await tar.addFile(DATABASE_ENTRY[manifest.database], databaseCopy);
    for (const path of photoPaths) {
      let bytes: Buffer;
      try {
        bytes = await blobs.read(path);
      } catch (error) {
        if (isFace3dError(error) && error.code === 'PHOTO_MISSING') throw new PhotoGoneError(path);
        throw error;
      }
      await tar.addBytes(`${PHOTOS}${path}`, bytes);
    }
    await tar.finish();
  } catch (error) {
    await tar.abandon();
    throw error;
  }
}

/** Writes a backup of the gallery at `location` to `file` (replaced only once the backup is complete). */
export async function createBackup(location: GalleryLocation, file: string): Promise<BackupSummary> {
  const database = backupDatabaseOf(location.databaseUrl);
  const blobs = new BlobStore(location.photosDir);
  const output = resolve(file);
  await mkdir(dirname(output), { recursive: true });
  // Next to the output, so the finished archive is renamed into place, never copied.
  const work = await mkdtemp(join(dirname(output), '.face3d-backup-'));
  try {
    for (let attempt = 1; ; attempt++) {
      const databaseCopy = join(work, `database-${attempt}`);
      const paths = await snapshot(database, location.databaseUrl, databaseCopy);
      const manifest: BackupManifest = { format: 'face3d-backup', version: 1, database, createdAt: new Date().toISOString(), photos: paths.length };
      const archive = join(work, 'backup.tar');
      try {
        await writeArchive(archive, manifest, databaseCopy, paths, blobs);
      } catch (error) {
        if (!(error instanceof PhotoGoneError) || attempt === MAX_ATTEMPTS) throw error;
        await rm(databaseCopy, { force: true });
        continue;
      }
      await rename(archive, output);
      return { database, photos: paths.length, attempts: attempt };
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

export interface RestoreOptions {
  /** Replace an existing SQLite database file (the server must be stopped). */
  readonly force?: boolean;
}

function parseManifest(bytes: Buffer): BackupManifest {
  let manifest: Partial<BackupManifest>;
  try {
    manifest = JSON.parse(bytes.toString('utf8')) as Partial<BackupManifest>;
  } catch {
    throw new Error(`${MANIFEST} is not JSON`);
  }
  if (manifest.format !== 'face3d-backup' || manifest.version !== 1) throw new Error(`not a face3d backup (format ${manifest.format}, version ${manifest.version})`);
  if (manifest.database !== 'sqlite' && manifest.database !== 'postgres') throw new Error(`unknown database kind in the backup: ${manifest.database}`);
  return manifest as BackupManifest;
}

/**
 * Restores the backup `file` into `location`: photos into the photos folder, then the database
 * (SQLite: the file, which must not exist unless `force`; PostgreSQL: pg_restore --clean).
 */
export async function restoreBackup(file: string, location: GalleryLocation, options: RestoreOptions = {}): Promise<BackupManifest> {
  const database = backupDatabaseOf(location.databaseUrl);
  const target = database === 'sqlite' ? sqliteFilePath(location.databaseUrl) : undefined;
  if (target && existsSync(target) && !options.force) throw new Error(`${target} already exists: restore into a new DATABASE_URL, or pass --force to replace it (with the server stopped)`);
  // SQLite: next to the target, so the restored file is renamed into place.
  const stagingParent = target ? dirname(target) : tmpdir();
  await mkdir(stagingParent, { recursive: true });
  const staging = await mkdtemp(join(stagingParent, '.face3d-restore-'));
  try {
    const blobs = new BlobStore(location.photosDir);
    const stagedDatabase = join(staging, 'database');
    let manifest: BackupManifest | undefined;
    let photos = 0;
    for await (const entry of readTar(file)) {
      if (!manifest) {
        if (entry.name !== MANIFEST) throw new Error(`${file} is not a face3d backup: it does not start with ${MANIFEST}`);
        manifest = parseManifest(await entry.bytes());
        if (manifest.database !== database) throw new Error(`the backup holds a ${manifest.database} database and cannot be restored into ${redactUrl(location.databaseUrl)}`);
      } else if (entry.name === DATABASE_ENTRY[database]) {
        await entry.copyTo(stagedDatabase);
      } else if (entry.name.startsWith(PHOTOS)) {
        const path = entry.name.slice(PHOTOS.length);
        // put() names the file by its content: a damaged photo would land under another name.
        const stored = await blobs.put(await entry.bytes());
        if (stored.storagePath !== path) throw new Error(`photo ${path} in the backup is damaged (its content hashes to ${stored.sha256})`);
        photos++;
      } else {
        throw new Error(`unexpected entry in the backup: ${entry.name}`);
      }
    }
    if (!manifest) throw new Error(`${file} is empty`);
    if (!existsSync(stagedDatabase)) throw new Error(`the backup has no ${DATABASE_ENTRY[database]}`);
    if (photos !== manifest.photos) throw new Error(`the backup should hold ${manifest.photos} photos but holds ${photos}: it is incomplete`);
    if (target) {
      checkSqliteFile(stagedDatabase);
      // A leftover write-ahead log would be replayed into the restored file and corrupt it.
      await Promise.all(['-wal', '-shm', '-journal'].map((suffix) => rm(`${target}${suffix}`, { force: true })));
      await rename(stagedDatabase, target);
    } else {
      await restorePostgres(location.databaseUrl, stagedDatabase);
    }
    return manifest;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
