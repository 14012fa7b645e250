/**
 * Which folder holds a gallery's photos, and the proof that it is this gallery's. Each database
 * has a gallery id (the one row of GalleryIdentity, made by its migration); the photo folder holds
 * a marker file naming it, written when a gallery first uses the folder. A folder marked by another
 * gallery is refused (PHOTO_FOLDER_CONFLICT): two galleries in one folder would see each other's
 * files as unused and delete them. Processes of one gallery (one database) share its folder.
 *
 * Without FACE3D_DATA_DIR the folder is named after the database (`<file>-photos` beside a SQLite
 * file, `<dir>-photos` beside a PGlite folder, `data/photos-<host>-<port>-<database>` for a
 * PostgreSQL server), so two databases in one folder never meet. Galleries made before that kept
 * their photos in a `photos` folder beside the database: a gallery whose own folder does not exist
 * yet goes on using that one when it holds this gallery's photos or marker.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Face3dError } from '../core/errors.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import { databaseKind } from './database.js';
import { embeddedDatabasePath } from './database-name.js';
import { BlobStore } from './blob-store.js';
import type { PhotoRepository } from './photo-repository.js';
import type { PhotoStatus } from './enums.js';

export const MARKER_FILE = 'face3d-gallery.json';

/**
 * Longer than any upload takes between storing a photo's bytes and recording the photo: the
 * sweep leaves files younger than this be, since another process may be storing a photo now.
 */
export const SWEEP_GRACE_MS = 3600_000;

export interface Marker {
  readonly format: 'face3d-photo-folder';
  readonly gallery: string;
  /** When the gallery first used the folder. */
  readonly claimedAt: string;
}

export interface PhotoFolder {
  readonly blobs: BlobStore;
  readonly galleryId: string;
  /**
   * When this gallery marked the folder. Files older than that may be another gallery's (a folder
   * two galleries shared before markers existed): the sweep never deletes them.
   */
  readonly claimedAt: Date;
}

/** Where photo bytes go when FACE3D_DATA_DIR names no place: a folder named after the database. */
export function defaultPhotosDir(url: string): string {
  const place = embeddedDatabasePath(url);
  if (place) return `${place}-photos`;
  if (databaseKind(url) === 'pglite') return resolve('data', 'photos-pglite-memory');
  const server = new URL(url);
  const name = `${server.hostname}-${server.port || '5432'}-${decodeURIComponent(server.pathname.slice(1))}`.replace(/[^\w.-]/g, '_');
  return resolve('data', `photos-${name}`);
}

/** The folder every gallery of this kind used before folders were named after their database. */
export function legacyPhotosDir(url: string): string {
  const place = embeddedDatabasePath(url);
  return place ? join(dirname(place), 'photos') : resolve('data', 'photos');
}

/**
 * The folder without asking the database (backup, restore): FACE3D_DATA_DIR, else the default
 * one, else the legacy one where only it exists. Reads are safe from either: files are named by content.
 */
export function photosDirOf(config: { readonly databaseUrl: string; readonly dataDir?: string }): string {
  if (config.dataDir) return config.dataDir;
  const own = defaultPhotosDir(config.databaseUrl);
  const legacy = legacyPhotosDir(config.databaseUrl);
  return !existsSync(own) && existsSync(legacy) ? legacy : own;
}

