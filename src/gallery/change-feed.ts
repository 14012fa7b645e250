/**
 * Keeps this process's in-memory state (vector indexes, subscriptions) in step with what other
 * processes write to the same database: API servers behind a load balancer, `face3d worker`
 * processes. Writers append ChangeLog rows inside the transactions that make the changes
 * (GalleryStore.recordChange); each process polls the rows above its watermark and applies
 * those other processes wrote. Applying is idempotent, so replaying a change does no harm.
 */
import type { ChangeOp, PhotoStatus } from '../store/enums.js';
import type { PhotoRecord } from '../store/records.js';
import { ChangeWatermark } from './change-watermark.js';
import type { Gallery } from './gallery.js';
import type { ChangeEntity, GalleryStore } from '../store/gallery-store.js';

export interface Change {
  readonly id: number;
  readonly entity: ChangeEntity;
  readonly entityId: string;
  readonly op: ChangeOp;
  /** The photo's status as the change left it (a Photo entry, a Face CREATE); null otherwise, or when not recorded (older rows). */
  readonly photoStatus: PhotoStatus | null;
}

export interface ChangeFeedOptions {
  readonly intervalMs: number;
  /** How long a hole in the ids may stay open before it is taken as a rolled-back transaction. */
  readonly holeTimeoutMs?: number;
  /** Rows older than this are deleted at start and every hour. */
  readonly retentionMs?: number;
  /**
   * Applies changes in the order given: those of one read, so a run of alike changes can be applied
   * together. `ownPhotoEntries`: per photo, the id of this process's last entry for it in that read
   * (see {@link lastOwnPhotoEntries}).
   */
  readonly apply: (changes: readonly Change[], ownPhotoEntries: ReadonlyMap<string, number>) => Promise<void>;
  readonly onError?: (error: unknown) => void;
}

const READ_BATCH = 1000;
const DEFAULT_HOLE_TIMEOUT_MS = 60_000;
const DEFAULT_RETENTION_MS = 24 * 3600_000;

/** The table would otherwise grow with every enrollment for as long as a process runs. */
const PRUNE_EVERY_MS = 3600_000;

/** Deletes rows older than the retention: every live process has read them long ago. */
async function pruneChanges(store: GalleryStore, options: ChangeFeedOptions): Promise<void> {
  const before = new Date(Date.now() - (options.retentionMs ?? DEFAULT_RETENTION_MS));
  await store.write((db) => db.changeLog.deleteMany({ where: { createdAt: { lt: before } } }));
}

export class ChangeFeed {
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<number> | undefined;
  private prunedAt = Date.now();

  private constructor(
    private readonly store: GalleryStore,
    private readonly options: ChangeFeedOptions,
    private readonly watermark: ChangeWatermark,
  ) {}

  /** A reader from the feed's current end: call before loading state from the database, so nothing written meanwhile is missed. */
  static async fromNow(store: GalleryStore, options: ChangeFeedOptions): Promise<ChangeFeed> {
    await pruneChanges(store, options);
    const last = await store.read.changeLog.findFirst({ orderBy: { id: 'desc' }, select: { id: true } });
    return new ChangeFeed(store, options, new ChangeWatermark(last?.id ?? 0, options.holeTimeoutMs ?? DEFAULT_HOLE_TIMEOUT_MS));
  }

  start(): void {
    if (this.timer) return;
    const tick = (): void => {
      this.poll()
        .catch((error: unknown) => this.options.onError?.(error))
        .finally(() => {
          if (this.timer) this.timer = setTimeout(tick, this.options.intervalMs);
        });
    };
    this.timer = setTimeout(tick, this.options.intervalMs);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.polling?.catch(() => undefined);
  }

  /** Applies what other processes wrote since the last poll; the number of changes applied. */
  poll(): Promise<number> {
    this.polling ??= this.readAndApply().finally(() => (this.polling = undefined));
    return this.polling;
  }

  private async readAndApply(): Promise<number> {
    if (Date.now() - this.prunedAt > PRUNE_EVERY_MS) {
      this.prunedAt = Date.now();
      await pruneChanges(this.store, this.options);
    }
    let applied = 0;
    for (;;) {
      const rows = await this.store.read.changeLog.findMany({ where: { id: { gt: this.watermark.watermark } }, orderBy: { id: 'asc' }, take: READ_BATCH });
      const fresh = rows.filter((row) => this.watermark.isNew(row.id));
      const others = fresh.filter((row) => row.origin !== this.store.origin);
      if (others.length > 0) {
        await this.options.apply(
          others.map((row) => ({ id: row.id, entity: row.entity as ChangeEntity, entityId: row.entityId, op: row.op as ChangeOp, photoStatus: row.photoStatus as PhotoStatus | null })),
          lastOwnPhotoEntries(rows, this.store.origin),
        );
      }
      applied += others.length;
      const before = this.watermark.watermark;
      this.watermark.applied(
        fresh.map((row) => row.id),
        Date.now(),
      );
      if (rows.length < READ_BATCH || this.watermark.watermark === before) return applied;
    }
  }
}

/**
 * Per photo, the id of the last of `rows`' Photo entries `origin` (this process) wrote for it: an
 * upload, a claim, a failure, each published here as it happened. Another process's entry for the
 * photo before it is older than what this process's subscribers were told already (an upload to
 * another server whose photo this process's worker claimed, and perhaps enrolled, before the feed
 * read the upload's PENDING), so it is not published after it.
 */
