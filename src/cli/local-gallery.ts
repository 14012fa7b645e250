/**
 * The gallery in this process, over the database of DATABASE_URL, opened as `face3d serve` opens
 * it (migrations, one encoder per served bundle, indexes) but without HTTP. Enrolling also runs the
 * start-up repair and a worker, so it is meant for a SQLite database no server is using at the
 * time: there the repair requeues every job it finds running, which would be another process's
 * work (with a server running, use `--server`). Reading and identifying repair nothing.
 */
import { Cleanups, errorLogger } from '../core/lifecycle.js';
import { config as processConfig, type Config } from '../core/config.js';
import type { Gallery } from '../gallery/gallery.js';
import { encodeCursor } from '../store/pagination.js';
import { PhotoRepository } from '../store/photo-repository.js';
import { subjectTemplate } from '../gallery/coefficients.js';
import type { PhotoRecord } from '../store/records.js';
import { GalleryStore } from '../store/gallery-store.js';
import { SubjectRepository } from '../store/subject-repository.js';
import type { BundleEncoder } from '../inference/bundle-encoder.js';
import { bundleDirOf, openBundleEncoder } from '../inference/open-encoder.js';
import { inferenceSettings } from '../inference/inference-settings.js';
import { readBundleManifest } from '../morphable/bundle.js';
import { openDatabase } from '../store/database.js';
import { announceGallery } from './gallery-location.js';
import { matchSubject, type FileInput, type GalleryClient, type IdentifyReport, type PhotoState, type SubjectExport, type SubjectSummary } from './gallery-client.js';

const PAGE = 100;

/** `read`: the database only; `identify`: plus encoders and indexes; `enroll`: plus a running enrollment worker. */
export type LocalMode = 'read' | 'identify' | 'enroll';

function photoState(photo: PhotoRecord): PhotoState {
  return { id: photo.id, sha256: photo.sha256, status: photo.status, error: photo.error };
}

async function allPhotosOf(photos: PhotoRepository, subjectId: string): Promise<PhotoRecord[]> {
  const all: PhotoRecord[] = [];
  for (let after: string | undefined; ; ) {
    const [page] = await photos.pagesBySubject([subjectId], { first: PAGE, after });
    all.push(...page.items);
    if (!page.hasNextPage) return all;
    after = encodeCursor(page.items.at(-1)!);
  }
}

interface LocalParts {
  readonly subjects: SubjectRepository;
  readonly photos: PhotoRepository;
  /** The default bundle: templates are exported under it. */
  readonly bundleId: string;
  readonly gallery: Gallery | null;
  readonly close: () => Promise<void>;
}

export class LocalGallery implements GalleryClient {
  private constructor(private readonly parts: LocalParts) {}

  static async open(mode: LocalMode, settings: Config = processConfig()): Promise<LocalGallery> {
    const cleanups = new Cleanups();
    const close = cleanups.run;
    return cleanups.opening(async () => {
      announceGallery(settings.databaseUrl, { create: mode === 'enroll' });
      const database = await openDatabase(settings.databaseUrl);
      cleanups.push(() => database.close());
      if (mode === 'read') {
        const store = new GalleryStore(database.prisma, { provider: database.provider });
        const bundleId = (await readBundleManifest(bundleDirOf(settings.bundles[0], settings.modelsDir))).id;
        return new LocalGallery({ subjects: new SubjectRepository(store), photos: new PhotoRepository(store), bundleId, gallery: null, close });
      }
      // Loaded here: the service's dependencies would only slow the read-only commands down.
      const { openEncoders, openService } = await import('../service/open-service.js');
      const encoders = await openEncoders(settings, undefined, cleanups);
      // Enrolling searches nothing: no vectors to load. Identifying runs no job: the repair is the gallery's processes' to do.
      const { services, worker } = await openService(settings, database, encoders, errorLogger('face3d', (line) => process.stderr.write(`${line}\n`)), cleanups, { index: mode !== 'enroll', repair: mode === 'enroll' });
      const { gallery } = services;
      if (mode === 'enroll') {
        cleanups.push(() => worker.stop());
        worker.start();
      }
      return new LocalGallery({ subjects: gallery.subjects, photos: gallery.photos, bundleId: gallery.bundleId, gallery, close });
    });
  }

