/**
 * The Prisma client with this process's writes taken one at a time. The better-sqlite3 adapter
 * runs every query on one connection and only its transactions take a lock, so a write issued
 * while another request's transaction is open would land inside that transaction (and vanish
 * with its rollback). SQLite allows one writer at a time anyway; queuing them here costs nothing.
 */
import type { Prisma, PrismaClient } from '../generated/prisma/client.js';
import { AsyncLock } from './async-lock.js';

/** The client or an open transaction: what repository methods run on. */
export type Db = Prisma.TransactionClient;

/** Waits for another process's write lock longer than Prisma's 2 s default (SQLite busy handling). */
const TRANSACTION_OPTIONS = { maxWait: 15_000, timeout: 30_000 } as const;

export class GalleryStore {
  private readonly writes = new AsyncLock();

  constructor(readonly prisma: PrismaClient) {}

  /** Reads need no queue: they see committed data or, at worst, a transaction in flight. */
  get read(): Db {
    return this.prisma;
  }

  write<T>(work: (db: Db) => Promise<T>): Promise<T> {
    return this.writes.run(() => work(this.prisma));
  }

  transaction<T>(work: (tx: Db) => Promise<T>): Promise<T> {
    return this.write(() => this.prisma.$transaction((tx) => work(tx), TRANSACTION_OPTIONS));
  }
}
