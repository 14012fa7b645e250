/**
 * What clients get when the server's own storage fails (not their input): the codes of the photo
 * store and the database, the HTTP status, and what is kept. docs/bad-input.md shows
 * {@link renderStorageFaultTable}; test/integration/photo-store.test.ts checks that it does, and it
 * and test/integration/storage-faults.test.ts make each fault happen through a real server.
 */
import type { ErrorCode } from '../../src/core/errors.js';

export interface StorageFault {
  readonly code: ErrorCode;
  readonly cause: string;
  /** The HTTP status of a download, or of a GraphQL response without data. */
  readonly httpStatus: string;
  readonly kept: string;
  readonly test: 'photo-store' | 'storage-faults';
}

export const STORAGE_FAULTS: readonly StorageFault[] = [
  {
    code: 'PHOTO_MISSING',
    cause: 'the stored original of a photo is gone or unreadable',
    httpStatus: '410',
    kept: 'the photo, its face and vectors (identification goes on); `face3d check --repair` marks it; the start-up line counts it',
    test: 'photo-store',
  },
  {
    code: 'PHOTO_CORRUPT',
    cause: 'the stored original no longer matches its SHA-256 (every read is checked)',
    httpStatus: '410',
    kept: 'as for PHOTO_MISSING; no damaged byte is served',
    test: 'photo-store',
  },
  { code: 'STORAGE_FULL', cause: 'the photo folder’s disk is full while an upload is stored', httpStatus: '507', kept: 'nothing of the upload: no row, no partial file', test: 'storage-faults' },
  {
    code: 'STORAGE_UNAVAILABLE',
    cause: 'the photo folder cannot be written (read-only, no permission, gone)',
    httpStatus: '503',
    kept: 'nothing of the upload; stored photos still download',
    test: 'storage-faults',
  },
  {
    code: 'DATABASE_BUSY',
    cause: 'another process holds the SQLite write lock past FACE3D_BUSY_TIMEOUT_MS',
    httpStatus: '503, Retry-After: 5',
    kept: 'nothing of the request is written; reads go on',
    test: 'photo-store',
  },
  {
    code: 'PHOTO_FOLDER_CONFLICT',
    cause: 'the photo folder is marked as another gallery’s (face3d-gallery.json)',
    httpStatus: 'the server does not start',
    kept: 'the other gallery’s files, untouched',
    test: 'photo-store',
  },
];

/** The Markdown table of docs/bad-input.md's storage section. */
export function renderStorageFaultTable(faults: readonly StorageFault[] = STORAGE_FAULTS): string {
  const rows = faults.map((fault) => `| \`${fault.code}\` | ${fault.cause} | ${fault.httpStatus} | ${fault.kept} | ${fault.test}.test.ts |`);
  return ['| code | when | HTTP | what is kept | test |', '| --- | --- | --- | --- | --- |', ...rows].join('\n');
}
