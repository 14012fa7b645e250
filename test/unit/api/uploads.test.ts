/**
 * GraphQL multipart requests received in memory (receiveMultipart, then the Upload scalar and
 * readUpload as resolvers see them) over a real HTTP server: files whole, the per-file limit as IMAGE_TOO_LARGE, parts the
 * map does not name discarded, a file never sent or cut short as BAD_USER_INPUT, too many files
 * refused before any resolver runs.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import GraphQLUpload from 'graphql-upload/GraphQLUpload.mjs';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readUpload, receiveMultipart } from '../../../src/api/uploads.js';
import { multipartBody } from '../../../src/api/multipart.js';

const MAX_FILE_BYTES = 1000;
const MAX_FILES = 3;
const QUERY = 'mutation($p: [Upload!]!) { enrollPhotos(subjectId: "s", photos: $p) { photos { id } } }';

type Outcome = { bytes: string; filename: string | undefined } | { code: string; message: string };

let server: Server;
let url: string;
/** The status of each request refused, in order. */
const refusals: (number | undefined)[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    // Files are kept for requests with a key (any, here), as the server keeps them for valid API keys.
    const keepsFiles = async (incoming: IncomingMessage) => {
      // A check that outlasts its client: answered once the client has gone.
      if (incoming.headers['x-slow-check']) await new Promise((resolve) => incoming.once('close', resolve));
      return incoming.headers.authorization !== undefined;
    };
    receiveMultipart(MAX_FILES, keepsFiles)(request, response, { maxFileSize: MAX_FILE_BYTES, maxFieldSize: 10_000 }).then(
      async (operations) => {
        const photos = (operations as { variables: { p: unknown[] } }).variables.p;
        const outcomes: Outcome[] = await Promise.all(
          photos.map((value) =>
            // As a resolver gets it: the Upload scalar's value.
            readUpload(GraphQLUpload.parseValue(value), MAX_FILE_BYTES).then(
              (image) => ({ bytes: Buffer.from(image.bytes).toString('latin1'), filename: image.filename }),
              (error: { code: string; message: string }) => ({ code: error.code, message: error.message }),
            ),
          ),
        );
        response.end(JSON.stringify({ outcomes }));
      },
      (error: Error & { status?: number }) => {
        refusals.push(error.status);
        response.statusCode = error.status ?? 500;
        response.end(JSON.stringify({ refused: error.message }));
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

async function send(files: readonly string[], extra?: (form: FormData) => void, headers: Record<string, string> = { authorization: 'Bearer key' }): Promise<{ status: number; body: { outcomes?: Outcome[]; refused?: string } }> {
  const form = multipartBody(
    QUERY,
    { p: files.map(() => null) },
    files.map((text, i) => ({ path: `variables.p.${i}`, file: new Blob([Buffer.from(text, 'latin1')]), name: `photo-${i}.jpg` })),
  );
  extra?.(form);
  const response = await fetch(url, { method: 'POST', body: form, headers });
  return { status: response.status, body: (await response.json()) as { outcomes?: Outcome[]; refused?: string } };
}

/** A multipart body written by hand: operations and map as given, then `tail` (file parts, the end). */
async function sendRaw(map: Record<string, string[]>, tail: string, files = 1): Promise<{ status: number; body: { outcomes?: Outcome[]; refused?: string } }> {
  const boundary = 'b0undary';
  const field = (name: string, value: string) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  const operations = JSON.stringify({ query: QUERY, variables: { p: Array.from({ length: files }, () => null) } });
  const body = field('operations', operations) + field('map', JSON.stringify(map)) + tail.replaceAll('BOUNDARY', boundary);
  const response = await fetch(url, { method: 'POST', body, headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, authorization: 'Bearer key' } });
  return { status: response.status, body: (await response.json()) as { outcomes?: Outcome[]; refused?: string } };
}

describe('multipart uploads received in memory', () => {
  it('give each mapped file whole, with its name; a part the map does not name is discarded', async () => {
    const first = 'ÿØÿ'.padEnd(MAX_FILE_BYTES - 1, 'a');
    const second = 'second file';
    const { status, body } = await send([first, second], (form) => form.append('unmapped', new Blob(['x'.repeat(5000)]), 'other.jpg'));
    expect(status).toBe(200);
    expect(body.outcomes).toEqual([
      { bytes: first, filename: 'photo-0.jpg' },
      { bytes: second, filename: 'photo-1.jpg' },
    ]);
  });

  it('refuse a file one byte over the limit with IMAGE_TOO_LARGE; the request’s other files still arrive', async () => {
    const { status, body } = await send(['small', 'b'.repeat(MAX_FILE_BYTES + 1), 'also small']);
    expect(status).toBe(200);
    expect(body.outcomes).toEqual([
      { bytes: 'small', filename: 'photo-0.jpg' },
      { code: 'IMAGE_TOO_LARGE', message: `an uploaded file is over the ${MAX_FILE_BYTES}-byte limit` },
      { bytes: 'also small', filename: 'photo-2.jpg' },
    ]);
  });

  it('refuse a mapped file that is never sent, or cut short by the end of the body, with BAD_USER_INPUT', async () => {
    const missing = await sendRaw({ 0: ['variables.p.0'] }, '--BOUNDARY--\r\n');
    expect(missing.body.outcomes).toEqual([{ code: 'BAD_USER_INPUT', message: 'an uploaded file could not be read: File missing in the request.' }]);
    const cut = await sendRaw({ 0: ['variables.p.0'] }, '--BOUNDARY\r\nContent-Disposition: form-data; name="0"; filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\nhalf a photo');
    expect(cut.body.outcomes).toEqual([{ code: 'BAD_USER_INPUT', message: expect.stringMatching(/^an uploaded file could not be read: Unexpected end of/) }]);
  });

  it('refuse the request itself (413) for more files than the limit, and (400) for a map path that names no place', async () => {
    const tooMany = await send(['a', 'b', 'c', 'd']);
    expect(tooMany).toEqual({ status: 413, body: { refused: `${MAX_FILES} max file uploads exceeded.` } });
    const nowhere = await sendRaw({ 0: ['variables.p.5'] }, '--BOUNDARY--\r\n');
    expect(nowhere.status).toBe(400);
    expect(nowhere.body.refused).toMatch(/names no place for a file/);
  });

  it('read and drop the files of a request that keeps none (no valid key): its Uploads are refused', async () => {
    const { status, body } = await send(['a photo', 'x'.repeat(MAX_FILE_BYTES - 1)], undefined, {});
    expect(status).toBe(200);
    const refused = { code: 'BAD_USER_INPUT', message: 'an uploaded file could not be read: files are kept only for requests with a valid API key' };
    expect(body.outcomes).toEqual([refused, refused]);
  });

  it('refuse (499) a request whose client left while its key was checked, rather than wait on it', async () => {
    const before = refusals.length;
    const request = httpRequest(url, { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=b0undary', authorization: 'Bearer key', 'x-slow-check': '1' } });
    request.on('error', () => undefined);
    request.write('--b0undary\r\n');
    await new Promise((resolve) => setTimeout(resolve, 50));
    request.destroy();
    while (refusals.length === before) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(refusals.at(-1)).toBe(499);
  });
});

