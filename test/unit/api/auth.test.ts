import { describe, expect, it } from '@jest/globals';
import { requireRole } from '../../../src/api/auth.js';
import { roleAllows } from '../../../src/auth/api-keys.js';

describe('roles', () => {
  it('include each other: admin ⊃ enroll ⊃ read', () => {
    expect(roleAllows('admin', 'enroll')).toBe(true);
    expect(roleAllows('enroll', 'read')).toBe(true);
    expect(roleAllows('read', 'enroll')).toBe(false);
    expect(roleAllows('enroll', 'admin')).toBe(false);
  });

  it('are enforced with UNAUTHENTICATED (no valid key) and FORBIDDEN (role too low)', () => {
    const reader = { principal: { keyId: 'k', role: 'read' as const, label: 'r' } };
    expect(requireRole(reader, 'read')).toBe(reader.principal);
    expect(() => requireRole(reader, 'enroll')).toThrow(expect.objectContaining({ code: 'FORBIDDEN' }));
    expect(() => requireRole({ principal: null, problem: 'no key' }, 'read')).toThrow(expect.objectContaining({ code: 'UNAUTHENTICATED', message: 'no key' }));
  });
});
