/**
 * API keys: `f3d_<id>_<secret>` with a 256-bit random secret, shown once and stored as a salted
 * SHA-256. A slow password hash buys nothing against secrets this long and would cost every
 * request its latency. FACE3D_ADMIN_KEY (chosen by a person, not by us) is stored the same way.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Face3dError } from '../core/errors.js';
import { ApiKeyTable, type ApiKeyRow } from '../store/api-key-table.js';
import type { GalleryStore } from '../store/gallery-store.js';
import { API_KEY_ROLES, type ApiKeyRole } from '../store/enums.js';

export interface Principal {
  readonly keyId: string;
  readonly role: ApiKeyRole;
  readonly label: string;
}

export interface ApiKeyRecord {
  readonly id: string;
  readonly role: ApiKeyRole;
  readonly label: string;
  readonly createdAt: Date;
  readonly lastUsedAt: Date | null;
  readonly revokedAt: Date | null;
}

/** The label of the key made from FACE3D_ADMIN_KEY; such keys carry no id, so they are found by label. */
export const BOOTSTRAP_LABEL = 'FACE3D_ADMIN_KEY';

const KEY_PATTERN = /^f3d_([a-z0-9]{1,40})_([A-Za-z0-9_-]{43})$/;
/** lastUsedAt is a hint for administrators: at most one write per key per minute. */
const LAST_USED_RESOLUTION_MS = 60_000;
const MAX_LABEL_LENGTH = 100;

/** Each role includes the ones after it: admin can enroll, enroll can read. */
const RANK: Readonly<Record<ApiKeyRole, number>> = { admin: 3, enroll: 2, read: 1 };

export function roleAllows(role: ApiKeyRole, needed: ApiKeyRole): boolean {
  return RANK[role] >= RANK[needed];
}

export function isRole(value: string): value is ApiKeyRole {
  return (API_KEY_ROLES as readonly string[]).includes(value);
}

export function hashKey(key: string, salt: string): string {
  return createHash('sha256').update(salt, 'utf8').update(key, 'utf8').digest('hex');
}

function hashMatches(key: string, row: Pick<ApiKeyRow, 'hash' | 'salt'>): boolean {
  const expected = Buffer.from(row.hash, 'hex');
  const actual = Buffer.from(hashKey(key, row.salt), 'hex');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

function toRecord(row: ApiKeyRow): ApiKeyRecord {
  return { id: row.id, role: row.role as ApiKeyRole, label: row.label, createdAt: row.createdAt, lastUsedAt: row.lastUsedAt, revokedAt: row.revokedAt };
}

function newSalt(): string {
  return randomBytes(16).toString('hex');
}

/** The gallery's API keys: made, checked, listed and revoked by these rules, kept in store/api-key-table.ts. */
export class ApiKeys {
  private readonly table: ApiKeyTable;
  private readonly touchedAt = new Map<string, number>();

  constructor(store: GalleryStore) {
    this.table = new ApiKeyTable(store);
  }

  /** Returns the key itself, which is not stored and cannot be shown again. */
  async create(role: ApiKeyRole, label: string): Promise<{ key: string; record: ApiKeyRecord }> {
    const trimmed = label.trim();
    if (trimmed.length === 0 || trimmed.length > MAX_LABEL_LENGTH || trimmed === BOOTSTRAP_LABEL) {
      throw new Face3dError('BAD_USER_INPUT', `label must be 1 to ${MAX_LABEL_LENGTH} characters and not "${BOOTSTRAP_LABEL}"`);
    }
    const secret = randomBytes(32).toString('base64url');
    // The id is part of the key, so the key is known only once its row exists.
    const keyOf = (id: string): string => `f3d_${id}_${secret}`;
    const row = await this.table.insertHashedById({ role, label: trimmed, salt: newSalt() }, (made) => hashKey(keyOf(made.id), made.salt));
    return { key: keyOf(row.id), record: toRecord(row) };
  }

  /** The key's holder, or null for an unknown or revoked key. */
  async authenticate(key: string): Promise<Principal | null> {
    const id = KEY_PATTERN.exec(key)?.[1];
    const candidates = await this.table.active(id ? { id } : { label: BOOTSTRAP_LABEL });
    const row = candidates.find((candidate) => hashMatches(key, candidate));
    if (!row) return null;
    this.touch(row);
    return { keyId: row.id, role: row.role as ApiKeyRole, label: row.label };
  }

  /** Which of these key ids are still valid (not revoked). */
  activeIds(ids: readonly string[]): Promise<Set<string>> {
    return this.table.activeIds(ids);
  }

  revoke(id: string): Promise<boolean> {
    return this.table.revoke(id);
  }

  async list(): Promise<ApiKeyRecord[]> {
    return (await this.table.list()).map(toRecord);
  }

  /**
   * Makes `key` a valid admin key. A different FACE3D_ADMIN_KEY from an earlier start is revoked:
   * changing the variable rotates the key.
   */
  async ensureBootstrapKey(key: string): Promise<void> {
    await this.table.replaceLabelled(
      BOOTSTRAP_LABEL,
      (rows) => rows.find((row) => hashMatches(key, row)),
      () => {
        const salt = newSalt();
        return { role: 'admin', label: BOOTSTRAP_LABEL, salt, hash: hashKey(key, salt) };
      },
    );
  }

  private touch(row: ApiKeyRow): void {
    const now = Date.now();
    const last = Math.max(row.lastUsedAt?.getTime() ?? 0, this.touchedAt.get(row.id) ?? 0);
    if (now - last < LAST_USED_RESOLUTION_MS) return;
    this.touchedAt.set(row.id, now);
    // Best effort: a lost update of a usage hint must not fail the request.
    this.table.markUsed(row.id, new Date(now)).catch(() => undefined);
  }
}
