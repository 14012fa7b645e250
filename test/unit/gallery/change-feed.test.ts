import { describe, expect, it } from '@jest/globals';
import { statusEvents } from '../../../src/gallery/change-feed.js';
import type { PhotoStatus } from '../../../src/store/enums.js';
import type { PhotoRecord } from '../../../src/store/records.js';

function photo(id: string, status: PhotoStatus, outcome: Partial<PhotoRecord> = {}): PhotoRecord {
  const at = new Date(0);
  return { id, subjectId: 's', sha256: id, storagePath: id, mimeType: 'image/png', width: 8, height: 8, status, error: null, faceBox: null, qualityFilter: 'AUTO', quality: null, createdAt: at, updatedAt: at, ...outcome };
}

const statuses = (events: readonly PhotoRecord[]) => events.map((event) => [event.id, event.status]);

describe('statusEvents', () => {
  it("gives each photo's transitions once each, in order, with the statuses their entries recorded, not the photo's status now", () => {
    const current = new Map([
      ['a', photo('a', 'READY', { quality: { score: 0.8, issues: [] } })],
      ['b', photo('b', 'FAILED', { error: { code: 'NO_FACE', message: 'no face' } })],
    ]);
    const events = statusEvents(
      [
        { photoId: 'a', status: 'PROCESSING' },
        { photoId: 'b', status: 'PROCESSING' },
        // A claim taken over by another worker repeats PROCESSING: no transition.
        { photoId: 'a', status: 'PROCESSING' },
        { photoId: 'a', status: 'READY' },
        { photoId: 'b', status: 'PENDING' },
        { photoId: 'b', status: 'PROCESSING' },
        { photoId: 'b', status: 'FAILED' },
        // The error of a READY photo set (its file gone): its status did not change.
        { photoId: 'a', status: 'READY' },
      ],
      current,
    );
    expect(statuses(events)).toEqual([
      ['a', 'PROCESSING'],
      ['b', 'PROCESSING'],
      ['a', 'READY'],
      ['b', 'PENDING'],
      ['b', 'PROCESSING'],
      ['b', 'FAILED'],
    ]);
    // Before its outcome a photo had neither an error nor a quality; the final event is the photo as read.
    expect(events[0]).toMatchObject({ status: 'PROCESSING', quality: null, error: null });
    expect(events[2]).toBe(current.get('a'));
    expect(events[3]).toMatchObject({ status: 'PENDING', error: null });
    expect(events[5]).toBe(current.get('b'));
  });

  it("stands an entry that recorded no status (written before statuses were) for the photo as it is now, once, and leaves out photos deleted since", () => {
    const current = new Map([['a', photo('a', 'READY')]]);
    const events = statusEvents(
      [
        { photoId: 'a', status: null },
        { photoId: 'gone', status: 'PROCESSING' },
        { photoId: 'a', status: null },
      ],
      current,
    );
    expect(statuses(events)).toEqual([['a', 'READY']]);
  });
});
