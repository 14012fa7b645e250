/**
 * The face3d service over an open database, whatever process runs it (`face3d serve`, `face3d
 * worker`, the CLI's local gallery, benchmarks): the gallery with one index per served bundle,
 * the enrollment worker, the change feed, API keys and the photo events, put together once.
 * Nothing here speaks HTTP: server.ts serves what this opens.
 */
import type { ApiServices } from '../api/context.js';
import { ApiKeys } from '../auth/api-keys.js';
import type { Config } from '../core/config.js';
import { Face3dError } from '../core/errors.js';
import { applyToGallery, ChangeFeed } from '../gallery/change-feed.js';
import { ThresholdPolicy } from '../gallery/decision.js';
import { listIds } from '../gallery/gallery-check.js';
import { GalleryIndex } from '../gallery/gallery-index.js';
import { MeshPool } from '../gallery/mesh-pool.js';
import { Gallery } from '../gallery/gallery.js';
import { openPhotoFolder, SWEEP_GRACE_MS } from '../store/photo-folder.js';
import { GalleryStore } from '../store/gallery-store.js';
import type { BundleEncoder } from '../inference/bundle-encoder.js';
import { bundleDirOf, openBundleEncoder } from '../inference/open-encoder.js';
import { inferenceSettings } from '../inference/inference-settings.js';
import { readBundleManifest } from '../morphable/bundle.js';
import { EnrollmentWorker, type JobReport } from '../jobs/enrollment-worker.js';
import { JobRepository, type RecoveryReport } from '../store/job-repository.js';
import { PhotoEvents } from '../gallery/photo-events.js';
import type { Cleanups } from '../core/lifecycle.js';
import type { Readiness } from '../observability/readiness.js';
import { openDatabase, type Database } from '../store/database.js';
import { PgVectorTable } from '../store/pgvector.js';
import { SqlitePhotoInserts } from '../store/sqlite-photo-inserts.js';
import { SqliteEnrollmentSaves } from '../store/sqlite-enrollment-saves.js';

/** What starts a process of the service (`startServer`, `startWorker`). */
export interface ProcessOptions {
  readonly config: Config;
  /** An already open encoder (kept open on close), used for the served bundle of its id; the others are opened from config.bundles. */
  readonly encoder?: BundleEncoder;
  readonly log?: (line: string) => void;
}

/** Where a process's start-up lines go: options.log, else stderr. */
export function logTo(options: ProcessOptions): (line: string) => void {
  return options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
}

export interface Service {
  readonly services: ApiServices;
  readonly worker: EnrollmentWorker;
  readonly recovery: RecoveryReport;
  /** Not started: what other processes write reaches this one's indexes and subscribers once it is. */
  readonly feed: ChangeFeed;
  /** The gallery's photo folder, and its READY photos whose file is not there (start-up's check). */
  readonly photoFiles: PhotoFilesReport;
  readonly store: GalleryStore;
}

export interface PhotoFilesReport {
  readonly folder: string;
  readonly missing: readonly string[];
}

/** The start-up line's part on photo files, and a warning naming the missing ones (none when all are there). */
export function describePhotoFiles(report: PhotoFilesReport): { summary: string; warning: string | null } {
  const { missing } = report;
  const summary = `photos in ${report.folder}, ${missing.length} missing`;
  if (missing.length === 0) return { summary, warning: null };
  // The count is always given; `face3d check` lists every id.
  return {
    summary,
    warning: `${missing.length} READY photo(s) have no file in ${report.folder} (downloads answer PHOTO_MISSING; restore them from a backup, see face3d check): ${listIds(missing)}`,
  };
}

export interface ServiceOptions {
  /** False for a process that only runs jobs (`face3d worker`): it searches nothing, so it loads no vectors. */
  readonly index?: boolean;
  /**
   * False for a command that only searches the gallery (`face3d identify` without --server): it
   * leaves the start-up repair to the gallery's own processes, since on SQLite the repair takes every
   * RUNNING job for a dead process's and would requeue a running server's.
   */
  readonly repair?: boolean;
  readonly onJobSettled?: (report: JobReport) => void;
}

function servedBundle(encoder: BundleEncoder, targetFpir: number) {
  const { manifest } = encoder.bundle;
  return {
    index: new GalleryIndex(manifest.id, manifest.shape.components + manifest.texture.components),
    analyser: encoder,
    bundle: encoder.bundle,
    decision: new ThresholdPolicy(manifest.calibration, targetFpir),
  };
}

/**
 * The gallery and its worker over an open database: indexes loaded, leftovers repaired, worker not
 * started. What it opens that must be closed (the mesh pool's threads) goes on `cleanups`, so each
 * owner (server, `face3d worker`, the CLI's local gallery, benchmarks) closes it with the rest.
 */
