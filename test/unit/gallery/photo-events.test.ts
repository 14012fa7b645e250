import { describe, expect, it } from '@jest/globals';
import { PhotoEvents, REMEMBERED_PHOTOS, type PhotoFilter } from '../../../src/gallery/photo-events.js';
import type { PhotoStatus } from '../../../src/store/enums.js';
import type { PhotoRecord } from '../../../src/store/records.js';

function photo(id: string, status: PhotoStatus): PhotoRecord {
  const at = new Date(0);
  return { id, subjectId: 's', sha256: id, storagePath: id, mimeType: 'image/png', width: 8, height: 8, status, error: null, faceBox: null, qualityFilter: 'AUTO', quality: null, createdAt: at, updatedAt: at };
}

/** A subscription's events as [photo id, status], once it is closed. */
function subscribe(events: PhotoEvents, filter: PhotoFilter = {}): { close(): Promise<[string, PhotoStatus][]> } {
  const stop = new AbortController();
  const received: [string, PhotoStatus][] = [];
  const receiving = (async () => {
    for await (const event of events.subscribe(filter, stop.signal)) received.push([event.id, event.status]);
  })();
  return {
    close: async () => {
      stop.abort();
      await receiving;
      return received;
    },
  };
}

describe('PhotoEvents', () => {
  it("publishes no repeat of a photo's last published status, however many other events came between", async () => {
    const events = new PhotoEvents();
    const subscription = subscribe(events);
    const published: [string, PhotoStatus][] = [
      ['a', 'PENDING'],
      ['b', 'PENDING'],
      ['a', 'PROCESSING'],
      ['b', 'PROCESSING'],
      // A claim taken over: still PROCESSING.
      ['a', 'PROCESSING'],
      ['a', 'READY'],
      ['b', 'PENDING'],
      // The error of a READY photo set: still READY.
      ['a', 'READY'],
      ['b', 'PROCESSING'],
    ];
    for (const [id, status] of published) events.publish(photo(id, status));
    expect(await subscription.close()).toEqual([
      ['a', 'PENDING'],
      ['b', 'PENDING'],
      ['a', 'PROCESSING'],
      ['b', 'PROCESSING'],
      ['a', 'READY'],
      ['b', 'PENDING'],
      ['b', 'PROCESSING'],
    ]);
  });

  it('starts afresh after a time without subscribers (what changed meanwhile went unread), and forgets the photos least recently published past its bound', async () => {
    const events = new PhotoEvents();
    const first = subscribe(events);
    events.publish(photo('a', 'PROCESSING'));
    await first.close();
    // Nobody subscribed: unseen, as the change feed's photo entries go unread then.
    events.publish(photo('a', 'PENDING'));
    const second = subscribe(events, { photoIds: ['a', 'b', `p${REMEMBERED_PHOTOS}`] });
    events.publish(photo('a', 'PROCESSING'));
    events.publish(photo('b', 'READY'));
    for (let i = 1; i <= REMEMBERED_PHOTOS; i++) events.publish(photo(`p${i}`, 'PENDING'));
    // 'b' was forgotten, the latest photo is still remembered.
    events.publish(photo('b', 'READY'));
    events.publish(photo(`p${REMEMBERED_PHOTOS}`, 'PENDING'));
    expect(await second.close()).toEqual([
      ['a', 'PROCESSING'],
      ['b', 'READY'],
      [`p${REMEMBERED_PHOTOS}`, 'PENDING'],
      ['b', 'READY'],
    ]);
  });
});
