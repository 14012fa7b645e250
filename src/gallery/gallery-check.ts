/**
 * `face3d check`: whether a gallery is whole. The database's own structures (integrity_check,
 * amcheck), the photo folder (this gallery's marker), every photo's file (present, and its bytes
 * hashing to its name), the vectors (each loads into a search index; READY photos have one of the
 * default bundle; pgvector's copy has as many), and the job queue (nothing abandoned or stranded).
 *
 * `repair` fixes only what can be fixed without losing anything: it requeues abandoned and
 * stranded jobs (as a server's start-up does), removes what interrupted writes left and files
 * this gallery wrote that no photo names (the start-up sweep, with its grace period), and marks
 * READY photos whose file is gone or damaged with PHOTO_MISSING / PHOTO_CORRUPT (cleared again
 * once the file is back), so clients see why the original cannot be downloaded. It deletes no row
 * and no photo: a lost file can only come back from a backup.
 */
import { mapConcurrent } from '../core/concurrency.js';
import type { Config } from '../core/config.js';
import { isFace3dError } from '../core/errors.js';
import { bundleDirOf } from '../inference/open-encoder.js';
import { readBundleManifest } from '../morphable/bundle.js';
import { JobRepository } from '../store/job-repository.js';
import type { Database } from '../store/database.js';
import { checkIntegrity, prismaConnection, type IntegrityReport } from '../store/integrity.js';
import { BlobStore } from '../store/blob-store.js';
import { GalleryIndex } from './gallery-index.js';
import { locatePhotoFolder, SWEEP_GRACE_MS } from '../store/photo-folder.js';
import { PhotoRepository, type StoredPhotoFile } from '../store/photo-repository.js';
import { GalleryStore } from '../store/gallery-store.js';

export interface VectorCheck {
  readonly bundle: string;
  /** FaceVector rows of the bundle. */
  readonly stored: number;
  /** Of those, how many loaded into a search index (the rest are malformed); null when the bundle is not in FACE3D_MODELS_DIR to say their length. */
  readonly indexed: number | null;
  /** READY photos without a vector of the bundle (counted for the default bundle only). */
  readonly readyWithout: number | null;
  /** pgvector's FaceEmbedding rows of the bundle, where the extension is used. */
  readonly pgvector: number | null;
}

export interface RepairReport {
  readonly marked: number;
  readonly cleared: number;
  readonly filesRemoved: number;
  readonly jobsRequeued: number;
  readonly jobsFailed: number;
  readonly photosQueued: number;
}

export interface CheckReport {
  readonly database: { readonly kind: string; readonly integrity: IntegrityReport };
  readonly photoFolder: { readonly path: string; readonly galleryId: string; readonly markedBy: string | null };
  readonly photos: { readonly total: number; readonly missing: readonly string[]; readonly corrupt: readonly string[] };
  /** Stored files no photo names (removable by the sweep once past its grace period); leftovers of interrupted writes (the temporary folder) are not counted. */
  readonly files: { readonly unreferenced: number };
  readonly vectors: readonly VectorCheck[];
  readonly jobs: { readonly abandoned: number; readonly stranded: number; readonly queuedOverAnHour: number };
  readonly repaired: RepairReport | null;
  /** What is wrong after any repair, one line each; empty: healthy. */
  readonly problems: readonly string[];
}

const FILE_READS_IN_FLIGHT = 8;
const IDS_SHOWN = 20;
const FILE_PROBLEMS = new Set(['PHOTO_MISSING', 'PHOTO_CORRUPT']);

/** The first IDS_SHOWN ids and how many more: for reports and logs that must stay short. */
export function listIds(ids: readonly string[]): string {
  return ids.length > IDS_SHOWN ? `${ids.slice(0, IDS_SHOWN).join(', ')} and ${ids.length - IDS_SHOWN} more` : ids.join(', ');
}

/** Reads every photo's file: which are missing, which damaged, and the READY ones whose mark is out of date. */
async function checkPhotoFiles(photos: PhotoRepository, blobs: BlobStore) {
  const missing: StoredPhotoFile[] = [];
  const corrupt: StoredPhotoFile[] = [];
  const intactButMarked: StoredPhotoFile[] = [];
  let total = 0;
  for await (const files of photos.storedFiles()) {
    total += files.length;
    await mapConcurrent(files, FILE_READS_IN_FLIGHT, async (file) => {
      try {
        await blobs.read(file.storagePath);
        if (file.errorCode && FILE_PROBLEMS.has(file.errorCode)) intactButMarked.push(file);
      } catch (error) {
        if (!isFace3dError(error) || !FILE_PROBLEMS.has(error.code)) throw error;
        (error.code === 'PHOTO_MISSING' ? missing : corrupt).push(file);
      }
    });
  }
  return { total, missing, corrupt, intactButMarked };
}

