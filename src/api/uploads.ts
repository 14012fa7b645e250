/**
 * GraphQL multipart requests (graphql-upload): the operations checked once the `map` has placed
 * the files, and Upload values read into memory, within the size limit.
 */
import type { IncomingMessage } from 'node:http';
import type { Writable } from 'node:stream';
import defaultProcessRequest, { type FileUpload, type ProcessRequestFunction } from 'graphql-upload/processRequest.mjs';
import { Face3dError } from '../core/errors.js';
import type { UploadedImage } from '../gallery/gallery.js';
import { MAX_INPUT_DEPTH } from './security.js';

/** An error as graphql-upload's own: the status picks the code (413: BAD_USER_INPUT, as for too many files; 400: BAD_REQUEST). */
function refusal(status: 400 | 413, message: string): Error {
  return Object.assign(new Error(message), { status, expose: true });
}

/** Keys that would reach an object's prototype rather than a variable. */
const UNSAFE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Whether `path` (`variables.photos.0`) names a place for a file in `operations`: every segment
 * but the last names an object or list that is there, and the last names a null or absent entry
 * of an object, or of a list an index at most its length. At most MAX_INPUT_DEPTH segments.
 */
function isPlaceForFile(operations: unknown, path: string): boolean {
  const segments = path.split('.', MAX_INPUT_DEPTH + 1);
  if (segments.length > MAX_INPUT_DEPTH || segments.some((segment) => UNSAFE_KEYS.has(segment))) return false;
  let node = operations;
  for (const [i, segment] of segments.entries()) {
    if (node === null || typeof node !== 'object') return false;
    const last = i === segments.length - 1;
    if (Array.isArray(node)) {
      if (!/^\d{1,9}$/.test(segment) || Number(segment) > node.length || (!last && Number(segment) === node.length)) return false;
    } else if (!last && !Object.hasOwn(node, segment)) return false;
    node = (node as Record<string, unknown>)[segment];
  }
  return node === null || node === undefined;
}

function parsedJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The refusal a parsed `map` earns for these operations; null when it is fine, or when graphql-upload will say what is wrong. */
function mapProblem(map: unknown, operations: unknown, maxFiles: number): Error | null {
  if (map === null || typeof map !== 'object' || Array.isArray(map) || Object.keys(map).length > maxFiles) return null;
  let places = 0;
  for (const paths of Object.values(map)) {
    if (!Array.isArray(paths)) return null;
    for (const path of paths) {
      if (typeof path !== 'string') return null;
      if (++places > maxFiles) return refusal(413, `the multipart map places files at more than ${maxFiles} paths (FACE3D_MAX_UPLOAD_FILES)`);
      if (!isPlaceForFile(operations, path)) {
        return refusal(400, `the multipart map path "${path.length > 80 ? `${path.slice(0, 80)}…` : path}" names no place for a file in the operations (a null or absent variable, or a list index at most its length)`);
      }
    }
  }
  return null;
}

/**
 * `request` as graphql-upload's processRequest reads it, except that the multipart parser it pipes
 * into sees the `map` field only once the map has been checked against the operations: else a
 * parser error, which processRequest answers at once. graphql-upload follows each map path with
 * object-path, which copies the rest of the path at every segment (a 20,000-segment path took 4 s,
 * a 1 MB one exhausts the heap) and makes any index a list's length (`variables.p.1000000000`:
 * every later walk paid 29 s for it).
 */
function withCheckedMap(request: IncomingMessage, maxFiles: number): IncomingMessage {
  const checking = (parser: Writable): Writable => {
    let operations: unknown;
    const emit = parser.emit.bind(parser);
    parser.emit = (event: string | symbol, ...args: unknown[]): boolean => {
      if (event === 'field' && args[0] === 'operations') operations = parsedJson(args[1] as string);
      if (event === 'field' && args[0] === 'map' && operations !== undefined) {
        const problem = mapProblem(parsedJson(args[1] as string), operations, maxFiles);
        if (problem) return emit('error', problem);
      }
      return emit(event, ...args);
    };
    return parser;
  };
  return new Proxy(request, {
    get(target, property) {
      if (property === 'pipe') return (parser: Writable) => target.pipe(checking(parser));
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** graphql-upload's processRequest, its `map` checked before graphql-upload follows it. */
export function checkedProcessRequest(maxFiles: number): ProcessRequestFunction {
  return (request, response, options) => defaultProcessRequest(withCheckedMap(request, maxFiles), response, options);
}

/** graphql-upload's http-errors carry a status: 413 is a file over maxFileSize. */
function uploadError(error: unknown, maxBytes: number): Face3dError {
  if ((error as { status?: number }).status === 413) {
    return new Face3dError('IMAGE_TOO_LARGE', `an uploaded file is over the ${maxBytes}-byte limit`, { cause: error });
  }
  return new Face3dError('BAD_USER_INPUT', `an uploaded file could not be read: ${(error as Error).message}`, { cause: error });
}

/** Anything but a multipart file part (a JSON string, say) arrives here as a non-promise. */
function asUpload(value: unknown): Promise<FileUpload> {
  if (!(value instanceof Promise)) throw new Face3dError('BAD_USER_INPUT', 'Upload values must be files of a multipart request');
  return value as Promise<FileUpload>;
}

export async function readUpload(value: unknown, maxBytes: number): Promise<UploadedImage> {
  let file: FileUpload;
  try {
    file = await asUpload(value);
  } catch (error) {
    throw error instanceof Face3dError ? error : uploadError(error, maxBytes);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of file.createReadStream()) {
      size += (chunk as Buffer).length;
      if (size > maxBytes) throw Object.assign(new Error('file too large'), { status: 413 });
      chunks.push(chunk as Buffer);
    }
  } catch (error) {
    throw uploadError(error, maxBytes);
  }
  return { bytes: Buffer.concat(chunks), filename: file.filename };
}

export async function readUploads(values: readonly unknown[], maxBytes: number): Promise<UploadedImage[]> {
  return Promise.all(values.map((value) => readUpload(value, maxBytes)));
}
