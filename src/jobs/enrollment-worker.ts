/**
 * Runs enrollment jobs in this process: read the stored photo, decode, find the face (the
 * largest, or the box given at enrollment), regress its 3DMM vector under every served bundle,
 * store them. Failures the photo itself causes (no face, undecodable) fail the photo at once with
 * their code; anything else is retried up to the job's attempt limit.
 *
 * With no job to run, it backfills: stored faces with no vector under a served bundle (photos
 * enrolled before the bundle was served: an upgrade that changed the default bundle, a bundle added
 * to FACE3D_BUNDLES) are encoded again from their photo under that bundle, as a fresh enrollment
 * of the photo would encode the same face.
 */
import type { BlobStore } from '../store/blob-store.js';
import type { Gallery } from '../gallery/gallery.js';
import type { FaceAnalyser } from '../inference/bundle-encoder.js';
import type { AddedFaceVector, EncodedFaceRecord, FaceToSave, FaceWithoutVector } from '../store/photo-repository.js';
import type { PhotoError, PhotoRecord } from '../store/records.js';
import { Face3dError, isFace3dError, type ErrorCode } from '../core/errors.js';
import { decodeImage, type DecodeLimits } from '../inference/decode.js';
import type { IdentityVector } from '../core/vector.js';
import type { Box, RgbImage } from '../core/image.js';
import { assertFiniteCoefficients } from '../gallery/coefficients.js';
import type { ClaimedJob, ClaimedWork, JobRepository, SaveTransaction } from '../store/job-repository.js';
import { assessQuality, LowQualityError, measureQuality, refusedFor } from '../gallery/quality.js';
import { performance } from 'node:perf_hooks';
import { MicroBatcher } from '../inference/batcher.js';

export interface EnrollmentWorkerOptions {
  readonly jobs: JobRepository;
  /** Owns what a job's outcome means: the face stored, indexed and published, or the photo's new status published. */
  readonly gallery: Pick<Gallery, 'enrollFaces' | 'photoChanged' | 'claimFacesWithoutVector' | 'addFaceVectors'>;
  readonly blobs: BlobStore;
  /** The default bundle's: it picks the face and records its box, pose and expression. */
  readonly analyser: FaceAnalyser;
  /** The other bundles', each encoding the face the first one found. */
  readonly otherAnalysers?: readonly FaceAnalyser[];
  readonly decodeLimits: DecodeLimits;
  readonly concurrency: number;
  /** A claimed job not finished by then may be claimed again (its worker is presumed dead). */
  readonly leaseMs?: number;
  /** How often idle loops look for work nobody announced (jobs queued by another process: an API server's uploads). */
  readonly pollMs?: number;
  readonly onError?: (error: unknown) => void;
  /** How long an idle worker waits, after a backfill sweep found no more faces to encode, before it looks again (default 60 s). */
  readonly backfillRescanMs?: number;
  /** Once per job run, however it ended (its log line and metrics). */
  readonly onJobSettled?: (report: JobReport) => void;
}

/** DONE; RETRY: queued again; FAILED: the photo failed; GONE: the photo was deleted meanwhile; ERROR: not settled (a database error), its lease will free it. */
export type JobOutcome = 'DONE' | 'RETRY' | 'FAILED' | 'GONE' | 'ERROR';

export interface JobReport {
  readonly job: ClaimedJob;
  readonly outcome: JobOutcome;
  /** OK, or the typed code of the failure. */
  readonly code: string;
  readonly seconds: number;
}

/** Codes that say the photo itself is unusable: retrying cannot help. */
const PERMANENT: ReadonlySet<ErrorCode> = new Set(['NO_FACE', 'LOW_QUALITY', 'CORRUPT_IMAGE', 'UNSUPPORTED_IMAGE', 'IMAGE_TOO_LARGE', 'BAD_USER_INPUT', 'PHOTO_MISSING', 'PHOTO_CORRUPT']);

