/** Upload scalar values (graphql-upload) read into memory, within the size limit. */
import type { FileUpload } from 'graphql-upload/processRequest.mjs';
import { Face3dError } from '../errors.js';
import type { UploadedImage } from '../gallery/gallery.js';

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