export async function openService(config: Config, database: Database, encoders: readonly BundleEncoder[], logError: (error: unknown) => void, cleanups: Cleanups, options: ServiceOptions = {}): Promise<Service> {
  const withIndex = options.index ?? true;
  const [defaultEncoder, ...otherEncoders] = encoders;
  const vectors = database.vectorExtension ? new PgVectorTable(database.prisma) : undefined;
  const store = new GalleryStore(database.prisma, { provider: database.provider, vectors });
  const jobs = new JobRepository(store);
  const events = new PhotoEvents();
  const keys = new ApiKeys(store);
  const folder = await openPhotoFolder(database.prisma, config);
  const { blobs } = folder;
  const { decodeLimits } = inferenceSettings(config);
  const meshPool = new MeshPool({ threads: config.meshThreads, maxQueued: config.meshQueue });
  cleanups.push(() => meshPool.close());
  const photoInserts = database.file === undefined ? undefined : SqlitePhotoInserts.open(database.file, config.busyTimeoutMs);
  if (photoInserts) cleanups.push(async () => photoInserts.close());
  const enrollmentSaves = database.file === undefined ? undefined : SqliteEnrollmentSaves.open(database.file, config.busyTimeoutMs);
  if (enrollmentSaves) cleanups.push(async () => enrollmentSaves.close());
  const gallery = new Gallery({
    ...servedBundle(defaultEncoder, config.targetFpir),
    otherBundles: otherEncoders.map((encoder) => servedBundle(encoder, config.targetFpir)),
    store,
    blobs,
    decodeLimits,
    events,
    meshPool,
    indexed: withIndex,
    onQueued: () => worker.wake(),
    photoInserts,
    enrollmentSaves,
  });
  const worker = new EnrollmentWorker({
    jobs,
    gallery,
    blobs,
    analyser: defaultEncoder,
    otherAnalysers: otherEncoders,
    decodeLimits,
    concurrency: config.workers,
    leaseMs: config.jobLeaseMs,
    onError: logError,
    onJobSettled: options.onJobSettled,
  });
  await vectors?.ensure(encoders.map(({ bundle: { manifest } }) => ({ id: manifest.id, dimension: manifest.shape.components + manifest.texture.components })));
  const feed = await ChangeFeed.fromNow(store, {
    intervalMs: config.syncIntervalMs,
    apply: withIndex ? applyToGallery(gallery) : async () => undefined,
    onError: logError,
  });
  if (withIndex) await gallery.loadIndex();
  // An embedded database belongs to this host's processes; a server's queue may have live workers elsewhere.
  const repair = options.repair ?? true;
  const recovery = repair ? await jobs.recover({ exclusive: database.kind !== 'postgres' }) : { requeued: 0, failed: 0, enqueued: 0 };
  if (repair) await gallery.sweepBlobs(folder.claimedAt, new Date(Date.now() - SWEEP_GRACE_MS));
  const photoFiles = { folder: blobs.root, missing: await gallery.photosWithoutFile(['READY']) };
  if (config.adminKey) await keys.ensureBootstrapKey(config.adminKey);
  return { services: { gallery, keys, events, config }, worker, recovery, feed, photoFiles, store };
}

/** One encoder per configured bundle, in order; `given` stands in for the bundle of its id. */
export async function openEncoders(config: Config, given: BundleEncoder | undefined, cleanups: Cleanups): Promise<BundleEncoder[]> {
  const encoders: BundleEncoder[] = [];
  const settings = inferenceSettings(config);
  for (const entry of config.bundles) {
    const dir = bundleDirOf(entry, config.modelsDir);
    if (given && (entry === given.bundleId || (await readBundleManifest(dir)).id === given.bundleId)) {
      encoders.push(given);
      continue;
    }
    const encoder = await openBundleEncoder(dir, settings);
    cleanups.push(() => encoder.close());
    encoders.push(encoder);
  }
  const ids = encoders.map((encoder) => encoder.bundleId);
  if (new Set(ids).size !== ids.length) throw new Face3dError('MODEL_UNAVAILABLE', `FACE3D_BUNDLES names bundle ids twice: ${ids.join(', ')}`);
  return encoders;
}

/** The database (migrated) and one encoder per served bundle, closed by `cleanups`; each step finished in `readiness`. */
export async function openDatabaseAndEncoders(config: Config, given: BundleEncoder | undefined, cleanups: Cleanups, readiness: Readiness): Promise<{ database: Database; encoders: BundleEncoder[] }> {
  const database = await openDatabase(config.databaseUrl, { busyTimeoutMs: config.busyTimeoutMs });
  cleanups.push(() => database.close());
  readiness.finish('migrations');
  readiness.watchDatabase(() => database.prisma.$queryRawUnsafe('SELECT 1'));
  const encoders = await openEncoders(config, given, cleanups);
  readiness.finish('models');
  return { database, encoders };
}
