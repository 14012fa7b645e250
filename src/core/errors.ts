/**
 * Every failure a user can cause carries one of these codes; the GraphQL layer copies it to
 * `extensions.code` and the CLI prints it, so the set is part of the public contract.
 */
export type ErrorCode =
  | 'BAD_USER_INPUT'
  | 'NOT_FOUND'
  /** The photo or subject exists but has no enrolled face (yet) for the server's bundle. */
  | 'NOT_READY'
  /** A unique value (such as a subject's externalId) is already taken. */
  | 'CONFLICT'
  | 'NO_FACE'
  /** The face is below the enrollment's quality bar (`qualityFilter`); the photo's `quality.issues` say why. */
  | 'LOW_QUALITY'
  | 'UNSUPPORTED_IMAGE'
  | 'CORRUPT_IMAGE'
  | 'IMAGE_TOO_LARGE'
  | 'MODEL_UNAVAILABLE'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  /** Over FACE3D_RATE_LIMIT requests per minute for one key (or one address without a key): HTTP 429. */
  | 'RATE_LIMITED'
  /** `face3d serve`: another process listens on HOST:PORT already. */
  | 'PORT_IN_USE'
  /** The photo's stored original is gone (or cannot be read): restore it from a backup; `face3d check` lists them. */
  | 'PHOTO_MISSING'
  /** The photo's stored original no longer matches its SHA-256 (damaged on disk): restore it from a backup. */
  | 'PHOTO_CORRUPT'
  /** The photo folder's file system is full: nothing of the upload was kept. */
  | 'STORAGE_FULL'
  /** The photo folder cannot be written (read-only file system, no permission, folder gone): nothing of the upload was kept. */
  | 'STORAGE_UNAVAILABLE'
  /** The photo folder belongs to another gallery (its marker file names another gallery id): refused at start-up. */
  | 'PHOTO_FOLDER_CONFLICT'
  /** Another process held the database's write lock longer than the busy timeout: retry later (HTTP 503, Retry-After). */
  | 'DATABASE_BUSY'
  | 'INTERNAL';

export class Face3dError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'Face3dError';
    this.code = code;
  }
}

export function isFace3dError(value: unknown): value is Face3dError {
  return value instanceof Face3dError;
}
