/**
 * The browser's side of the face3d API: GraphQL over fetch (JSON, or the multipart request spec
 * for uploads), authenticated downloads, and errors turned into sentences a person can act on.
 */
import { multipartBody } from '../../src/api/multipart.js';
import type { ProbeMeshFormat } from './queries.js';

export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface GraphQLBody<T> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

/** What each error code means for the person using the viewer; the server's message follows. */
const EXPLANATIONS: Readonly<Record<string, string>> = {
  UNAUTHENTICATED: 'The API key was not accepted.',
  FORBIDDEN: "This API key's role does not allow that.",
  NO_FACE: 'No face was found in this photo.',
  UNSUPPORTED_IMAGE: 'This file is not a supported image (use JPEG, PNG or WebP).',
  CORRUPT_IMAGE: 'This image file is damaged and cannot be read.',
  IMAGE_TOO_LARGE: 'This image is too large.',
  NOT_FOUND: 'It no longer exists.',
  NOT_READY: 'It is not ready yet.',
  CONFLICT: 'That conflicts with an existing entry.',
  BAD_USER_INPUT: 'The request was not valid.',
  MODEL_UNAVAILABLE: 'The face model is not available on the server.',
  NETWORK: 'The server could not be reached.',
};

/** Codes whose explanation says all that the server's message does: both would only repeat it. */
const WITHOUT_DETAIL: ReadonlySet<string> = new Set(['NO_FACE']);

/** One sentence for the person, then the server's own detail where it adds something. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    const explanation = EXPLANATIONS[error.code];
    if (!explanation) return error.message;
    return WITHOUT_DETAIL.has(error.code) ? explanation : `${explanation} (${error.message})`;
  }
  return error instanceof Error ? error.message : String(error);
}

export class Api {
  constructor(readonly key: string) {}

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { authorization: `Bearer ${this.key}`, ...extra };
  }

  async query<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    return this.send<T>({ 'content-type': 'application/json' }, JSON.stringify({ query, variables }));
  }

  /** A multipart request (the server's src/api/multipart.ts): `files` maps variable paths (e.g. "photos.0") to files. */
  async upload<T>(query: string, variables: Record<string, unknown>, files: ReadonlyMap<string, File>): Promise<T> {
    const parts = [...files].map(([path, file]) => ({ path: `variables.${path}`, file, name: file.name }));
    return this.send<T>({ 'apollo-require-preflight': 'true' }, multipartBody(query, variables, parts));
  }

  /** A download route's file (photos, meshes), which needs the same key as the API. */
  async download(url: string): Promise<Blob> {
    return this.blobOf(await this.fetch(url, { headers: this.headers() }));
  }

  /** The 3D face of a photo the server does not keep (POST /meshes/probe.<ext>, the image as the body). */
  async probeMesh(image: File, format: ProbeMeshFormat, expression: boolean): Promise<Blob> {
    // The server reads the format from the bytes, but takes only image/* bodies (no form can send one).
    if (!image.type.startsWith('image/')) throw new ApiError('UNSUPPORTED_IMAGE', `${image.name} is ${image.type || 'of an unknown type'}`);
    const url = `/meshes/probe.${format.toLowerCase()}${expression ? '?expression=1' : ''}`;
    return this.blobOf(await this.fetch(url, { method: 'POST', headers: this.headers({ 'content-type': image.type }), body: image }));
  }

  private async blobOf(response: Response): Promise<Blob> {
    if (!response.ok) {
      const body = (await response.json().catch(() => null)) as GraphQLBody<unknown> | null;
      const first = body?.errors?.[0];
      throw new ApiError(first?.extensions?.code ?? `HTTP_${response.status}`, first?.message ?? response.statusText);
    }
    return response.blob();
  }

  private async send<T>(headers: Record<string, string>, body: string | FormData): Promise<T> {
    const response = await this.fetch('/graphql', { method: 'POST', headers: this.headers(headers), body });
    const parsed = (await response.json().catch(() => ({ errors: [{ message: `HTTP ${response.status}` }] }))) as GraphQLBody<T>;
    const first = parsed.errors?.[0];
    if (first) throw new ApiError(first.extensions?.code ?? 'INTERNAL', first.message);
    if (!parsed.data) throw new ApiError('INTERNAL', 'the server answered without data');
    return parsed.data;
  }

  private async fetch(url: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(url, init);
    } catch (error) {
      throw new ApiError('NETWORK', (error as Error).message);
    }
  }
}
