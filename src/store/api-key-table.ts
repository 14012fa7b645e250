/**
 * The ApiKey table: rows in and out, nothing more. What a key is (its format, salted hash and
 * roles) and the rules of the FACE3D_ADMIN_KEY key are auth/api-keys.ts's.
 */
import { randomBytes } from 'node:crypto';
import type { ApiKey } from '../generated/prisma/client.js';
import type { ApiKeyRole } from './enums.js';
import type { GalleryStore } from './gallery-store.js';

export type ApiKeyRow = ApiKey;

export interface NewApiKey {
  readonly role: ApiKeyRole;
  readonly label: string;
  readonly salt: string;
  readonly hash: string;
}

export class ApiKeyTable {
  constructor(private readonly store: GalleryStore) {}

  /**
   * Inserts a key whose hash covers its own id: the row is made first with a random placeholder
   * hash (which no key matches), then given `hashOf(row)`, in one transaction.
   */
  insertHashedById(key: Omit<NewApiKey, 'hash'>, hashOf: (row: ApiKeyRow) => string): Promise<ApiKeyRow> {
    return this.store.transaction(async (tx) => {
      const row = await tx.apiKey.create({ data: { ...key, hash: randomBytes(32).toString('hex') } });
      return tx.apiKey.update({ where: { id: row.id }, data: { hash: hashOf(row) } });
    });
  }

  /** The unrevoked keys with this id, or with this label. */
  active(where: { readonly id: string } | { readonly label: string }): Promise<ApiKeyRow[]> {
    return this.store.read.apiKey.findMany({ where: { ...where, revokedAt: null } });
  }

  /** Which of these key ids are unrevoked. */
  async activeIds(ids: readonly string[]): Promise<Set<string>> {
    const rows = await this.store.read.apiKey.findMany({ where: { id: { in: [...ids] }, revokedAt: null }, select: { id: true } });
    return new Set(rows.map((row) => row.id));
  }

  /** False when the key was unknown or revoked already. */
  async revoke(id: string): Promise<boolean> {
    const { count } = await this.store.write((db) => db.apiKey.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: new Date() } }));
    return count > 0;
  }

  /** Oldest first. */
  list(): Promise<ApiKeyRow[]> {
    return this.store.read.apiKey.findMany({ orderBy: { createdAt: 'asc' } });
  }

  async markUsed(id: string, at: Date): Promise<void> {
    await this.store.write((db) => db.apiKey.update({ where: { id }, data: { lastUsedAt: at } }));
  }

  /**
   * In one transaction: of the unrevoked keys labelled `label`, the one `keep` picks stays and the
   * others are revoked; when it picks none, `create()` is inserted.
   */
  async replaceLabelled(label: string, keep: (rows: readonly ApiKeyRow[]) => ApiKeyRow | undefined, create: () => NewApiKey): Promise<void> {
    await this.store.transaction(async (tx) => {
      const rows = await tx.apiKey.findMany({ where: { label, revokedAt: null } });
      const current = keep(rows);
      const stale = rows.filter((row) => row !== current).map((row) => row.id);
      if (stale.length > 0) await tx.apiKey.updateMany({ where: { id: { in: stale } }, data: { revokedAt: new Date() } });
      if (!current) await tx.apiKey.create({ data: create() });
    });
  }
}
