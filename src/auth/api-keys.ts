/**
 * API keys: `f3d_<id>_<secret>` with a 256-bit random secret, shown once and stored as a salted
 * SHA-256. A slow password hash buys nothing against secrets this long and would cost every
 * request its latency. FACE3D_ADMIN_KEY (chosen by a person, not by us) is stored the same way.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Face3dError } from '../core/errors.js';
import type { GalleryStore } from '../store/gallery-store.js';
import type { ApiKey } from '../generated/prisma/client.js';
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

function hashMatches(key: string, row: Pick<ApiKey, 'hash' | 'salt'>): boolean {
  const expected = Buffer.from(row.hash, 'hex');
  const actual = Buffer.from(hashKey(key, row.salt), 'hex');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

function toRecord(row: ApiKey): ApiKeyRecord {
  return { id: row.id, role: row.role as ApiKeyRole, label: row.label, createdAt: row.createdAt, lastUsedAt: row.lastUsedAt, revokedAt: row.revokedAt };
}

function newSalt(): string {
  return randomBytes(16).toString('hex');
}

export class ApiKeyRepository {
  private readonly touchedAt = new Map<string, number>();

  constructor(private readonly store: GalleryStore) {}

  /** Returns the key itself, which is not stored and cannot be shown again. */
  async create(role: ApiKeyRole, label: string): Promise<{ key: string; record: ApiKeyRecord }> {
    const trimmed = label.trim();
    if (trimmed.length === 0 || trimmed.length > MAX_LABEL_LENGTH || trimmed === BOOTSTRAP_LABEL) {
      throw new Face3dError('BAD_USER_INPUT', `label must be 1 to ${MAX_LABEL_LENGTH} characters and not "${BOOTSTRAP_LABEL}"`);
    }
    const secret = randomBytes(32).toString('base64url');
    return this.store.transaction(async (tx) => {
      // The id is part of the key, so the row exists first, with a placeholder hash.
      const row = await tx.apiKey.create({ data: { role, label: trimmed, salt: newSalt(), hash: randomBytes(32).toString('hex') } });
      const key = `f3d_${row.id}_${secret}`;
      const saved = await tx.apiKey.update({ where: { id: row.id }, data: { hash: hashKey(key, row.salt) } });
      return { key, record: toRecord(saved) };
    });
  }

  /** The key's holder, or null for an unknown or revoked key. */
  async authenticate(key: string): Promise<Principal | null> {
    const id = KEY_PATTERN.exec(key)?.[1];
    const candidates = id
      ? await this.store.read.apiKey.findMany({ where: { id, revokedAt: null } })
      : await this.store.read.apiKey.findMany({ where: { label: BOOTSTRAP_LABEL, revokedAt: null } });
    const row = candidates.find((candidate) => hashMatches(key, candidate));
    if (!row) return null;
    this.touch(row);
    return { keyId: row.id, role: row.role as ApiKeyRole, label: row.label };
  }

  /** Which of these key ids are still valid (not revoked). */
  async activeIds(ids: readonly string[]): Promise<Set<string>> {
    const rows = await this.store.read.apiKey.findMany({ where: { id: { in: [...ids] }, revokedAt: null }, select: { id: true } });
    return new Set(rows.map((row) => row.id));
  }

  async revoke(id: string): Promise<boolean> {
    const { count } = await this.store.write((db) => db.apiKey.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: new Date() } }));
    return count > 0;
  }

  async list(): Promise<ApiKeyRecord[]> {
    const rows = await this.store.read.apiKey.findMany({ orderBy: { createdAt: 'asc' } });
    return rows.map(toRecord);
  }

  /**
   * Makes `key` a valid admin key. A different FACE3D_ADMIN_KEY from an earlier start is revoked:
   * changing the variable rotates the key.
   */
  async ensureBootstrapKey(key: string): Promise<void> {
    await this.store.transaction(async (tx) => {
      const rows = await tx.apiKey.findMany({ where: { label: BOOTSTRAP_LABEL, revokedAt: null } });
      const current = rows.find((row) => hashMatches(key, row));
      const stale = rows.filter((row) => row !== current).map((row) => row.id);
      if (stale.length > 0) await tx.apiKey.updateMany({ where: { id: { in: stale } }, data: { revokedAt: new Date() } });
      if (!current) {
        const salt = newSalt();
        await tx.apiKey.create({ data: { role: 'admin', label: BOOTSTRAP_LABEL, salt, hash: hashKey(key, salt) } });
      }
    });
  }

  private touch(row: ApiKey): void {
    const now = Date.now();
    const last = Math.max(row.lastUsedAt?.getTime() ?? 0, this.touchedAt.get(row.id) ?? 0);
    if (now - last < LAST_USED_RESOLUTION_MS) return;
    this.touchedAt.set(row.id, now);
    // Best effort: a lost update of a usage hint must not fail the request.
    this.store.write((db) => db.apiKey.update({ where: { id: row.id }, data: { lastUsedAt: new Date(now) } })).catch(() => undefined);
  }
}
