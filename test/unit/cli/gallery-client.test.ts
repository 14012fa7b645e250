import { describe, expect, it } from '@jest/globals';
import { matchSubject } from '../../../src/cli/gallery-client.js';

describe('matchSubject', () => {
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
});
