/**
 * Several rows in one INSERT written as raw SQL (the same text on SQLite and PostgreSQL). Prisma
 * caches the plan of every query but createMany and createManyAndReturn, whose rows it compiles anew
 * on each call (blob columns included, base64 through its query compiler): on the enrollment path
 * that compile cost more than the insert. Columns Prisma fills in on the client (ids, @updatedAt,
 * now() defaults) must be given here: ids from {@link newRowId}.
 */
import { randomBytes } from 'node:crypto';
import { monotonicFactory } from 'ulid';
import { Prisma } from '../generated/prisma/client.js';
import type { Db } from './database.js';

/**
 * A new row's id (a ULID), increasing with every call like Prisma's cuid()s: rows written in one
 * statement share their createdAt, and `ORDER BY createdAt, id` keeps them in the order written.
 */
export const newRowId: () => string = monotonicFactory(pooledRandom());

/**
 * A uniform fraction in [0, 1) from the system's random bytes, drawn 4 KiB at a time: ulid's own
 * source asks for one byte per character of every id (29 µs an id, against 1 µs).
 */
function pooledRandom(): () => number {
  let bytes = Buffer.alloc(0);
  let next = 0;
  return () => {
    if (next === bytes.length) {
      bytes = randomBytes(4096);
      next = 0;
    }
    return bytes[next++] / 256;
  };
}

type Value = string | number | Date | Uint8Array | null;

/** `table` and the column names are the schema's own (quoted as they are), never user input. */
function insertStatement(table: string, rows: readonly Readonly<Record<string, Value>>[]): Prisma.Sql {
  const columns = Object.keys(rows[0]);
  const names = Prisma.raw(columns.map((column) => `"${column}"`).join(', '));
  const values = rows.map((row) => Prisma.sql`(${Prisma.join(columns.map((column) => row[column]))})`);
  return Prisma.sql`INSERT INTO ${Prisma.raw(`"${table}"`)} (${names}) VALUES ${Prisma.join(values)}`;
}

export async function insertRows(tx: Db, table: string, rows: readonly Readonly<Record<string, Value>>[]): Promise<void> {
  if (rows.length > 0) await tx.$executeRaw(insertStatement(table, rows));
}

/** Like {@link insertRows}, but rows that would break the unique key on `uniqueColumns` are left out: the statement, which returns the ids of those written (at least one row). */
export function insertNewRowsStatement(db: Db, table: string, rows: readonly Readonly<Record<string, Value>>[], uniqueColumns: readonly string[]): Prisma.PrismaPromise<{ id: string }[]> {
  const conflict = Prisma.raw(uniqueColumns.map((column) => `"${column}"`).join(', '));
  return db.$queryRaw<{ id: string }[]>`${insertStatement(table, rows)} ON CONFLICT (${conflict}) DO NOTHING RETURNING "id"`;
}
