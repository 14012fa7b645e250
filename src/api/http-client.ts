/**
 * A minimal face3d client for scripts, benchmarks and tests: GraphQL over HTTP as JSON, or as a
 * GraphQL multipart request when files are sent, and authenticated downloads.
 */
import { multipartBody } from './multipart.js';

export interface GraphQLError {
  readonly message: string;
  readonly extensions?: { readonly code?: string; readonly stacktrace?: unknown };
}

export interface GraphQLResponse<T = Record<string, unknown>> {
  readonly status: number;
  readonly data?: T | null;
  readonly errors?: readonly GraphQLError[];
}

export interface FilePart {
  readonly bytes: Uint8Array;
  readonly name: string;
  readonly type?: string;
}

export class ApiClient {
  constructor(
    readonly url: string,
    readonly key?: string,
  ) {}

  withKey(key: string | undefined): ApiClient {
    return new ApiClient(this.url, key);
  }

  headers(extra: Record<string, string> = {}): Record<string, string> {
    return { ...(this.key ? { authorization: `Bearer ${this.key}` } : {}), ...extra };
  }

  async query<T = Record<string, unknown>>(query: string, variables: Record<string, unknown> = {}): Promise<GraphQLResponse<T>> {
    const response = await fetch(`${this.url}/graphql`, {
      method: 'POST',
      headers: this.headers({ 'content-type': 'application/json' }),
      body: JSON.stringify({ query, variables }),
    });
    return { status: response.status, ...((await response.json()) as object) };
  }

  /**
   * A GraphQL multipart request (multipart.ts): `files` maps variable paths (`variables.photos.0`)
   * to file parts.
   */
  async upload<T = Record<string, unknown>>(
    query: string,
    variables: Record<string, unknown>,
    files: Readonly<Record<string, FilePart>>,
    extraHeaders: Record<string, string> = { 'apollo-require-preflight': 'true' },
  ): Promise<GraphQLResponse<T>> {
    const parts = Object.entries(files).map(([path, file]) => ({ path, file: new Blob([file.bytes], { type: file.type ?? 'image/jpeg' }), name: file.name }));
    const form = multipartBody(query, variables, parts);
    const response = await fetch(`${this.url}/graphql`, { method: 'POST', headers: this.headers(extraHeaders), body: form });
    return { status: response.status, ...((await response.json()) as object) };
  }

  /** GET with the client's key, as a mesh or photo download. */
  download(url: string): Promise<Response> {
    return fetch(url, { headers: this.headers() });
  }
}

export function errorCodes(response: GraphQLResponse<unknown>): (string | undefined)[] {
  return (response.errors ?? []).map((error) => error.extensions?.code);
}

/** Fails with the server's errors when there are any, so a test shows why. */
export function dataOf<T>(response: GraphQLResponse<T>): T {
  if (response.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(response.errors, null, 1)}`);
  return response.data as T;
}