async function readMarker(root: string): Promise<Marker | undefined> {
  let text: string;
  try {
    text = await readFile(join(root, MARKER_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const marker = JSON.parse(text) as Partial<Marker>;
    if (marker.format === 'face3d-photo-folder' && typeof marker.gallery === 'string' && typeof marker.claimedAt === 'string') return marker as Marker;
  } catch {
    // Reported below, like any marker we cannot read.
  }
  throw new Face3dError('PHOTO_FOLDER_CONFLICT', `${join(root, MARKER_FILE)} is not a face3d photo folder marker: move it away only if this folder is this gallery's`);
}

/** Writes the marker unless one is there (another process of the gallery may be writing it now); the marker that holds. */
async function claim(root: string, galleryId: string): Promise<Marker> {
  const marker: Marker = { format: 'face3d-photo-folder', gallery: galleryId, claimedAt: new Date().toISOString() };
  const temp = join(root, `${MARKER_FILE}.${randomUUID()}`);
  try {
    await mkdir(root, { recursive: true });
    await writeFile(temp, `${JSON.stringify(marker, null, 2)}\n`, { flag: 'wx' });
    // link() fails when the marker exists: of two processes claiming at once, one wins and both read its marker.
    await link(temp, join(root, MARKER_FILE));
    return marker;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return (await readMarker(root))!;
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new Face3dError('STORAGE_UNAVAILABLE', `cannot mark the photo folder ${root} as this gallery's (${reason})`, { cause: error });
  } finally {
    await rm(temp, { force: true }).catch(() => undefined);
  }
}

/** The gallery id the database's migration wrote. */
export async function galleryIdOf(prisma: PrismaClient): Promise<string> {
  const row = await prisma.galleryIdentity.findFirst({ orderBy: { createdAt: 'asc' } });
  if (!row) throw new Error('the database has no GalleryIdentity row: its migrations did not run');
  return row.id;
}

/** Whether the legacy folder is this gallery's: marked by it, or unmarked and holding one of its photos. */
async function ownsLegacyFolder(prisma: PrismaClient, root: string, galleryId: string): Promise<boolean> {
  if (!existsSync(root)) return false;
  const marker = await readMarker(root);
  if (marker) return marker.gallery === galleryId;
  const sample = await prisma.photo.findMany({ select: { storagePath: true }, take: 20 });
  const blobs = new BlobStore(root);
  for (const { storagePath } of sample) if (await blobs.has(storagePath)) return true;
  return false;
}

/** Where the gallery's photos are and the marker found there, without writing anything (`face3d check`). */
export async function locatePhotoFolder(
  prisma: PrismaClient,
  config: { readonly databaseUrl: string; readonly dataDir?: string },
): Promise<{ root: string; galleryId: string; marker: Marker | undefined; markedBy: string | undefined; claimedAt: Date | undefined }> {
  const galleryId = await galleryIdOf(prisma);
  let root = config.dataDir ?? defaultPhotosDir(config.databaseUrl);
  if (!config.dataDir && !existsSync(root) && (await ownsLegacyFolder(prisma, legacyPhotosDir(config.databaseUrl), galleryId))) root = legacyPhotosDir(config.databaseUrl);
  const marker = await readMarker(root);
  return { root, galleryId, marker, markedBy: marker?.gallery, claimedAt: marker && new Date(marker.claimedAt) };
}

export function folderConflict(root: string, markedBy: string, galleryId: string): Face3dError {
  return new Face3dError(
    'PHOTO_FOLDER_CONFLICT',
    `the photo folder ${root} belongs to gallery ${markedBy}, not to this database's gallery ${galleryId}: ` +
      'give each database a photo folder of its own (FACE3D_DATA_DIR); processes of one database share one',
  );
}

/** The gallery's photo folder, marked as its own; PHOTO_FOLDER_CONFLICT when another gallery marked it. */
export async function openPhotoFolder(prisma: PrismaClient, config: { readonly databaseUrl: string; readonly dataDir?: string }): Promise<PhotoFolder> {
  const { root, galleryId, marker: found } = await locatePhotoFolder(prisma, config);
  const marker = found ?? (await claim(root, galleryId));
  if (marker.gallery !== galleryId) throw folderConflict(root, marker.gallery, galleryId);
  return { blobs: new BlobStore(root), galleryId, claimedAt: new Date(marker.claimedAt) };
}

/** Photos (of `statuses`) whose stored file is not in the folder: a stat per photo, no read (start-up's check). */
export async function photosWithoutFile(photos: PhotoRepository, blobs: BlobStore, statuses: readonly PhotoStatus[]): Promise<string[]> {
  const missing: string[] = [];
  for await (const files of photos.storedFiles(statuses)) {
    const present = await Promise.all(files.map((file) => blobs.has(file.storagePath)));
    missing.push(...files.filter((_, i) => !present[i]).map((file) => file.id));
  }
  return missing;
}
