/**
 * The id of the HTTP request being served, reachable from anywhere below it (the repository
 * that queues a job records it) without threading it through every call: AsyncLocalStorage
 * follows the request's promises.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

export const REQUEST_ID_HEADER = 'x-request-id';

/** What a proxy or client may hand us as its own id: short, printable, no separators a log parser trips on. */
const ACCEPTED_ID = /^[\w.:@-]{1,128}$/;

/** One request as the observers see it; GraphQL fills in the operation and its outcome as it learns them. */
export interface RequestRecord {
  readonly id: string;
  /** The root field of a GraphQL operation ("identify"), "multiple" for several. */
  operation?: string;
  /** The first error's typed code, or OK. */
  outcome?: string;
}

const current = new AsyncLocalStorage<RequestRecord>();

/** The caller's id when it is a sensible one (so traces join up across services), else a new UUID. */
export function requestIdFrom(header: string | string[] | undefined): string {
  const given = Array.isArray(header) ? header[0] : header;
  return given !== undefined && ACCEPTED_ID.test(given) ? given : randomUUID();
}

export function runWithRequest<T>(record: RequestRecord, work: () => T): T {
  return current.run(record, work);
}

/** The request being served; undefined outside one (the CLI, start-up repairs, the worker). */
export function currentRequest(): RequestRecord | undefined {
  return current.getStore();
}

export function currentRequestId(): string | null {
  return current.getStore()?.id ?? null;
}
