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
  it("gives each entry's photo in order, as of the status the entry recorded, not the photo's status now (repeats are PhotoEvents' to drop)", () => {
    const current = new Map([
      ['a', photo('a', 'READY', { quality: { score: 0.8, issues: [] } })],
      ['b', photo('b', 'FAILED', { error: { code: 'NO_FACE', message: 'no face' } })],
    ]);
    const events = statusEvents(
      [
        { photoId: 'b', status: 'PENDING' },
        { photoId: 'a', status: 'PROCESSING' },
        { photoId: 'b', status: 'PROCESSING' },
        { photoId: 'a', status: 'READY' },
        { photoId: 'b', status: 'FAILED' },
      ],
      current,
    );
    expect(statuses(events)).toEqual([
      ['b', 'PENDING'],
      ['a', 'PROCESSING'],
      ['b', 'PROCESSING'],
      ['a', 'READY'],
      ['b', 'FAILED'],
    ]);
    // Before its outcome a photo had neither an error nor a quality; the final event is the photo as read.
    expect(events[0]).toMatchObject({ status: 'PENDING', error: null, quality: null });
    expect(events[1]).toMatchObject({ status: 'PROCESSING', quality: null, error: null });
    expect(events[3]).toBe(current.get('a'));
    expect(events[4]).toBe(current.get('b'));
  });

  it('stands an entry that recorded no status (written before statuses were) for the photo as it is now, and leaves out photos deleted since', () => {
    const current = new Map([['a', photo('a', 'READY')]]);
    const events = statusEvents(
      [
        { photoId: 'a', status: null },
        { photoId: 'gone', status: 'PROCESSING' },
      ],
      current,
    );
    expect(events).toEqual([current.get('a')]);
  });
});