function lastOwnPhotoEntries(rows: readonly { id: number; entity: string; entityId: string; op: string; origin: string | null }[], origin: string): Map<string, number> {
  const last = new Map<string, number>();
  for (const row of rows) if (row.origin === origin && row.entity === 'Photo' && row.op !== 'DELETE') last.set(row.entityId, row.id);
  return last;
}

/** Changes in order, cut where the entity or the operation changes: each run can be applied as one. */
function runsOf(changes: readonly Change[]): Change[][] {
  const runs: Change[][] = [];
  for (const change of changes) {
    const run = runs.at(-1);
    if (run && run[0].entity === change.entity && run[0].op === change.op) run.push(change);
    else runs.push([change]);
  }
  return runs;
}

/** A photo's status as an entry recorded it: an upload's new photo (CREATE, PENDING) or a photo changed (UPDATE). */
const isPhotoStatus = (change: Change): boolean => change.entity === 'Photo' && change.op !== 'DELETE';

/** A photo's status as one change entry recorded it: null in rows written before it was recorded. */
export interface PhotoTransition {
  readonly photoId: string;
  readonly status: PhotoStatus | null;
}

/**
 * What changes written by other processes mean for this process's indexes and subscribers. A run
 * of new faces is read and indexed with a few queries whatever its length, and photos (uploaded,
 * changed, or given a face) are read only when someone is subscribed. Without a subscriber the
 * photo entries are left out before the runs are cut: a worker's transaction records its faces and
 * then its next claims (photo updates), so they would cut a poll's new faces into one run, and its
 * queries, per worker transaction. Subscribers are told each photo's entries in order, each with
 * the status it recorded (see {@link statusEvents}), after the changes are applied, less those
 * before this process's own last entry for the photo (see {@link lastOwnPhotoEntries}); PhotoEvents
 * drops those that repeat the photo's last published status.
 */
export function applyToGallery(gallery: Gallery): ChangeFeedOptions['apply'] {
  return async (changes, ownPhotoEntries) => {
    const watched = gallery.watched();
    // An entry before this process's own last one for the photo: its subscribers were told a later status already.
    const toldLater = (photoId: string, change: Change): boolean => change.id < (ownPhotoEntries.get(photoId) ?? 0);
    const applying = watched ? changes : changes.filter((change) => !isPhotoStatus(change));
    const transitions: PhotoTransition[] = [];
    for (const run of runsOf(applying)) {
      const { entity, op } = run[0];
      const ids = run.map((change) => change.entityId);
      if (entity === 'Subject' && op === 'DELETE') ids.forEach((id) => gallery.forgetSubject(id));
      else if (entity === 'Face' && op === 'DELETE') ids.forEach((id) => gallery.forgetFace(id));
      else if (entity === 'Face' && op === 'CREATE') {
        const photoIds = await gallery.indexStoredFaces(ids);
        if (watched) for (const [i, photoId] of photoIds.entries()) if (photoId !== null && !toldLater(photoId, run[i])) transitions.push({ photoId, status: run[i].photoStatus });
      }
      // A face given a vector under another bundle: its vectors indexed again (the ones indexed already are replaced by themselves); its photo did not change.
      else if (entity === 'FaceVector' && op === 'CREATE') await gallery.indexStoredFaces(ids);
      else if (isPhotoStatus(run[0])) transitions.push(...run.filter((change) => !toldLater(change.entityId, change)).map((change) => ({ photoId: change.entityId, status: change.photoStatus })));
    }
    if (transitions.length > 0) await publish(gallery, transitions);
  };
}

/**
 * The events one read of the feed gives its subscribers: one per entry, in order, each the photo
 * with the status its entry recorded (photos deleted since left out). An entry written before
 * statuses were recorded stands for the photo as it is now (`current`). An entry that repeats the
 * status before it (the error of a READY photo set, a claim taken over) is left to PhotoEvents,
 * which publishes no repeat of a photo's last status, in this read or an earlier one.
 */
export function statusEvents(transitions: readonly PhotoTransition[], current: ReadonlyMap<string, PhotoRecord>): PhotoRecord[] {
  return transitions.flatMap(({ photoId, status }) => {
    const photo = current.get(photoId);
    return photo ? [asRecorded(photo, status ?? photo.status)] : [];
  });
}

/**
 * The photo as of a status it had: a photo not yet enrolled (PENDING, PROCESSING) had no outcome,
 * so the error and quality it has now are left out; its other fields are as read now.
 */
function asRecorded(photo: PhotoRecord, status: PhotoStatus): PhotoRecord {
  if (status === photo.status) return photo;
  return status === 'PENDING' || status === 'PROCESSING' ? { ...photo, status, error: null, quality: null } : { ...photo, status };
}

/** The photos' transitions to their subscribers: the photos read once, deleted ones left out. */
async function publish(gallery: Gallery, transitions: readonly PhotoTransition[]): Promise<void> {
  const ids = [...new Set(transitions.map((transition) => transition.photoId))];
  const photos = await gallery.photos.findMany(ids);
  const current = new Map(photos.flatMap((photo) => (photo ? [[photo.id, photo] as const] : [])));
  for (const photo of statusEvents(transitions, current)) gallery.photoChanged(photo);
}
