import { describe, expect, it } from '@jest/globals';
import { PassThrough } from 'node:stream';
import { describeSummary } from '../../src/cli/enroll-command.js';
import { countBy, type EnrollSummary } from '../../src/cli/enroll-folder.js';
import { matchSubject } from '../../src/cli/gallery-client.js';
import { formatDuration, paceOf, progressLine, progressReporter } from '../../src/cli/progress.js';

describe('progress figures', () => {
  it('derives rate and time left from steps done and time spent', () => {
    expect(paceOf(50, 200, 10_000)).toEqual({ rate: 5, etaSeconds: 30 });
    expect(paceOf(0, 200, 10_000)).toEqual({ rate: 0, etaSeconds: null });
    expect(paceOf(0, 200, 0)).toEqual({ rate: 0, etaSeconds: null });
    expect(paceOf(200, 200, 4_000).etaSeconds).toBe(0);
    // Steps done before the clock started do not count towards the rate.
    expect(paceOf(60, 100, 10_000, 50)).toEqual({ rate: 1, etaSeconds: 40 });
  });

  it('formats durations for people', () => {
    expect(formatDuration(null)).toBe('?');
    expect(formatDuration(42.4)).toBe('42s');
    expect(formatDuration(125)).toBe('2m05s');
    expect(formatDuration(3 * 3600 + 7 * 60)).toBe('3h07m');
  });

  it('writes one line with count, percentage, rate and ETA', () => {
    expect(progressLine('upload', 30, 120, 10_000, 'new 30')).toBe('upload 30/120 (25%), 3.0/s, ETA 30s, new 30');
    expect(progressLine('enroll', 0, 0, 0, '')).toBe('enroll 0/0 (100%), 0.0/s, ETA 0s');
  });

  it('prints periodic lines, and the final figures at stop, when the stream is not a terminal', () => {
    const stream = new PassThrough();
    let written = '';
    stream.on('data', (chunk: Buffer) => (written += chunk.toString()));
    const progress = progressReporter({ stream: stream as unknown as NodeJS.WriteStream, intervalMs: 60_000 });
    progress.start('upload', 3);
    progress.update(1, 'new 1');
    progress.update(3, 'new 3');
    expect(written).toBe('');
    progress.stop();
    expect(written).toMatch(/^face3d: upload 3\/3 \(100%\), [\d.]+\/s, ETA 0s, new 3\n$/);
  });

  it('prints nothing when quiet', () => {
    const stream = new PassThrough();
    const progress = progressReporter({ quiet: true, stream: stream as unknown as NodeJS.WriteStream });
    progress.start('upload', 1);
    progress.update(1, '');
    progress.stop();
    expect(stream.read()).toBeNull();
  });
});

describe('enroll bookkeeping', () => {
  it('matches a folder to a subject by externalId before name', () => {
    const subjects = [
      { id: '1', name: 'Ann', externalId: null },
      { id: '2', name: 'Someone else', externalId: 'Ann' },
      { id: '3', name: 'Bob', externalId: 'b-7' },
    ];
    expect(matchSubject(subjects, 'Ann')?.id).toBe('2');
    expect(matchSubject(subjects, 'Bob')?.id).toBe('3');
    // The search matches parts of names; only an exact name or externalId counts.
    expect(matchSubject(subjects, 'Bo')).toBeUndefined();
  });

  it('counts by key, keys in order', () => {
    expect(countBy(['NO_FACE', 'CORRUPT_IMAGE', 'NO_FACE'], (code) => code)).toEqual({ CORRUPT_IMAGE: 1, NO_FACE: 2 });
    expect(Object.keys(countBy(['b', 'a'], (code) => code))).toEqual(['a', 'b']);
  });

  it('summarises failures by code, then lists them', () => {
    const summary: EnrollSummary = {
      subjects: { seen: 2, created: 1 },
      photos: { found: 6, uploaded: 4, skipped: 2, notAttempted: 0, failed: 2, ready: 3, pending: 0 },
      skippedByStatus: { FAILED: 1, READY: 1 },
      failuresByCode: { CORRUPT_IMAGE: 1, NO_FACE: 1 },
      failures: [
        { file: 'Ann/a.jpg', code: 'CORRUPT_IMAGE', message: 'truncated' },
        { file: 'Ann/b.jpg', code: 'NO_FACE', message: 'no face found' },
      ],
      seconds: 1.25,
    };
    expect(describeSummary(summary).split('\n')).toEqual([
      '6 photos of 2 subjects (1 new): 4 uploaded, 2 already enrolled, 0 left by --limit',
      '3 ready, 2 failed, 0 pending (1.3 s)',
      '1 of the photos already enrolled had failed before and were not retried',
      'failures by code:',
      '  CORRUPT_IMAGE      1',
      '  NO_FACE            1',
      '  Ann/a.jpg: CORRUPT_IMAGE: truncated',
      '  Ann/b.jpg: NO_FACE: no face found',
    ]);
  });
});
