/** Per-request batching: each kind of record is fetched once per tick for every field that needs it. */
import DataLoader from 'dataloader';
import type { Gallery } from '../gallery/gallery.js';
import type { Page } from '../store/pagination.js';
import type { PhotoPageArgs } from '../store/photo-repository.js';
import type { SubjectTemplate } from '../gallery/coefficients.js';
import type { FaceRecord, FaceVectorRecord, PhotoRecord, SubjectRecord } from '../store/records.js';

export interface PhotoPageKey extends PhotoPageArgs {
  readonly subjectId: string;
}

export interface Loaders {
  readonly subject: DataLoader<string, SubjectRecord | null>;
  readonly photo: DataLoader<string, PhotoRecord | null>;
  readonly face: DataLoader<string, FaceRecord | null>;
  readonly faceOfPhoto: DataLoader<string, FaceRecord | null>;
  /** Under the server's bundle. */
  readonly vectorOfFace: DataLoader<string, FaceVectorRecord | null>;
  readonly photoCount: DataLoader<string, number>;
  /** Each subject's template under the server's default bundle. */
  readonly subjectTemplate: DataLoader<string, SubjectTemplate | null>;
  readonly photoPage: DataLoader<PhotoPageKey, Page<PhotoRecord>, string>;
}

/** Keys that ask for the same page shape are fetched together. */
async function loadPhotoPages(gallery: Gallery, keys: readonly PhotoPageKey[]): Promise<Page<PhotoRecord>[]> {
  const groups = new Map<string, PhotoPageKey[]>();
  for (const key of keys) {
    const shape = JSON.stringify([key.first ?? null, key.after ?? null, key.status ?? null]);
    groups.set(shape, [...(groups.get(shape) ?? []), key]);
  }
  const pages = new Map<PhotoPageKey, Page<PhotoRecord>>();
  await Promise.all(
    [...groups.values()].map(async (group) => {
      const loaded = await gallery.photos.pagesBySubject(group.map((key) => key.subjectId), group[0]);
      group.forEach((key, i) => pages.set(key, loaded[i]));
    }),
  );
  return keys.map((key) => pages.get(key)!);
}

export function createLoaders(gallery: Gallery): Loaders {
  const { photos, subjects } = gallery;
  return {
    subject: new DataLoader((ids) => subjects.findMany(ids)),
    photo: new DataLoader((ids) => photos.findMany(ids)),
    face: new DataLoader((ids) => photos.facesByIds(ids)),
    faceOfPhoto: new DataLoader((ids) => photos.facesByPhotoIds(ids)),
    vectorOfFace: new DataLoader((ids) => photos.vectorsByFaceIds(ids, gallery.bundleId)),
    photoCount: new DataLoader((ids) => photos.countsBySubject(ids)),
    subjectTemplate: new DataLoader((ids) => gallery.subjectTemplates(ids)),
    photoPage: new DataLoader((keys) => loadPhotoPages(gallery, keys), {
      cacheKeyFn: (key) => JSON.stringify([key.subjectId, key.first ?? null, key.after ?? null, key.status ?? null]),
    }),
  };
}