  private get gallery(): Gallery {
    if (!this.parts.gallery) throw new Error('this local gallery was opened without its encoders');
    return this.parts.gallery;
  }

  async subjectFor(name: string): Promise<{ id: string; created: boolean }> {
    const { items } = await this.parts.subjects.list({ search: name, first: PAGE });
    const found = matchSubject(items, name);
    if (found) return { id: found.id, created: false };
    return { id: (await this.parts.subjects.create({ name, externalId: name })).id, created: true };
  }

  async photosOf(subjectId: string): Promise<PhotoState[]> {
    return (await allPhotosOf(this.parts.photos, subjectId)).map(photoState);
  }

  async enrollPhoto(subjectId: string, file: FileInput): Promise<PhotoState> {
    const [result] = await this.gallery.enroll(subjectId, [{ bytes: file.bytes, filename: file.name }], null);
    return photoState(result.photo);
  }

  async photoStates(ids: readonly string[]): Promise<PhotoState[]> {
    return (await this.parts.photos.findMany(ids)).filter((photo) => photo !== null).map(photoState);
  }

  async identify(file: FileInput, options: { topK: number; threshold?: number }): Promise<IdentifyReport> {
    const gallery = this.gallery;
    const probe = await gallery.probeImage({ bytes: file.bytes, filename: file.name }, null);
    const outcome = await gallery.identify(probe, { topK: options.topK, threshold: options.threshold, mode: 'TEMPLATE' });
    const subjects = await this.parts.subjects.findMany(outcome.candidates.map((candidate) => candidate.subjectId));
    return {
      unknown: outcome.unknown,
      threshold: outcome.threshold.value,
      thresholdSource: outcome.threshold.source,
      falseAcceptRate: outcome.threshold.falseAcceptRate,
      fpir: outcome.threshold.fpir,
      templates: outcome.threshold.templates,
      matches: outcome.candidates.map((candidate, i) => ({
        rank: i + 1,
        subject: { id: candidate.subjectId, name: subjects[i]?.name ?? '', externalId: subjects[i]?.externalId ?? null },
        similarity: candidate.similarity,
        aboveThreshold: candidate.aboveThreshold,
        strangerChance: candidate.strangerChance,
      })),
    };
  }

  async *subjects(search?: string): AsyncIterable<SubjectSummary> {
    for await (const page of this.subjectPages(search)) {
      const counts = await this.parts.photos.countsBySubject(page.map((subject) => subject.id));
      yield* page.map((subject, i) => ({ id: subject.id, name: subject.name, externalId: subject.externalId, photoCount: counts[i] }));
    }
  }

  async *exportSubjects(): AsyncIterable<SubjectExport> {
    const { bundleId } = this.parts;
    for await (const page of this.subjectPages()) {
      const faces = await this.parts.photos.faceVectorsOfSubjects(page.map((subject) => subject.id), bundleId);
      for (const [i, subject] of page.entries()) {
        const template = subjectTemplate(bundleId, faces[i]);
        yield {
          id: subject.id,
          name: subject.name,
          externalId: subject.externalId,
          template: template && { bundle: bundleId, shape: Array.from(template.shape), texture: Array.from(template.texture) },
          photos: await this.photosOf(subject.id),
        };
      }
    }
  }

  close(): Promise<void> {
    return this.parts.close();
  }

  private async *subjectPages(search?: string) {
    for (let after: string | undefined; ; ) {
      const page = await this.parts.subjects.list({ search, first: PAGE, after });
      if (page.items.length > 0) yield page.items;
      if (!page.hasNextPage) return;
      after = encodeCursor(page.items.at(-1)!);
    }
  }
}

/** The default bundle's encoder alone, for commands that need no gallery (verify, mesh). */
export function openDefaultEncoder(settings: Config = processConfig()): Promise<BundleEncoder> {
  return openBundleEncoder(bundleDirOf(settings.bundles[0], settings.modelsDir), inferenceSettings(settings));
}
