import { describe, expect, it } from '@jest/globals';
import { PassThrough } from 'node:stream';
import { formatDuration, paceOf, progressLine, progressReporter } from '../../../src/cli/progress.js';

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
