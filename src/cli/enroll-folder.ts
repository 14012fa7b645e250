/**
 * Bulk enrollment of a folder-per-subject tree (LFW's layout: `<dir>/<Person>/<photos>`), one
 * photo per request so that one bad file fails only itself. Resumable: a photo whose bytes
 * (SHA-256) the subject already has is skipped before upload, whatever its status, so a second
 * run over the same folder enrolls only what the first did not reach.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256Hex } from '../store/blob-store.js';
import { listPeople } from '../dataset/folder-dataset.js';
import { mapConcurrent } from '../core/concurrency.js';
import { isFace3dError } from '../core/errors.js';
import { SETTLED, type GalleryClient, type PhotoState } from './gallery-client.js';
import { errorRecord } from './output.js';
import type { Progress } from './progress.js';

export interface EnrollFolderOptions {
  readonly concurrency: number;
  /** New photos to upload at most; already enrolled ones do not count. */
  readonly limit?: number;
  /** Wait until every uploaded photo is READY or FAILED. */
  readonly wait: boolean;
  /** Give up waiting after this long; the rest are reported as pending. */
  readonly waitTimeoutMs?: number;
  readonly pollMs?: number;
}

export interface EnrollFailure {
  /** `<Person>/<file>`, relative to the folder. */
  readonly file: string;
  readonly code: string;
  readonly message: string;
}

export interface EnrollSummary {
  readonly subjects: { readonly seen: number; readonly created: number };
  readonly photos: {
    /** Image files found. */
    readonly found: number;
    /** Uploaded by this run. */
    readonly uploaded: number;
    /** Already enrolled before this run (same bytes, same subject). */
    readonly skipped: number;
    /** Not looked at: --limit was reached. */
    readonly notAttempted: number;
    /** Of this run's: refused at upload, or failed enrollment. */
    readonly failed: number;
    readonly ready: number;
    /** Still PENDING or PROCESSING (with --no-wait, or when waiting timed out). */
    readonly pending: number;
  };
  /** Statuses of the skipped photos, e.g. how many earlier failures are not retried. */
  readonly skippedByStatus: Readonly<Record<string, number>>;
  readonly failuresByCode: Readonly<Record<string, number>>;
  readonly failures: readonly EnrollFailure[];
  readonly seconds: number;
}

export interface FolderPhoto {
  readonly person: string;
  /** Relative to the folder. */
  readonly file: string;
}

interface KnownSubject {
  readonly id: string;
  readonly created: boolean;
  readonly photos: ReadonlyMap<string, PhotoState>;
}

/** Wrong keys and missing rights fail every photo alike: the run stops instead of failing them one by one. */
const FATAL_CODES: ReadonlySet<string> = new Set(['UNAUTHENTICATED', 'FORBIDDEN']);

function isPhotoFailure(error: unknown): boolean {
  return isFace3dError(error) && !FATAL_CODES.has(error.code);
}

export function countBy<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Every photo of every person's folder, people and files in name order. */
export async function listFolderPhotos(dir: string): Promise<FolderPhoto[]> {
  return (await listPeople(dir)).flatMap((person) => person.images.map((file) => ({ person: person.name, file })));
}

