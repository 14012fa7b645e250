/**
 * The body of a GraphQL multipart request (the spec graphql-upload reads), built one way for every
 * client: the CLI's and tests' ApiClient (http-client.ts) and the browser viewer (web/src/api.ts).
 * Only FormData, Blob and JSON: it runs in Node and in browsers alike.
 */

/** One file, at `path` in the operation (`variables.photos.0`). */
export interface UploadPart {
  readonly path: string;
  readonly file: Blob;
  readonly name: string;
}

/** Sets `value` at a dotted path such as `variables.photos.0`. */
function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) node = node[key] as Record<string, unknown>;
  node[keys.at(-1)!] = value;
}

/** The operation with each file's variable null (as the spec requires), the map of parts to paths, then the files in order. */
export function multipartBody(query: string, variables: Record<string, unknown>, parts: readonly UploadPart[]): FormData {
  const operations = { query, variables: structuredClone(variables) };
  for (const part of parts) setPath(operations, part.path, null);
  const form = new FormData();
  form.append('operations', JSON.stringify(operations));
  form.append('map', JSON.stringify(Object.fromEntries(parts.map((part, i) => [String(i), [part.path]]))));
  parts.forEach((part, i) => form.append(String(i), part.file, part.name));
  return form;
}