/** Renewed every third of it while the job runs, so a dead worker's jobs are free again within a minute. */
const DEFAULT_LEASE_MS = 60_000;
/**
 * A photo uploaded to another process (an API server) waits for the next poll before work on it
 * starts: at 2 s that was up to a fifth of a 600-photo enrollment at 60 photos/s. Idle loops wake
 * together on one timer, so an idle worker polls with one or two claims per tick, not one per loop.
 */
const DEFAULT_POLL_MS = 250;

export function failureOf(error: unknown): { error: PhotoError; retryable: boolean } {
  if (isFace3dError(error)) return { error: { code: error.code, message: error.message }, retryable: !PERMANENT.has(error.code) };
  return { error: { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) }, retryable: true };
}

/** A claimed job with its photo, or null for a loop that found none. */
type Claimed = ClaimedWork | null;

/**
 * A saved face's photo (null: deleted meanwhile, or another worker stored it first) and its loop's
 * next job, claimed in the same transaction (null: none was runnable, or the worker is stopping);
 * or why the face was not saved.
 */
type SaveOutcome = { readonly photo: PhotoRecord | null; readonly next: Claimed } | { readonly error: unknown };

/** How a job's run ended, and its loop's next job when the save claimed one (undefined: the loop claims as usual). */
interface Processed {
  readonly outcome: JobOutcome;
  readonly code: string;
  readonly next?: Claimed;
}

/** Faces encoded per backfill round, between looks at the queue: a photo uploaded meanwhile waits for at most this many. */
export const BACKFILL_BATCH = 8;
/**
 * Once a sweep is done, a face lacks a vector again only when a process serving fewer bundles
 * enrolled it (a rolling upgrade): looking again at every idle poll would cost a query per bundle
 * four times a second for nothing.
 */
const DEFAULT_BACKFILL_RESCAN_MS = 60_000;

/** The longest a claim, or a finished job's face, waits for one in progress before it is written on its own. */
const WRITE_WAIT_MS = 200;

export class EnrollmentWorker {
  private running = false;
  private readonly loops: Promise<void>[] = [];
  private readonly sleepers = new Set<() => void>();
  private idleWaiters: (() => void)[] = [];
  private busy = 0;
  /** Jobs between their claim and their face (or failure): each will soon want a save. */
  private encoding = 0;
  private readonly inProgress = new Set<string>();
  private renewTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  /** One loop backfills at a time; the others sleep until a job comes. */
  private backfilling = false;
  /**
   * The faces the backfill round in progress claimed and has not given up on (encoding, or encoded
   * and not yet stored): their claims are renewed with the jobs' leases, so a round slower than the
   * lease keeps them; a face passed over is left to its lease.
   */
  private backfillClaims: { readonly bundleId: string; readonly faceIds: Set<string> } | undefined;
  /**
   * By bundle, the faces this process could not encode under it (photo unreadable, no face in the
   * box): left out of its backfill until it restarts, so one bad photo is reported once, not retried forever.
   */
  private readonly passedOver = new Map<string, Set<string>>();
  /** By bundle, the last face the current sweep looked at: the next look starts after it. */
  private readonly sweptTo = new Map<string, string>();
  /** Bundles the current sweep found nothing more to encode under: not looked at again until the next sweep. */
  private readonly swept = new Set<string>();
  /** When the next sweep may start, after one that found nothing more to encode. */
  private nextSweepAt = 0;

  /**
   * Loops that look for work while another claim is being written claim together, and faces of
   * jobs that finish while an earlier save is being written are stored together, each in one
   * transaction as soon as the one in progress commits: one write (and one lock, with several
   * processes on SQLite) for several photos. The save also claims the next job of each loop whose
   * face it stores, so a busy worker writes one transaction per batch, not two. A face also waits
   * (at most WRITE_WAIT_MS) for those of the worker's other jobs still being encoded: on its one
   * thread they finish one after another, never during a save, so without waiting nearly every
   * save held one face, and a transaction of one face costs about three times the database CPU
   * per face of one of eight (docs/BENCHMARKS.md §53).
   */
  private readonly claims: MicroBatcher<void, Claimed>;
  private readonly saves: MicroBatcher<FaceToSave, SaveOutcome>;

