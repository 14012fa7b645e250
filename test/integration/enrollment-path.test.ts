/**
 * One photo's way from upload to index on the real server (real models, SQLite, HTTP): it is
 * decoded once (the worker's decode; enrollment reads its header only), and the vector the
 * encoder regressed is the array the index receives, not a copy joined or converted on the way.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient, dataOf } from '../../src/api/http-client.js';
import { stageChannel, type StageTiming } from '../../src/core/events.js';
import type { EncodedFace } from '../../src/inference/bundle-encoder.js';
import { FaceEncoder } from '../../src/inference/face-encoder.js';
import type { RunningServer } from '../../src/server.js';
import { ADMIN_KEY, startTestServer } from '../helpers/api-server.js';
import { LFW_DEV, lfwPeople } from '../helpers/lfw.js';

const person = lfwPeople(1)?.[0];
const describeWithLfw = person ? describe : describe.skip;
if (!person) console.warn(`enrollment-path.test.ts: skipped, the LFW photos are not in ${LFW_DEV}`);

const ENROLL = 'mutation($subjectId: ID!, $photos: [Upload!]!) { enrollPhotos(subjectId: $subjectId, photos: $photos) { photos { id } } }';

let dir: string;
let encoder: FaceEncoder;
let server: RunningServer;

beforeAll(async () => {
  if (!person) return;
  dir = mkdtempSync(join(tmpdir(), 'face3d-enrollment-path-'));
  encoder = await FaceEncoder.open();
  server = await startTestServer(dir, encoder);
});

afterAll(async () => {
  await server?.close();
  await encoder?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describeWithLfw('a photo enrolled through the API', () => {
  it('is decoded once, and its index entry is the encoder\'s own vector', async () => {
    const admin = new ApiClient(server.url, ADMIN_KEY);
    const { createSubject } = dataOf(await admin.query<{ createSubject: { id: string } }>('mutation { createSubject(input: { name: "Path" }) { id } }'));
    const decodes: StageTiming[] = [];
    const countDecodes = (message: unknown): void => {
      if ((message as StageTiming).stage === 'decode') decodes.push(message as StageTiming);
    };
    const encode = jest.spyOn(encoder, 'encode');
    const addFace = jest.spyOn(server.gallery.index, 'addFace');
    subscribe(stageChannel.name, countDecodes);
    try {
      const photo = { bytes: await readFile(person!.photos[0]), name: 'face.jpg' };
      const enrolled = await admin.upload<{ enrollPhotos: { photos: { id: string }[] } }>(ENROLL, { subjectId: createSubject.id, photos: [null] }, { 'variables.photos.0': photo });
      const [{ id }] = dataOf(enrolled).enrollPhotos.photos;
      await server.worker.idle();
      const { photo: stored } = dataOf(await admin.query<{ photo: { status: string } }>('query($id: ID!) { photo(id: $id) { status } }', { id }));
      expect(stored.status).toBe('READY');
      expect(decodes).toHaveLength(1);
      expect(encode).toHaveBeenCalledTimes(1);
      expect(addFace).toHaveBeenCalledTimes(1);
      // The regressor's own output array: α and β were never split into copies and joined again.
      const [face] = (await encode.mock.results[0].value) as EncodedFace[];
      expect(addFace.mock.calls[0][0].vector).toBe(face.vector.vector);
      expect(face.vector.shape.buffer).toBe(face.vector.vector.buffer);
    } finally {
      unsubscribe(stageChannel.name, countDecodes);
      encode.mockRestore();
      addFace.mockRestore();
    }
  });
});
