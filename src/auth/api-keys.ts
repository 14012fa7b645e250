/**
 * API keys: `f3d_<id>_<secret>` with a 256-bit random secret, shown once and stored as a salted
 * SHA-256. A slow password hash buys nothing against secrets this long and would cost every
 * request its latency. FACE3D_ADMIN_KEY (chosen by a person, not by us) is stored the same way.
 * A key found valid is taken as valid again for KEY_TRUST_MS without a query (a Prisma query
 * per request otherwise, docs/BENCHMARKS.md §48): revoked here it stops working at once, revoked
 * by another process of the gallery within KEY_TRUST_MS.
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
/** How long a key found valid is trusted without asking the database again; another process's revocation waits this long at most. */
export const KEY_TRUST_MS = 1_000;
/** Keys trusted at once, at most (the oldest found is forgotten first); a key not among them is simply looked up. */
const MAX_TRUSTED_KEYS = 1_000;
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

/** What a trusted key is remembered by: not the key itself. */
function fingerprint(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('base64');
}

interface TrustedKey {
  readonly row: ApiKeyRow;
  readonly checkedAt: number;
}

/** The gallery's API keys: made, checked, listed and revoked by these rules, kept in store/api-key-table.ts. */
export class ApiKeys {
  private readonly table: ApiKeyTable;
  private readonly touchedAt = new Map<string, number>();
  /** Keys found valid lately, by fingerprint, oldest check first. */
  private readonly trusted = new Map<string, TrustedKey>();
  /** Counts revocations here, so a lookup that began before one is not trusted after it. */
  private revocations = 0;

  /** `now`: the clock trust is measured by (tests pass their own). */
  constructor(
    store: GalleryStore,
    private readonly now: () => number = Date.now,
  ) {
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

  /** The key's holder, or null for an unknown or revoked key (revoked by another process: within KEY_TRUST_MS). */
  async authenticate(key: string): Promise<Principal | null> {
    const print = fingerprint(key);
    const known = this.trusted.get(print);
    const row = known && this.now() - known.checkedAt < KEY_TRUST_MS ? known.row : await this.lookUp(key, print);
    if (!row) return null;
    this.touch(row);
    return { keyId: row.id, role: row.role as ApiKeyRole, label: row.label };
  }

  /** The key's unrevoked row from the database, trusted from now on; null when there is none. */
  private async lookUp(key: string, print: string): Promise<ApiKeyRow | null> {
    const revocations = this.revocations;
    const checkedAt = this.now();
    const id = KEY_PATTERN.exec(key)?.[1];
    const candidates = await this.table.active(id ? { id } : { label: BOOTSTRAP_LABEL });
    const row = candidates.find((candidate) => hashMatches(key, candidate));
    this.trusted.delete(print);
    if (!row) return null;
    if (revocations === this.revocations) {
      if (this.trusted.size >= MAX_TRUSTED_KEYS) this.trusted.delete(this.trusted.keys().next().value!);
      this.trusted.set(print, { row, checkedAt });
    }
    return row;
  }

  /** Stops trusting keys found valid before now (a revocation here takes effect at once). */
  private distrustAll(): void {
    this.revocations++;
    this.trusted.clear();
  }

  /** Which of these key ids are still valid (not revoked). */
  activeIds(ids: readonly string[]): Promise<Set<string>> {
    return this.table.activeIds(ids);
  }

  async revoke(id: string): Promise<boolean> {
    try {
      return await this.table.revoke(id);
    } finally {
      this.distrustAll();
    }
  }

  async list(): Promise<ApiKeyRecord[]> {
    return (await this.table.list()).map(toRecord);
  }

  /**
   * Makes `key` a valid admin key. A different FACE3D_ADMIN_KEY from an earlier start is revoked:
   * changing the variable rotates the key.
   */
  async ensureBootstrapKey(key: string): Promise<void> {
    try {
      await this.table.replaceLabelled(
        BOOTSTRAP_LABEL,
        (rows) => rows.find((row) => hashMatches(key, row)),
        () => {
          const salt = newSalt();
          return { role: 'admin', label: BOOTSTRAP_LABEL, salt, hash: hashKey(key, salt) };
        },
      );
    } finally {
      this.distrustAll();
    }
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