  constructor(private readonly options: EnrollmentWorkerOptions) {
    const batching = { maxBatch: Math.max(1, options.concurrency), maxDelayMs: WRITE_WAIT_MS };
    this.claims = new MicroBatcher((loops) => this.claimTogether(loops.length), batching);
    this.saves = new MicroBatcher((faces) => this.saveTogether(faces), { ...batching, moreComing: () => this.encoding > 0 });
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    for (let i = 0; i < this.options.concurrency; i++) this.loops.push(this.loop());
    this.renewTimer = setInterval(() => this.renewLeases(), this.leaseMs / 3);
  }

  /** The leases of the jobs in progress, and the claims of the backfill round in progress. */
  private renewLeases(): void {
    const report = (error: unknown): void => this.options.onError?.(error);
    this.options.jobs.renewLeases([...this.inProgress], this.leaseMs).catch(report);
    const claims = this.backfillClaims;
    if (claims) this.options.jobs.renewFaceVectorClaims(claims.bundleId, [...claims.faceIds], this.leaseMs).catch(report);
  }

  private get leaseMs(): number {
    return this.options.leaseMs ?? DEFAULT_LEASE_MS;
  }

  /** New jobs were queued. */
  wake(): void {
    clearTimeout(this.pollTimer);
    this.pollTimer = undefined;
    for (const wakeUp of [...this.sleepers]) wakeUp();
  }

  /** Lets running jobs finish, then stops; queued jobs stay queued for the next start. */
  async stop(): Promise<void> {
    this.running = false;
    clearInterval(this.renewTimer);
    this.wake();
    await Promise.all(this.loops.splice(0));
  }

  /** Resolves once no job is running and none is waiting, and the backfill found nothing more to encode (tests, benchmarks). */
  idle(): Promise<void> {
    return new Promise((resolve) => {
      this.idleWaiters.push(resolve);
      this.wake();
    });
  }

  private async loop(): Promise<void> {
    // A job the last save claimed for this loop (null: it found none); undefined: claim as usual.
    let next: Claimed | undefined;
    // A job already claimed is run even when the worker is stopping, so it is not left RUNNING.
    while (this.running || next) {
      let claimed: Claimed = null;
      let backfilled = false;
      this.busy++;
      try {
        claimed = next === undefined ? await this.claims.submit() : next;
        next = undefined;
        if (claimed) {
          this.inProgress.add(claimed.job.id);
          this.options.gallery.photoChanged(claimed.photo);
          next = await this.run(claimed.job, claimed.photo);
        } else if (this.running && !this.backfilling) {
          backfilled = await this.backfill();
        }
      } catch (error) {
        this.options.onError?.(error);
      } finally {
        if (claimed) this.inProgress.delete(claimed.job.id);
        this.busy--;
      }
      // The save found the queue empty: sleep as a loop whose claim found nothing does (unless it backfilled: it looks for more).
      if ((!claimed && !backfilled) || next === null) {
        next = undefined;
        await this.sleep();
      }
    }
  }

