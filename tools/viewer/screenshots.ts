/**
 * Screenshots of the web viewer for docs/, taken in headless Chromium against a real server whose
 * gallery holds only made-up people rendered from our own 3DMM (src/morphable/synthetic-people.ts),
 * so no dataset photo can appear in them. Run after `npm run build`:
 *   node dist/tools/viewer/screenshots.js [--out docs]
 * Writes viewer-subject.png (enrolled photos and the 3D template), viewer-identify.png and
 * viewer-verify.png (an enrolled photo against a dropped one, both in 3D), at a 1366×768 laptop viewport.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ApiClient, dataOf } from '../../src/api/http-client.js';
import { loadConfig } from '../../src/core/config.js';
import { FaceEncoder } from '../../src/inference/face-encoder.js';
import { inferenceSettings } from '../../src/inference/inference-settings.js';
import { startServer } from '../../src/server.js';
import { chromiumAvailable, CHROMIUM_PATH, launchBrowser, signIn } from './browser.js';
import { syntheticPeople, type SyntheticPerson } from '../../src/morphable/synthetic-people.js';

const PEOPLE = 4;
const ENROLLED_PHOTOS = 3;
const ENROLL = 'mutation($subjectId: ID!, $photos: [Upload!]!) { enrollPhotos(subjectId: $subjectId, photos: $photos) { photos { id } } }';
const PHOTO_STATUS = 'query($id: ID!) { photo(id: $id) { status } }';

async function enroll(api: ApiClient, person: SyntheticPerson): Promise<string[]> {
  const { createSubject } = dataOf(await api.query<{ createSubject: { id: string } }>('mutation($name: String!) { createSubject(input: { name: $name }) { id } }', { name: person.name }));
  const photos = person.photos.slice(0, ENROLLED_PHOTOS);
  const files = Object.fromEntries(photos.map((bytes, i) => [`variables.photos.${i}`, { bytes, name: `${person.name}-${i}.jpg`, type: 'image/jpeg' }]));
  const response = await api.upload<{ enrollPhotos: { photos: { id: string }[] } }>(ENROLL, { subjectId: createSubject.id, photos: photos.map(() => null) }, files);
  return dataOf(response).enrollPhotos.photos.map((photo) => photo.id);
}

async function waitUntilProcessed(api: ApiClient, ids: readonly string[]): Promise<void> {
  for (const id of ids) {
    for (;;) {
      const { photo } = dataOf(await api.query<{ photo: { status: string } }>(PHOTO_STATUS, { id }));
      if (photo.status === 'READY' || photo.status === 'FAILED') break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

const { values } = parseArgs({ options: { out: { type: 'string', default: 'docs' } } });
if (!chromiumAvailable()) throw new Error(`no Chromium at ${CHROMIUM_PATH}: install it (apt-get install chromium) or set FACE3D_CHROMIUM`);
const dir = mkdtempSync(join(tmpdir(), 'face3d-screenshots-'));
const adminKey = randomBytes(24).toString('hex');
const config = loadConfig({ DATABASE_URL: `file:${join(dir, 'face3d.db')}`, HOST: '127.0.0.1', PORT: '0', FACE3D_ADMIN_KEY: adminKey });
const encoder = await FaceEncoder.open(inferenceSettings(config));
const server = await startServer({ config, encoder, log: () => undefined });
const browser = await launchBrowser();
try {
  const api = new ApiClient(server.url, adminKey);
  const people = await syntheticPeople(encoder.bundle, PEOPLE, ENROLLED_PHOTOS + 1);
  const photoIds: string[] = [];
  for (const person of people) photoIds.push(...(await enroll(api, person)));
  await waitUntilProcessed(api, photoIds);

  const page = await browser.context.newPage();
  await page.goto(server.url);
  await signIn(page, adminKey);
  const [first] = people;
  await page.click(`#subject-list a:has-text("${first.name}")`);
  await page.locator('.detail-side .mesh-viewer[data-state=ready]').waitFor();
  await page.locator('.photo-card[data-status=READY] img[src^="blob:"]').nth(ENROLLED_PHOTOS - 1).waitFor();
  await page.screenshot({ path: join(values.out!, 'viewer-subject.png') });

  await page.click('nav a:has-text("Identify")');
  await page.setInputFiles('#identify-input', { name: 'who-is-this.jpg', mimeType: 'image/jpeg', buffer: first.photos[ENROLLED_PHOTOS] });
  await page.locator('.identify-results .matches').waitFor();
  await page.waitForFunction("[...document.querySelectorAll('.matches img')].every((image) => image.complete && image.naturalWidth > 0)");
  await page.screenshot({ path: join(values.out!, 'viewer-identify.png') });

  await page.click('nav a:has-text("Subjects")');
  await page.click(`#subject-list a:has-text("${first.name}")`);
  await page.locator('.photo-card[data-status=READY] button:has-text("Verify A")').first().click();
  await page.setInputFiles('#verify-input-b', { name: 'dropped.jpg', mimeType: 'image/jpeg', buffer: first.photos[ENROLLED_PHOTOS] });
  await page.locator('.verify-result .verdict').waitFor();
  await page.locator('.verify-side .mesh-viewer[data-state=ready]').nth(1).waitFor();
  await page.screenshot({ path: join(values.out!, 'viewer-verify.png') });
  console.log(`wrote ${['subject', 'identify', 'verify'].map((name) => join(values.out!, `viewer-${name}.png`)).join(', ')}`);
} finally {
  await browser.close();
  await server.close();
  await encoder.close();
  rmSync(dir, { recursive: true, force: true });
}
