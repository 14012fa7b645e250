/** What the API benchmarks share: the operations they send, photo files, and latency summaries. */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { dataOf, type ApiClient, type FilePart } from '../src/api/http-client.js';

export const CREATE_SUBJECT = 'mutation($n: String!) { createSubject(input: { name: $n }) { id } }';
export const ENROLL_PHOTOS = 'mutation($s: ID!, $p: [Upload!]!) { enrollPhotos(subjectId: $s, photos: $p) { photos { id } } }';
export const IDENTIFY = 'query($image: Upload, $photoId: ID) { identify(image: $image, photoId: $photoId, topK: 5) { unknown matches { similarity subject { id name } } } }';

export interface EnrollPhotosData {
  readonly enrollPhotos: { readonly photos: readonly { readonly id: string }[] };
}

export interface IdentifyData {
  readonly identify: { readonly unknown: boolean; readonly matches: readonly { readonly similarity: number; readonly subject: { readonly id: string; readonly name: string } }[] };
}

/** A photo file as an upload part, named after its file. */
export async function readPhoto(path: string): Promise<FilePart> {
  return { bytes: await readFile(path), name: basename(path) };
}

export async function createSubject(client: ApiClient, name: string): Promise<string> {
  return dataOf(await client.query<{ createSubject: { id: string } }>(CREATE_SUBJECT, { n: name })).createSubject.id;
}

/** The nearest-rank percentile of ascending `sorted` (p from 0 to 1). */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.max(0, Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1))];
}