async function checkVectors(database: Database, photos: PhotoRepository, config: Config): Promise<VectorCheck[]> {
  const checks: VectorCheck[] = [];
  for (const [i, entry] of config.bundles.entries()) {
    const manifest = await readBundleManifest(bundleDirOf(entry, config.modelsDir)).catch(() => undefined);
    // Without its manifest a bundle is known by the entry's name, and its vectors are counted only.
    const bundle = manifest?.id ?? entry;
    let indexed: number | null = null;
    if (manifest) {
      const index = new GalleryIndex(bundle, manifest.shape.components + manifest.texture.components);
      for await (const face of photos.allFaceVectors(bundle)) {
        try {
          index.addFace(face);
        } catch {
          // Counted below: stored but not indexed.
        }
      }
      indexed = index.faceCount;
    }
    const stored = await database.prisma.faceVector.count({ where: { bundleId: bundle } });
    const readyWithout =
      i === 0 ? await database.prisma.photo.count({ where: { status: 'READY', OR: [{ face: { is: null } }, { face: { vectors: { none: { bundleId: bundle } } } }] } }) : null;
    let pgvector: number | null = null;
    if (database.vectorExtension) {
      const rows = await database.prisma.$queryRawUnsafe<{ n: number }[]>('SELECT count(*)::int AS n FROM "FaceEmbedding" WHERE "bundleId" = $1', bundle).catch(() => null);
      pgvector = rows ? Number(rows[0].n) : null;
    }
    checks.push({ bundle, stored, indexed, readyWithout, pgvector });
  }
  return checks;
}

async function checkJobs(database: Database, now: Date) {
  const prisma = database.prisma;
  return {
    abandoned: await prisma.job.count({ where: { status: 'RUNNING', leaseUntil: { lt: now } } }),
    stranded: await prisma.photo.count({ where: { status: { in: ['PENDING', 'PROCESSING'] }, jobs: { none: { status: { in: ['QUEUED', 'RUNNING'] } } } } }),
    queuedOverAnHour: await prisma.job.count({ where: { status: 'QUEUED', createdAt: { lt: new Date(now.getTime() - 3600_000) } } }),
  };
}

