/** In-process feed of photo status changes, for the `photoStatus` subscription. */
import { EventEmitter, on } from 'node:events';
import type { PhotoStatus } from '../store/enums.js';
import type { PhotoRecord } from '../store/records.js';

export interface PhotoFilter {
  readonly photoIds?: readonly string[] | null;
  readonly subjectId?: string | null;
}

const EVENT = 'photo';

/**
 * How many photos' last published statuses are kept (about 140 bytes each with its id: 14 MB at most): past
 * it the least recently published are forgotten, and a repeat of theirs is published again.
 */
export const REMEMBERED_PHOTOS = 100_000;

export function matchesFilter(photo: PhotoRecord, filter: PhotoFilter): boolean {
  if (filter.photoIds && !filter.photoIds.includes(photo.id)) return false;
  if (filter.subjectId && filter.subjectId !== photo.subjectId) return false;
  return true;
}

export class PhotoEvents {
  private readonly emitter = new EventEmitter();
  /** Each photo's last published status, least recently published first; kept only while someone is subscribed. */
  private readonly published = new Map<string, PhotoStatus>();

  constructor() {
    // One listener per open subscription; the default warning at 10 would be noise.
    this.emitter.setMaxListeners(0);
  }

  /**
   * Tells subscribers the photo's status changed, unless it is the status last published for the
   * photo: entries of other processes that repeat it (the error of a READY photo set, a claim taken
   * over) are no change, whichever reads of the change feed they come in, and neither is a local
   * claim of a photo whose lease ran out.
   */
  publish(photo: PhotoRecord): void {
    if (!this.subscribed() || this.published.get(photo.id) === photo.status) return;
    this.published.delete(photo.id);
    this.published.set(photo.id, photo.status);
    if (this.published.size > REMEMBERED_PHOTOS) this.published.delete(this.published.keys().next().value!);
    this.emitter.emit(EVENT, photo);
  }

  /** Whether a subscription is open. */
  subscribed(): boolean {
    return this.emitter.listenerCount(EVENT) > 0;
  }

  /** Changes from now on that pass `filter`, until the consumer stops iterating or `signal` aborts. */
  async *subscribe(filter: PhotoFilter, signal?: AbortSignal): AsyncGenerator<PhotoRecord> {
    // What was published before a time with no subscriber may have changed unseen since: the change feed reads no photo entries then.
    if (!this.subscribed()) this.published.clear();
    try {
      for await (const [photo] of on(this.emitter, EVENT, { signal }) as AsyncIterableIterator<[PhotoRecord]>) {
        if (matchesFilter(photo, filter)) yield photo;
      }
    } catch (error) {
      if ((error as Error).name !== 'AbortError') throw error;
    }
  }
}
