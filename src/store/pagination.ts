/**
 * Keyset pagination in creation order, behind opaque cursors. A cursor holds the last row's
 * (createdAt, id), not its position, so pages stay consistent while rows are added or deleted.
 */
import { Face3dError } from '../core/errors.js';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

export interface PageArgs {
  readonly first?: number | null;
  readonly after?: string | null;
}

export interface Keyset {
  readonly createdAt: Date;
  readonly id: string;
}

export interface Page<T> {
  readonly items: readonly T[];
  readonly hasNextPage: boolean;
}

export function encodeCursor(row: Keyset): string {
  return Buffer.from(`${row.createdAt.getTime()}:${row.id}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): Keyset {
  const match = /^(\d{1,15}):([\w-]{1,64})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) throw new Face3dError('BAD_USER_INPUT', `"${cursor.slice(0, 80)}" is not a cursor this API returned`);
  return { createdAt: new Date(Number(match[1])), id: match[2] };
}

export function pageSize(first: number | null | undefined): number {
  if (first === null || first === undefined) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 0 || first > MAX_PAGE_SIZE) {
    throw new Face3dError('BAD_USER_INPUT', `first must be an integer from 0 to ${MAX_PAGE_SIZE}, got ${first}`);
  }
  return first;
}

export interface KeysetFilter {
  readonly OR?: [{ createdAt: { gt: Date } }, { createdAt: Date; id: { gt: string } }];
}

/** Prisma filter for the rows after `after` in (createdAt, id) order. */
export function afterKeyset(after: string | null | undefined): KeysetFilter {
  if (!after) return {};
  const { createdAt, id } = decodeCursor(after);
  return { OR: [{ createdAt: { gt: createdAt } }, { createdAt, id: { gt: id } }] };
}

export function keysetOrder(): [{ createdAt: 'asc' }, { id: 'asc' }] {
  return [{ createdAt: 'asc' }, { id: 'asc' }];
}

/** Rows fetched with `take: size + 1`: the extra one only says whether a next page exists. */
export function toPage<T>(rows: readonly T[], size: number): Page<T> {
  return { items: rows.slice(0, size), hasNextPage: rows.length > size };
}