export async function checkGallery(database: Database, config: Config, options: { repair: boolean; now?: Date }): Promise<CheckReport> {
  const now = options.now ?? new Date();
  const store = new GalleryStore(database.prisma, { provider: database.provider });
  const photos = new PhotoRepository(store);
  const integrity = await checkIntegrity(prismaConnection(database.prisma), database.provider);
  const folder = await locatePhotoFolder(database.prisma, config);
  const blobs = new BlobStore(folder.root);
  const ownFolder = folder.markedBy === folder.galleryId;
  const files = await checkPhotoFiles(photos, blobs);
  const referenced = await photos.referencedStoragePaths();
  const unreferenced = (await blobs.files()).filter((file) => !referenced.has(file.storagePath)).length;
  let jobs = await checkJobs(database, now);

  let repaired: RepairReport | null = null;
  if (options.repair) {
    const ready = (list: readonly StoredPhotoFile[], code: string) => list.filter((file) => file.status === 'READY' && file.errorCode !== code).map((file) => file.id);
    const toMarkMissing = ready(files.missing, 'PHOTO_MISSING');
    const toMarkCorrupt = ready(files.corrupt, 'PHOTO_CORRUPT');
    await photos.markFileProblem(toMarkMissing, { code: 'PHOTO_MISSING', message: 'the stored original is missing: restore it from a backup' });
    await photos.markFileProblem(toMarkCorrupt, { code: 'PHOTO_CORRUPT', message: 'the stored original is damaged: restore it from a backup' });
    const toClear = files.intactButMarked.filter((file) => file.status === 'READY').map((file) => file.id);
    await photos.markFileProblem(toClear, null);
    // Only in a folder marked as this gallery's: files of an unmarked or foreign folder may not be ours to delete.
    const filesRemoved = ownFolder ? await blobs.sweep(() => photos.referencedStoragePaths(), folder.claimedAt!, new Date(now.getTime() - SWEEP_GRACE_MS)) : 0;
    const recovery = await new JobRepository(store).recover({ exclusive: false }, now);
    repaired = {
      marked: toMarkMissing.length + toMarkCorrupt.length,
      cleared: toClear.length,
      filesRemoved,
      jobsRequeued: recovery.requeued,
      jobsFailed: recovery.failed,
      photosQueued: recovery.enqueued,
    };
    jobs = await checkJobs(database, now);
  }

  const vectors = await checkVectors(database, photos, config);
  const problems: string[] = [];
  if (integrity.result !== 'ok') problems.push(`database ${integrity.method} failed: ${integrity.result} (restore from a backup)`);
  if (folder.markedBy && !ownFolder) problems.push(`the photo folder ${folder.root} is marked as gallery ${folder.markedBy}'s, not this database's (${folder.galleryId})`);
  const missing = files.missing.map((file) => file.id);
  const corrupt = files.corrupt.map((file) => file.id);
  if (missing.length > 0) problems.push(`${missing.length} photo(s) have no file in ${folder.root} (restore them from a backup): ${listIds(missing)}`);
  if (corrupt.length > 0) problems.push(`${corrupt.length} photo(s) have a damaged file, not matching its SHA-256 (restore them from a backup): ${listIds(corrupt)}`);
  for (const vector of vectors) {
    if (vector.indexed !== null && vector.indexed !== vector.stored) problems.push(`bundle ${vector.bundle}: ${vector.stored - vector.indexed} of ${vector.stored} stored vectors do not load into the search index`);
    if (vector.readyWithout) problems.push(`bundle ${vector.bundle}: ${vector.readyWithout} READY photo(s) have no vector (idle workers encode stored photos under it; those still counted by face3d_faces_without_vector once it stops falling cannot be read)`);
    if (vector.pgvector !== null && vector.pgvector !== vector.stored) problems.push(`bundle ${vector.bundle}: pgvector holds ${vector.pgvector} vectors, the gallery ${vector.stored}`);
  }
  if (jobs.abandoned > 0) problems.push(`${jobs.abandoned} job(s) RUNNING past their lease (abandoned by a dead worker): --repair requeues them`);
  if (jobs.stranded > 0) problems.push(`${jobs.stranded} PENDING or PROCESSING photo(s) have no job: --repair queues them`);
  return {
    database: { kind: database.kind, integrity },
    photoFolder: { path: folder.root, galleryId: folder.galleryId, markedBy: folder.markedBy ?? null },
    photos: { total: files.total, missing, corrupt },
    files: { unreferenced },
    vectors,
    jobs,
    repaired,
    problems,
  };
}

/** The report for people: one line per finding, problems last. */
export function describeCheck(report: CheckReport): string {
  const { photoFolder, photos, jobs, repaired } = report;
  const marker = photoFolder.markedBy === null ? 'not marked yet (the server marks it at start-up)' : photoFolder.markedBy === photoFolder.galleryId ? 'marked as this gallery’s' : `marked as gallery ${photoFolder.markedBy}’s`;
  const lines = [
    `database (${report.database.kind}): ${report.database.integrity.method} ${report.database.integrity.result}`,
    `gallery ${photoFolder.galleryId}; photo folder ${photoFolder.path}: ${marker}`,
    `photos: ${photos.total}, ${photos.missing.length} without a file, ${photos.corrupt.length} with a damaged file`,
    `files no photo names: ${report.files.unreferenced}`,
    ...report.vectors.map(
      (vector) =>
        `vectors of ${vector.bundle}: ${vector.stored} stored, ${vector.indexed === null ? 'not loaded (its bundle is not in FACE3D_MODELS_DIR)' : `${vector.indexed} indexed`}` +
        (vector.readyWithout === null ? '' : `, ${vector.readyWithout} READY photos without one`) +
        (vector.pgvector === null ? '' : `, ${vector.pgvector} in pgvector`),
    ),
    `jobs: ${jobs.abandoned} abandoned, ${jobs.stranded} photos without a job, ${jobs.queuedOverAnHour} queued over an hour ago (is a worker running?)`,
  ];
  if (repaired) {
    lines.push(
      `repaired: ${repaired.marked} photos marked PHOTO_MISSING/PHOTO_CORRUPT, ${repaired.cleared} marks cleared, ${repaired.filesRemoved} unused files removed, ` +
        `${repaired.jobsRequeued} jobs requeued, ${repaired.jobsFailed} failed (out of attempts), ${repaired.photosQueued} photos queued`,
    );
  }
  lines.push(...(report.problems.length === 0 ? ['healthy'] : report.problems.map((problem) => `PROBLEM: ${problem}`)));
  return lines.join('\n');
}