/** Enrolls `photos` (from {@link listFolderPhotos}) of the folder `dir`. */
export async function enrollFolder(gallery: GalleryClient, dir: string, photos: readonly FolderPhoto[], options: EnrollFolderOptions, progress: Progress): Promise<EnrollSummary> {
  const started = Date.now();
  const subjects = new Map<string, Promise<KnownSubject>>();
  /** Concurrent photos of one person share one lookup, so the subject is created once. */
  const subjectOf = (person: string): Promise<KnownSubject> => {
    let known = subjects.get(person);
    if (!known) {
      known = gallery.subjectFor(person).then(async ({ id, created }) => ({
        id,
        created,
        photos: new Map((created ? [] : await gallery.photosOf(id)).map((photo) => [photo.sha256, photo])),
      }));
      subjects.set(person, known);
    }
    return known;
  };

  const uploaded = new Map<string, FolderPhoto>();
  const skipped: PhotoState[] = [];
  const failures: EnrollFailure[] = [];
  let notAttempted = 0;
  let uploads = 0;
  let fatal: unknown;
  const limitReached = (): boolean => options.limit !== undefined && uploads >= options.limit;
  const detail = (): string => `new ${uploaded.size}, skipped ${skipped.length}, failed ${failures.length}`;

  progress.start('upload', photos.length);
  let done = 0;
  await mapConcurrent(photos, options.concurrency, async (photo) => {
    try {
      if (fatal !== undefined) return;
      if (limitReached()) {
        notAttempted++;
        return;
      }
      let bytes: Buffer;
      try {
        bytes = await readFile(join(dir, photo.file));
      } catch (error) {
        failures.push({ file: photo.file, ...errorRecord(error) });
        return;
      }
      const subject = await subjectOf(photo.person);
      const existing = subject.photos.get(sha256Hex(bytes));
      if (existing) {
        skipped.push(existing);
        return;
      }
      if (limitReached()) {
        notAttempted++;
        return;
      }
      uploads++;
      try {
        const state = await gallery.enrollPhoto(subject.id, { bytes, name: photo.file.split('/').at(-1)! });
        uploaded.set(state.id, photo);
      } catch (error) {
        if (!isPhotoFailure(error)) throw error;
        failures.push({ file: photo.file, ...errorRecord(error) });
      }
    } catch (error) {
      fatal ??= error;
    } finally {
      progress.update(++done, detail());
    }
  });
  progress.stop();
  if (fatal !== undefined) throw fatal;

  const states = options.wait && uploaded.size > 0 ? await waitForSettled(gallery, [...uploaded.keys()], options, progress) : await gallery.photoStates([...uploaded.keys()]);
  for (const state of states) {
    if (state.status === 'FAILED') failures.push({ file: uploaded.get(state.id)!.file, code: state.error?.code ?? 'INTERNAL', message: state.error?.message ?? '' });
  }
  const known = await Promise.all(subjects.values());
  return {
    subjects: { seen: known.length, created: known.filter((subject) => subject.created).length },
    photos: {
      found: photos.length,
      uploaded: uploaded.size,
      skipped: skipped.length,
      notAttempted,
      failed: failures.length,
      ready: states.filter((state) => state.status === 'READY').length,
      pending: states.filter((state) => !SETTLED.has(state.status)).length,
    },
    skippedByStatus: countBy(skipped, (photo) => photo.status),
    failuresByCode: countBy(failures, (failure) => failure.code),
    failures: failures.sort((a, b) => a.file.localeCompare(b.file)),
    seconds: (Date.now() - started) / 1000,
  };
}

/** Polls until every photo is READY or FAILED (or the timeout): the latest state of each. */
async function waitForSettled(gallery: GalleryClient, ids: readonly string[], options: EnrollFolderOptions, progress: Progress): Promise<PhotoState[]> {
  const deadline = options.waitTimeoutMs === undefined ? Infinity : Date.now() + options.waitTimeoutMs;
  const latest = new Map<string, PhotoState>();
  let pending = [...ids];
  const poll = async (): Promise<void> => {
    for (const state of await gallery.photoStates(pending)) latest.set(state.id, state);
    pending = pending.filter((id) => latest.has(id) && !SETTLED.has(latest.get(id)!.status));
  };
  await poll();
  // Photos enrolled while the others were uploading are done before the clock starts, so the rate is this phase's own.
  progress.start('enroll', ids.length, ids.length - pending.length);
  try {
    for (;;) {
      const failed = [...latest.values()].filter((state) => state.status === 'FAILED').length;
      progress.update(ids.length - pending.length, `ready ${ids.length - pending.length - failed}, failed ${failed}`);
      if (pending.length === 0 || Date.now() >= deadline) return [...latest.values()];
      await sleep(options.pollMs ?? 500);
      await poll();
    }
  } finally {
    progress.stop();
  }
}
