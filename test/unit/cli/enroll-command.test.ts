import { describe, expect, it } from '@jest/globals';
import { describeSummary } from '../../../src/cli/enroll-command.js';
import type { EnrollSummary } from '../../../src/cli/enroll-folder.js';

describe('the enroll summary', () => {
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
