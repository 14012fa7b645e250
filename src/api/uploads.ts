/**
 * GraphQL multipart requests (the spec graphql-upload reads), received in memory: the operations
 * checked once the `map` has placed the files, and each mapped file kept whole, within the
 * per-file limit, so a request holds at most FACE3D_MAX_UPLOAD_FILES × FACE3D_MAX_IMAGE_BYTES
 * (what enrollPhotos reads into memory anyway); files the map does not name, and those of a
 * request without a valid API key, are dropped as they arrive. graphql-upload's own
 * processRequest buffers every file through a temporary file (fs-capacitor: created, written,
 * read back, unlinked: with the photo store's own calls, a tenth of the server's CPU in
 * docs/BENCHMARKS.md §45's profile; §48 for the saving); its middleware and Upload scalar stay.
 */
import busboy from 'busboy';
import type { ProcessRequestFunction, ProcessRequestOptions } from 'graphql-upload/processRequest.mjs';
import Upload from 'graphql-upload/Upload.mjs';
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { Face3dError } from '../core/errors.js';
import type { UploadedImage } from '../gallery/gallery.js';
import { MAX_INPUT_DEPTH } from './security.js';

/** Cited by the refusals, as graphql-upload's own (which does not export it). */
const SPEC_URL = 'https://github.com/jaydenseric/graphql-multipart-request-spec';

/** A mapped file of a multipart request, received whole: what an Upload variable resolves to. */
export interface ReceivedFile {
  /** As the client named it; absent when its part gave none. */
  readonly filename: string | undefined;
  readonly mimetype: string;
  readonly bytes: Buffer;
}

/** An error as graphql-upload's own (http-errors): the status picks the code (413: BAD_USER_INPUT; 400: BAD_REQUEST). */
function refusal(status: 400 | 413 | 499, message: string): Error {
  return Object.assign(new Error(message), { status, expose: true });
}

/** Keys that would reach an object's prototype rather than a variable. */
const UNSAFE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** Where a file goes: an entry of an object, or an index of a list. */
interface Slot {
  readonly container: Record<string, unknown>;
  readonly key: string;
}

/**
 * The place `path` (`variables.photos.0`) names in `operations`, when it is one for a file: every
 * segment but the last names an object or list that is there, and the last names a null or absent
 * entry of an object, or of a list an index at most its length. At most MAX_INPUT_DEPTH segments.
 * (graphql-upload follows paths with object-path, which copies the rest of the path at every
 * segment, 4 s for 20,000 segments, and makes any index a list's length.)
 */
function slotFor(operations: unknown, path: string): Slot | null {
  const segments = path.split('.', MAX_INPUT_DEPTH + 1);
  if (segments.length > MAX_INPUT_DEPTH || segments.some((segment) => UNSAFE_KEYS.has(segment))) return null;
  let node = operations;
  let slot: Slot | null = null;
  for (const [i, segment] of segments.entries()) {
    if (node === null || typeof node !== 'object') return null;
    const last = i === segments.length - 1;
    if (Array.isArray(node)) {
      if (!/^\d{1,9}$/.test(segment) || Number(segment) > node.length || (!last && Number(segment) === node.length)) return null;
    } else if (!last && !Object.hasOwn(node, segment)) return null;
    slot = { container: node as Record<string, unknown>, key: segment };
    node = slot.container[segment];
  }
  return node === null || node === undefined ? slot : null;
}

function parsedJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * An Upload for each file the `map` field names, put in place in `operations`; or the refusal the
 * map earns (graphql-upload's wording for its shape, then the paths checked before any is followed).
 */
function placeFiles(mapText: string, operations: object, maxFiles: number): Map<string, Upload> | Error {
  const map = parsedJson(mapText);
  if (map === undefined) return refusal(400, `Invalid JSON in the ‘map’ multipart field (${SPEC_URL}).`);
  if (map === null || typeof map !== 'object' || Array.isArray(map)) return refusal(400, `Invalid type for the ‘map’ multipart field (${SPEC_URL}).`);
  const entries = Object.entries(map);
  if (entries.length > maxFiles) return refusal(413, `${maxFiles} max file uploads exceeded.`);
  for (const [name, paths] of entries) {
    if (!Array.isArray(paths)) return refusal(400, `Invalid type for the ‘map’ multipart field entry key ‘${name}’ array (${SPEC_URL}).`);
    const index = paths.findIndex((path) => typeof path !== 'string');
    if (index >= 0) return refusal(400, `Invalid type for the ‘map’ multipart field entry key ‘${name}’ array index ‘${index}’ value (${SPEC_URL}).`);
  }
  const places = entries.flatMap(([name, paths]) => (paths as string[]).map((path) => ({ name, path })));
  if (places.length > maxFiles) return refusal(413, `the multipart map places files at more than ${maxFiles} paths (FACE3D_MAX_UPLOAD_FILES)`);
  // Every path checked against the operations as sent, before any file is put in place.
  const slots: Slot[] = [];
  for (const { path } of places) {
    const slot = slotFor(operations, path);
    if (!slot) {
      return refusal(400, `the multipart map path "${path.length > 80 ? `${path.slice(0, 80)}…` : path}" names no place for a file in the operations (a null or absent variable, or a list index at most its length)`);
    }
    slots.push(slot);
  }
  const uploads = new Map(entries.map(([name]) => [name, new Upload()]));
  places.forEach(({ name }, i) => (slots[i].container[slots[i].key] = uploads.get(name)));
  return uploads;
}

/** Keeps a file part's bytes; the Upload resolves once the part has ended whole, or is refused. */
function receive(stream: Readable & { truncated?: boolean }, upload: Upload, info: busboy.FileInfo, maxFileSize: number): void {
  let chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  stream.on('limit', () => {
    chunks = [];
    upload.reject(refusal(413, `File truncated as it exceeds the ${maxFileSize} byte size limit.`));
  });
  stream.on('error', (error: Error) => upload.reject(error));
  stream.on('end', () => {
    if (!stream.truncated) upload.resolve({ filename: info.filename, mimetype: info.mimeType, bytes: Buffer.concat(chunks) } satisfies ReceivedFile);
  });
}

/** Reads and discards a part nobody asked for. */
function discard(stream: Readable): void {
  stream.on('error', () => undefined);
  stream.resume();
}

/**
 * graphql-upload's processRequest, in memory: resolves with the operations, each mapped file's
 * Upload in place, as soon as the map has been read (the files may still be arriving); each Upload
 * resolves to its ReceivedFile or is rejected with the reason it was not received (413 over the
 * size limit, 400 never sent, the parser's error for a body cut short, 499 the client gone). A
 * refusal of the request itself (400 or 413) rejects it, as graphql-upload's does. Files of a
 * request that `keepsFiles` refuses (no valid API key: every field that reads an upload needs a
 * role, checked first) are read and dropped, never held, so a caller without a key cannot fill
 * the server's memory; their Uploads are rejected.
 */
export function receiveMultipart(maxFiles: number, keepsFiles: (request: IncomingMessage) => Promise<boolean>): ProcessRequestFunction {
  // A failed check keeps the files: the request's own authentication meets the same failure and says so.
  return async (request, _response, options = {}) => parse(request, options, maxFiles, await keepsFiles(request).catch(() => true));
}

const disconnected = (): Error => refusal(499, 'Request disconnected during file upload stream parsing.');

function parse(request: IncomingMessage, { maxFieldSize = 1_000_000, maxFileSize = Infinity }: ProcessRequestOptions, maxFiles: number, keepFiles: boolean): Promise<Record<string, unknown>> {
  // Gone while its key was checked: its 'close' has been and gone, so nothing below would end.
  if (request.destroyed) return Promise.reject(disconnected());
  return new Promise((resolve, reject) => {
    let operations: object | undefined;
    let uploads: Map<string, Upload> | undefined;
    const started = new Set<string>();
    let failed = false;
    const parser = busboy({ headers: request.headers, defParamCharset: 'utf8', limits: { fieldSize: maxFieldSize, fields: 2, fileSize: maxFileSize, files: maxFiles } });

    const exit = (error: Error, fromParser = false): void => {
      if (failed) return;
      failed = true;
      // Files still arriving end with the request: their Uploads too (settled ones stay as they are).
      for (const upload of uploads?.values() ?? []) upload.reject(error);
      if (fromParser) parser.destroy();
      else parser.destroy(error);
      request.unpipe(parser);
      // A large body's later events in this tick may pause the request after the parser is gone.
      setImmediate(() => request.resume());
      reject(error);
    };

    parser.on('field', (name, value, { valueTruncated }) => {
      if (valueTruncated) return exit(refusal(413, `The ‘${name}’ multipart field value exceeds the ${maxFieldSize} byte size limit.`));
      if (name === 'operations') {
        const parsed = parsedJson(value);
        if (parsed === undefined) return exit(refusal(400, `Invalid JSON in the ‘operations’ multipart field (${SPEC_URL}).`));
        if (parsed === null || typeof parsed !== 'object') return exit(refusal(400, `Invalid type for the ‘operations’ multipart field (${SPEC_URL}).`));
        operations = parsed;
      } else if (name === 'map') {
        if (!operations) return exit(refusal(400, `Misordered multipart fields; ‘map’ should follow ‘operations’ (${SPEC_URL}).`));
        const placed = placeFiles(value, operations, maxFiles);
        if (placed instanceof Error) return exit(placed);
        uploads = placed;
        resolve(operations as Record<string, unknown>);
      }
    });

    parser.on('file', (name, stream, info) => {
      if (!uploads) {
        discard(stream);
        return exit(refusal(400, `Misordered multipart fields; files should follow ‘map’ (${SPEC_URL}).`));
      }
      const upload = uploads.get(name);
      // A part the map does not name, or one sent twice: the rest of the request still counts.
      if (!upload || started.has(name)) return discard(stream);
      started.add(name);
      if (keepFiles) return receive(stream, upload, info, maxFileSize);
      discard(stream);
      upload.reject(refusal(400, 'files are kept only for requests with a valid API key'));
    });

    parser.once('filesLimit', () => exit(refusal(413, `${maxFiles} max file uploads exceeded.`)));

    parser.once('finish', () => {
      request.unpipe(parser);
      request.resume();
      if (!operations) return exit(refusal(400, `Missing multipart field ‘operations’ (${SPEC_URL}).`));
      if (!uploads) return exit(refusal(400, `Missing multipart field ‘map’ (${SPEC_URL}).`));
      for (const [name, upload] of uploads) if (!started.has(name)) upload.reject(refusal(400, 'File missing in the request.'));
    });

    // `on`: a malformed part header and an unexpected end can both come from one request.
    parser.on('error', (error: Error) => exit(error, true));

    request.once('close', () => {
      if (!request.readableEnded) exit(disconnected());
    });

    request.pipe(parser);
  });
}

/** graphql-upload's http-errors carry a status: 413 is a file over maxFileSize. */
function uploadError(error: unknown, maxBytes: number): Face3dError {
  if ((error as { status?: number }).status === 413) {
    return new Face3dError('IMAGE_TOO_LARGE', `an uploaded file is over the ${maxBytes}-byte limit`, { cause: error });
  }
  return new Face3dError('BAD_USER_INPUT', `an uploaded file could not be read: ${(error as Error).message}`, { cause: error });
}

/** Anything but a multipart file part (a JSON string, say) arrives here as a non-promise. */
function asUpload(value: unknown): Promise<ReceivedFile> {
  if (!(value instanceof Promise)) throw new Face3dError('BAD_USER_INPUT', 'Upload values must be files of a multipart request');
  // Only receiveMultipart makes Uploads, and resolves them with ReceivedFiles.
  return value as Promise<ReceivedFile>;
}

export async function readUpload(value: unknown, maxBytes: number): Promise<UploadedImage> {
  let file: ReceivedFile;
  try {
    file = await asUpload(value);
  } catch (error) {
    throw error instanceof Face3dError ? error : uploadError(error, maxBytes);
  }
  if (file.bytes.length > maxBytes) throw uploadError(refusal(413, 'file too large'), maxBytes);
  return { bytes: file.bytes, filename: file.filename };
}

export async function readUploads(values: readonly unknown[], maxBytes: number): Promise<UploadedImage[]> {
  return Promise.all(values.map((value) => readUpload(value, maxBytes)));
}