  private async sleep(): Promise<void> {
    if (this.busy === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
    if (!this.running) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        this.sleepers.delete(done);
        resolve();
      };
      this.sleepers.add(done);
      this.pollTimer ??= setTimeout(() => this.wake(), this.options.pollMs ?? DEFAULT_POLL_MS);
    });
  }

  /** Processes the job and reports how it ended, also when processing throws; the loop's next job when the save claimed it. */
  private async run(job: ClaimedJob, photo: PhotoRecord): Promise<Claimed | undefined> {
    const started = performance.now();
    const report = (outcome: JobOutcome, code: string): void => this.options.onJobSettled?.({ job, outcome, code, seconds: (performance.now() - started) / 1000 });
    try {
      const { outcome, code, next } = await this.process(job, photo);
      report(outcome, code);
      return next;
    } catch (error) {
      report('ERROR', failureOf(error).error.code);
      throw error;
    }
  }

  private async process(job: ClaimedJob, photo: PhotoRecord): Promise<Processed> {
    let encoded: EncodedFaceRecord;
    try {
      encoded = await this.encodeCounted(photo);
    } catch (error) {
      const failure = failureOf(error);
      const settled = await this.options.jobs.settleFailure(job, failure.error, failure.retryable, error instanceof LowQualityError ? error.quality : undefined);
      if (settled) this.options.gallery.photoChanged(settled);
      const outcome = settled === null ? 'GONE' : settled.status === 'FAILED' ? 'FAILED' : 'RETRY';
      return { outcome, code: failure.error.code };
    }
    const saved = await this.saves.submit({ photoId: photo.id, jobId: job.id, face: encoded });
    if ('error' in saved) throw saved.error;
    return { outcome: saved.photo ? 'DONE' : 'GONE', code: 'OK', next: saved.next };
  }

  /** Up to `count` jobs in one transaction; null for each loop that found none. */
  private async claimTogether(count: number): Promise<Claimed[]> {
    const claimed = await this.options.jobs.claimMany(count, this.leaseMs);
    return Array.from({ length: count }, (_, i) => claimed[i] ?? null);
  }

  /**
   * One transaction for the batch, which also claims a next job for each of its loops (none once
   * the worker is stopping); if it fails, each face alone, so one photo's failure stays its own.
   * The claims count only once the transaction commits: one that rolls back takes them back too.
   */
  private async saveTogether(faces: readonly FaceToSave[]): Promise<SaveOutcome[]> {
    let claimed: ClaimedWork[] = [];
    const claimNext = async (tx: SaveTransaction): Promise<void> => {
      claimed = await this.options.jobs.claimIn(tx, this.running ? faces.length : 0, this.leaseMs);
    };
    try {
      const photos = await this.options.gallery.enrollFaces(faces, claimNext);
      return photos.map((photo, i) => ({ photo, next: claimed[i] ?? null }));
    } catch (error) {
      if (faces.length === 1) return [{ error }];
      return Promise.all(faces.map(async (face) => (await this.saveTogether([face]))[0]));
    }
  }

  private async encodeCounted(photo: PhotoRecord): Promise<EncodedFaceRecord> {
    this.encoding++;
    try {
      return await this.encode(photo);
    } finally {
      this.encoding--;
    }
  }

  private async encode(photo: PhotoRecord): Promise<EncodedFaceRecord> {
    const image = await decodeImage(await this.options.blobs.read(photo.storagePath), this.options.decodeLimits);
    const [face] = await this.options.analyser.encode(image, photo.faceBox ? { faceBox: photo.faceBox } : {});
    if (!face) {
      const where = photo.faceBox ? 'in the given face box' : 'in the photo';
      throw new Face3dError('NO_FACE', `no face found ${where}`);
    }
    assertFiniteCoefficients(face.vector);
    // A given face box settles which face is meant: other faces are then no ambiguity.
    const quality = assessQuality(measureQuality(image, face, photo.faceBox ? [] : face.otherFaces));
    const refused = refusedFor(photo.qualityFilter, quality);
    if (refused.length > 0) throw new LowQualityError(quality, refused, photo.qualityFilter);
    const otherVectors = await Promise.all((this.options.otherAnalysers ?? []).map((analyser) => this.encodeSameFace(analyser, image, photo.faceBox ?? face.box)));
    return { box: face.box, score: face.score, pose: face.pose, expression: face.expression, landmarks: face.landmarks.points, ...face.vector, otherVectors, quality: { score: quality.score, issues: quality.issues } };
  }

  /**
   * Encodes up to BACKFILL_BATCH stored faces under the first served bundle that lacks vectors of
   * some, and stores them; false when no face lacks one. A face it cannot encode is passed over
   * (reported once); one deleted meanwhile, or stored first by another worker, is left out by the store.
   */
  private async backfill(): Promise<boolean> {
    if (performance.now() < this.nextSweepAt) return false;
    this.backfilling = true;
    try {
      for (const analyser of [this.options.analyser, ...(this.options.otherAnalysers ?? [])]) {
        if (this.swept.has(analyser.bundleId)) continue;
        const passedOver = this.passedOverUnder(analyser.bundleId);
        // Claimed for this worker alone while it encodes them: other workers sweeping meanwhile take the faces after them.
        const { faces, lookedTo } = await this.options.gallery.claimFacesWithoutVector(analyser.bundleId, BACKFILL_BATCH, {
          after: this.sweptTo.get(analyser.bundleId),
          passedOver,
          leaseMs: this.leaseMs,
        });
        if (lookedTo === undefined) {
          this.sweptTo.delete(analyser.bundleId);
          this.swept.add(analyser.bundleId);
          continue;
        }
        this.sweptTo.set(analyser.bundleId, lookedTo);
        const claims = { bundleId: analyser.bundleId, faceIds: new Set(faces.map((face) => face.faceId)) };
        this.backfillClaims = claims;
        const vectors: AddedFaceVector[] = [];
        for (const face of faces) {
          if (!this.running) break;
          try {
            const image = await decodeImage(await this.options.blobs.read(face.storagePath), this.options.decodeLimits);
            vectors.push({ faceId: face.faceId, ...(await this.encodeStoredFace(analyser, image, face)) });
          } catch (error) {
            passedOver.add(face.faceId);
            claims.faceIds.delete(face.faceId);
            const { code, message } = failureOf(error).error;
            this.options.onError?.(new Error(`face ${face.faceId} (photo ${face.photoId}) gets no vector under bundle ${analyser.bundleId} until this process restarts: ${code}: ${message}`, { cause: error }));
          }
        }
        await this.options.gallery.addFaceVectors(vectors);
        return true;
      }
      this.nextSweepAt = performance.now() + (this.options.backfillRescanMs ?? DEFAULT_BACKFILL_RESCAN_MS);
      this.swept.clear();
      return false;
    } finally {
      this.backfillClaims = undefined;
      this.backfilling = false;
    }
  }

  private passedOverUnder(bundleId: string): Set<string> {
    let faceIds = this.passedOver.get(bundleId);
    if (!faceIds) this.passedOver.set(bundleId, (faceIds = new Set()));
    return faceIds;
  }

  /**
   * The vector a fresh enrollment of the stored face's photo gets under `analyser`'s bundle. Other
   * bundles encode the box the default one found (or the given box), which is the stored box. The
   * default bundle finds the face itself, and a face found starts its landmarks from the detector's
   * keypoints, which a box alone lacks: the faces are found again and the one over the stored box
   * encoded, in one pass of the bundle's networks (the largest face, as at enrollment, when it is
   * that one). Where none is, the stored box is encoded, and said so: the vector then differs a
   * little from a fresh enrollment's.
   */
  private async encodeStoredFace(analyser: FaceAnalyser, image: RgbImage, face: FaceWithoutVector): Promise<IdentityVector> {
    if (analyser !== this.options.analyser || face.givenBox) return this.encodeSameFace(analyser, image, face.givenBox ?? face.box);
    const [found] = await analyser.encode(image, { over: face.box });
    if (found) {
      assertFiniteCoefficients(found.vector);
      return found.vector;
    }
    this.options.onError?.(
      new Error(`face ${face.faceId} (photo ${face.photoId}) is not found again under bundle ${analyser.bundleId} (no face over its stored box): its vector is encoded from that box`),
    );
    return this.encodeSameFace(analyser, image, face.box);
  }

  private async encodeSameFace(analyser: FaceAnalyser, image: RgbImage, faceBox: Box): Promise<IdentityVector> {
    const [face] = await analyser.encode(image, { faceBox });
    if (!face) throw new Face3dError('NO_FACE', `bundle ${analyser.bundleId} found no face in the face box`);
    assertFiniteCoefficients(face.vector);
    return face.vector;
  }
}
