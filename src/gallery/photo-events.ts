/** In-process feed of photo status changes, for the `photoStatus` subscription. */
import { EventEmitter, on } from 'node:events';
import type { PhotoRecord } from '../store/records.js';

export interface PhotoFilter {
  readonly photoIds?: readonly string[] | null;
  readonly subjectId?: string | null;
}

const EVENT = 'photo';

export function matchesFilter(photo: PhotoRecord, filter: PhotoFilter): boolean {
  if (filter.photoIds && !filter.photoIds.includes(photo.id)) return false;
  if (filter.subjectId && filter.subjectId !== photo.subjectId) return false;
  return true;
}

export class PhotoEvents {
  private readonly emitter = new EventEmitter();

  constructor() {
    // One listener per open subscription; the default warning at 10 would be noise.
    this.emitter.setMaxListeners(0);
  }

  publish(photo: PhotoRecord): void {
    this.emitter.emit(EVENT, photo);
  }

  /** Whether a subscription is open. */
  subscribed(): boolean {
    return this.emitter.listenerCount(EVENT) > 0;
  }

  /** Changes from now on that pass `filter`, until the consumer stops iterating or `signal` aborts. */
  async *subscribe(filter: PhotoFilter, signal?: AbortSignal): AsyncGenerator<PhotoRecord> {
    try {
      for await (const [photo] of on(this.emitter, EVENT, { signal }) as AsyncIterableIterator<[PhotoRecord]>) {
        if (matchesFilter(photo, filter)) yield photo;
      }
    } catch (error) {
      if ((error as Error).name !== 'AbortError') throw error;
    }
  }
}
