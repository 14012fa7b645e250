/**
 * The gallery's operations, whatever calls them (GraphQL, HTTP downloads, CLI, benchmarks):
 * subjects and photos in the database, photo bytes in the blob store, vectors in one in-memory
 * index per served bundle, probes encoded by that bundle's encoder. Requests name a bundle or get
 * the default one; vectors of different bundles are never compared.
 */
import { Face3dError, isFace3dError } from '../core/errors.js';
import { decodeImage, readImageHeader, type DecodeLimits } from '../inference/decode.js';
import type { FacePhoto } from '../inference/face-texture.js';
import type { FaceAnalyser } from '../inference/bundle-encoder.js';
import { cosineSimilarity, templateWeight } from '../core/vector.js';
import type { Box } from '../core/image.js';
import type { Bundle } from '../morphable/bundle.js';
import type { Coefficients } from '../morphable/reconstruct.js';
import type { EulerAngles } from '../morphable/procrustes.js';
import { AsyncLock } from '../core/async-lock.js';
import type { BlobStore } from '../store/blob-store.js';
import { photosWithoutFile } from '../store/photo-folder.js';
import { isMatch, isUnknown, type Threshold, type ThresholdPolicy } from './decision.js';
import type { QualityFilter } from '../store/enums.js';
import type { BundleVector, GalleryIndex } from './gallery-index.js';
import { assertFiniteCoefficients, subjectTemplate, templateCoefficients, type SubjectTemplate } from './coefficients.js';
import { exportMesh, exportsFromPhotos, type MeshExport, type MeshFormat } from './mesh-export.js';
import type { MeshPool } from './mesh-pool.js';
import type { SqlitePhotoInserts } from '../store/sqlite-photo-inserts.js';
import type { SqliteEnrollmentSaves } from '../store/sqlite-enrollment-saves.js';
import { PhotoRepository, type AcceptedPhoto, type AcceptResult, type AddedFaceVector, type FaceToSave, type FaceWithoutVector } from '../store/photo-repository.js';
import type { PhotoEvents } from './photo-events.js';
import { notFound, SubjectRepository } from '../store/subject-repository.js';
import type { GalleryStore } from '../store/gallery-store.js';
import type { SaveTransaction } from '../store/job-repository.js';
import type { Candidate, MatchMode, PhotoRecord } from '../store/records.js';
import type { PhotoStatus } from '../store/enums.js';
import { timeSearch } from '../core/events.js';

export interface UploadedImage {
  readonly bytes: Uint8Array;
  /** For error messages only. */
  readonly filename?: string;
}

/** The face a probe was made from, when it was one face (not a subject's template). */
export interface ProbeFace {
  readonly box: Box;
  readonly score: number;
  readonly pose: EulerAngles;
  readonly expression: Float32Array;
  /** The photo and landmarks of a probe made from an image, which its mesh's texture is unwrapped from. */
  readonly photo?: FacePhoto;
}

/** What identify and verify compare: an identity vector plus where it came from. */
export interface Probe extends BundleVector {
  /** α and β as stored or regressed (σ units); a subject's are its faces' means. */
  readonly shape: Float32Array;
  readonly texture: Float32Array;
  readonly face: ProbeFace | null;
  readonly photoId: string | null;
  readonly faceId: string | null;
  readonly subjectId: string | null;
}

export interface RankedCandidate extends Candidate {
  readonly aboveThreshold: boolean;
  /** The estimated share of strangers who would score this high against the templates searched; null without an impostor curve. */
  readonly strangerChance: number | null;
}

export interface IdentifyOptions {
  readonly topK: number;
  readonly threshold?: number | null;
  readonly mode: MatchMode;
}

export interface IdentifyOutcome {
  readonly candidates: readonly RankedCandidate[];
  readonly unknown: boolean;
  readonly threshold: Threshold;
}

export interface VerifyOutcome {
  readonly similarity: number;
  readonly match: boolean;
  readonly threshold: Threshold;
  /** The estimated share of strangers who would score this high against b; null without an impostor curve. */
  readonly strangerChance: number | null;
}

/** One bundle the gallery serves: its encoder, its model, its vectors, its thresholds. */
export interface ServedBundle {
  readonly index: GalleryIndex;
  readonly analyser: FaceAnalyser;
  readonly bundle: Bundle;
  readonly decision: ThresholdPolicy;
}

export interface GalleryDeps extends ServedBundle {
  readonly store: GalleryStore;
  readonly blobs: BlobStore;
  /** Served beside the default bundle (the deps' own index, analyser, bundle and threshold). */
  readonly otherBundles?: readonly ServedBundle[];
  readonly decodeLimits: DecodeLimits;
  /** Where every change of a photo's status is published (the `photoStatus` subscription). */
  readonly events: PhotoEvents;
  /** Where mesh downloads are made off the event loop (issue 18); without one, in this thread. */
  readonly meshPool?: MeshPool;
  /** False in a process that searches nothing (`face3d worker`): enrolled faces are stored, not indexed. */
  readonly indexed?: boolean;
  /** Called after photos were queued for enrollment. */
  readonly onQueued: () => void;
  /** On SQLite, the upload's insert on a connection of its own (src/store/sqlite-photo-inserts.ts). */
  readonly photoInserts?: SqlitePhotoInserts;
  /** On SQLite, the worker's save on a connection of its own (src/store/sqlite-enrollment-saves.ts). */
  readonly enrollmentSaves?: SqliteEnrollmentSaves;
}

export interface MeshTarget {
  readonly kind: 'subject' | 'face';
  readonly id: string;
}

export function meshStem(target: MeshTarget): string {
  return `${target.kind}-${target.id}`;
}

export const MAX_TOP_K = 100;
/** The most photos a downloaded mesh's texture is unwrapped from. */
export const MAX_TEXTURE_PHOTOS = 8;

const MIME_TYPES = { jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp', gif: 'image/gif', tiff: 'image/tiff', avif: 'image/avif' } as const;

function validateBox(box: Box, width?: number, height?: number): void {
  const values = [box.x, box.y, box.width, box.height];
  if (!values.every(Number.isFinite) || box.width <= 0 || box.height <= 0) {
    throw new Face3dError('BAD_USER_INPUT', 'faceBox needs finite x and y and a positive width and height');
  }
  if (width !== undefined && height !== undefined && (box.x >= width || box.y >= height || box.x + box.width <= 0 || box.y + box.height <= 0)) {
    throw new Face3dError('BAD_USER_INPUT', `faceBox lies outside the ${width}x${height} image`);
  }
}

/** Prefixes which upload failed, keeping the code. */
function aboutUpload(error: unknown, index: number, image: UploadedImage): unknown {
  if (!isFace3dError(error)) return error;
  const name = image.filename ? ` (${image.filename})` : '';
  return new Face3dError(error.code, `photo ${index + 1}${name}: ${error.message}`, { cause: error });
}

/** Names the photo a storage error is about (the blob store names no file, so clients learn no path). */
function aboutPhoto(error: unknown, photoId: string): unknown {
  if (!isFace3dError(error)) return error;
  return new Face3dError(error.code, `photo "${photoId}": ${error.message}`, { cause: error });
}

export class Gallery {
  readonly subjects: SubjectRepository;
  readonly photos: PhotoRepository;
  /** Between storing a file and recording its photo, a delete must not take the file as unused. */
  private readonly blobLock = new AsyncLock();
  private readonly servedBundles: ReadonlyMap<string, ServedBundle>;

  constructor(private readonly deps: GalleryDeps) {
    this.subjects = new SubjectRepository(deps.store);
    this.photos = new PhotoRepository(deps.store, deps.photoInserts, deps.enrollmentSaves);
    this.servedBundles = new Map([deps, ...(deps.otherBundles ?? [])].map((served) => [served.index.bundleId, served]));
  }

  /** The default bundle's model. */
  get bundle(): Bundle {
    return this.deps.bundle;
  }

  /** The default bundle: requests that name none use it. */
  get bundleId(): string {
    return this.deps.index.bundleId;
  }

  /** Every served bundle, the default first. */
  get bundleIds(): string[] {
    return [...this.servedBundles.keys()];
  }

  /** The named bundle (the default when none is named); BAD_USER_INPUT when this server does not serve it. */
  served(bundleId?: string | null): ServedBundle {
    const served = this.servedBundles.get(bundleId ?? this.bundleId);
    if (!served) throw new Face3dError('BAD_USER_INPUT', `bundle "${bundleId}" is not served here; served: ${this.bundleIds.join(', ')}`);
    return served;
  }

  /** The default bundle's threshold policy. */
  get decision(): ThresholdPolicy {
    return this.deps.decision;
  }

  /** How many templates an identification searches now: subjects (TEMPLATE) or enrolled faces (PHOTO). */
  templatesSearched(mode: MatchMode, bundleId?: string | null): number {
    const { index } = this.served(bundleId);
    return mode === 'PHOTO' ? index.faceCount : index.subjectCount;
  }

  /** The threshold in force now for an identification in `mode` under the default bundle. */
  defaultThreshold(mode: MatchMode = 'TEMPLATE'): Threshold {
    return this.deps.decision.forGallery(this.templatesSearched(mode));
  }

  /** The default bundle's index. */
  get index(): GalleryIndex {
    return this.deps.index;
  }

  /** Puts an enrolled face's vector into the index of the vector's bundle. */
  indexFace(faceId: string, subjectId: string, vector: BundleVector, qualityScore: number | null | undefined): void {
    this.served(vector.bundleId).index.addFace({ faceId, subjectId, bundleId: vector.bundleId, vector: vector.vector, weight: templateWeight(qualityScore) });
  }

  /** Tells subscribers a photo's status changed (queued, running, failed, ready). */
  photoChanged(photo: PhotoRecord): void {
    this.deps.events.publish(photo);
  }

  /** Whether anyone is subscribed to photo changes (otherwise reading a changed photo to publish it is wasted). */
  watched(): boolean {
    return this.deps.events.subscribed();
  }

  /**
   * Faces were enrolled: stored with their vectors (their jobs done, all in one transaction), put into
   * this process's indexes and published. For each, null when its photo was deleted meanwhile or
   * another worker stored its face first. `andThen`: more work for the same transaction (the worker
   * claims its next jobs there), undone with the faces if the transaction fails.
   */
  async enrollFaces(faces: readonly FaceToSave[], andThen?: (tx: SaveTransaction) => Promise<void>): Promise<(PhotoRecord | null)[]> {
    const saved = await this.photos.saveFaces(faces, andThen);
    return saved.map((stored, i) => {
      if (!stored) return null;
      const encoded = faces[i].face;
      if (this.deps.indexed ?? true) {
        for (const vector of [encoded, ...(encoded.otherVectors ?? [])]) this.indexFace(stored.face.id, stored.photo.subjectId, vector, encoded.quality?.score);
      }
      this.photoChanged(stored.photo);
      return stored.photo;
    });
  }

  /** The worker's backfill: its next stored faces to encode under `bundleId`, claimed for it alone (see PhotoRepository.claimFacesWithoutVector). */
  claimFacesWithoutVector(...args: Parameters<PhotoRepository['claimFacesWithoutVector']>): Promise<{ faces: FaceWithoutVector[]; lookedTo: string | undefined }> {
    return this.photos.claimFacesWithoutVector(...args);
  }

  /**
   * Stored faces were encoded under bundles they had no vector under (the worker's backfill): their
   * vectors stored, put into this process's indexes and announced to other processes. The number
   * stored (not those whose face was deleted meanwhile, nor those another worker stored first).
   */
  async addFaceVectors(vectors: readonly AddedFaceVector[]): Promise<number> {
    const stored = await this.photos.addFaceVectors(vectors);
    if (this.deps.indexed ?? true) for (const vector of stored) this.indexFace(vector.faceId, vector.subjectId, vector, vector.qualityScore);
    return stored.length;
  }

  /** Loads every enrolled face of every served bundle into its index (start-up). */
  async loadIndex(): Promise<void> {
    for (const bundleId of this.bundleIds) {
      for await (const face of this.photos.allFaceVectors(bundleId)) this.indexFace(face.faceId, face.subjectId, face, face.qualityScore);
    }
  }

  /**
   * Puts faces enrolled by another process into this process's indexes (change feed), one query for
   * whose they are and one per bundle for their vectors; each face's photo id, or null when the face
   * is gone again.
   */
  async indexStoredFaces(faceIds: readonly string[]): Promise<(string | null)[]> {
    const owners = await this.photos.faceOwners(faceIds);
    for (const bundleId of this.bundleIds) {
      const vectors = await this.photos.vectorsByFaceIds(faceIds, bundleId);
      vectors.forEach((vector, i) => {
        const owner = owners[i];
        if (vector && owner) this.indexFace(faceIds[i], owner.subjectId, vector, owner.qualityScore);
      });
    }
    return owners.map((owner) => owner?.photoId ?? null);
  }

  forgetFace(faceId: string): void {
    for (const served of this.servedBundles.values()) served.index.removeFace(faceId);
  }

  forgetSubject(subjectId: string): void {
    for (const served of this.servedBundles.values()) served.index.removeSubject(subjectId);
  }

  async deleteSubject(id: string): Promise<void> {
    const deleted = await this.subjects.delete(id);
    this.forgetSubject(id);
    await this.removeUnreferencedBlobs(deleted.storagePaths);
  }

  async deletePhoto(id: string): Promise<void> {
    const deleted = await this.photos.delete(id);
    if (deleted.faceId) this.forgetFace(deleted.faceId);
    await this.removeUnreferencedBlobs([deleted.storagePath]);
  }

  /**
   * Checks every image (format, size, header and structure, box), stores their bytes durably, then
   * records all photos and their jobs in one transaction: the batch is accepted whole or not at all.
   */
  async enroll(subjectId: string, images: readonly UploadedImage[], faceBox: Box | null, qualityFilter: QualityFilter = 'AUTO'): Promise<AcceptResult[]> {
    if (images.length === 0) throw new Face3dError('BAD_USER_INPUT', 'photos must hold at least one image');
    if (faceBox) validateBox(faceBox);
    const checked: (Omit<AcceptedPhoto, 'sha256' | 'storagePath'> & { bytes: Uint8Array })[] = [];
    for (const [i, image] of images.entries()) {
      try {
        // The header and the container's structure only: the worker decodes the photo, once.
        const header = await readImageHeader(image.bytes, this.deps.decodeLimits);
        if (faceBox) validateBox(faceBox, header.width, header.height);
        checked.push({ bytes: image.bytes, mimeType: MIME_TYPES[header.format], width: header.width, height: header.height });
      } catch (error) {
        throw aboutUpload(error, i, image);
      }
    }
    const results = await this.blobLock.run(async () => {
      const accepted: AcceptedPhoto[] = [];
      try {
        for (const { bytes, ...photo } of checked) accepted.push({ ...(await this.deps.blobs.put(bytes)), ...photo });
        return await this.photos.accept(subjectId, accepted, faceBox, qualityFilter);
      } catch (error) {
        await this.removeUnreferenced(accepted.map((photo) => photo.storagePath));
        throw error;
      }
    });
    for (const result of results) if (result.created) this.photoChanged(result.photo);
    if (results.some((result) => result.created)) this.deps.onQueued();
    return results;
  }

  /** The probe from a photo's largest face (or the face in `faceBox`) under `bundleId`; NO_FACE when there is none. */
  async probeImage(image: UploadedImage, faceBox: Box | null, bundleId?: string | null): Promise<Probe> {
    const { analyser } = this.served(bundleId);
    if (faceBox) validateBox(faceBox);
    const decoded = await decodeImage(image.bytes, this.deps.decodeLimits);
    if (faceBox) validateBox(faceBox, decoded.width, decoded.height);
    const [face] = await analyser.encode(decoded, faceBox ? { faceBox } : {});
    if (!face) throw new Face3dError('NO_FACE', 'no face found in the image');
    assertFiniteCoefficients(face.vector);
    return {
      ...face.vector,
      face: { box: face.box, score: face.score, pose: face.pose, expression: face.expression, photo: { image: decoded, landmarks: face.landmarks.points } },
      photoId: null,
      faceId: null,
      subjectId: null,
    };
  }

  /** The probe from an enrolled photo's stored vector under `bundleId`. */
  async probePhoto(photoId: string, bundleId?: string | null): Promise<Probe> {
    const bundle = this.served(bundleId).index.bundleId;
    const [photo] = await this.photos.findMany([photoId]);
    if (!photo) throw notFound('photo', photoId);
    const [face] = await this.photos.facesByPhotoIds([photoId]);
    const [stored] = face ? await this.photos.vectorsByFaceIds([face.id], bundle) : [null];
    if (!face || !stored) {
      const why = photo.status === 'FAILED' ? `failed (${photo.error?.code})` : `is ${photo.status}`;
      throw new Face3dError('NOT_READY', `photo "${photoId}" has no face vector of bundle ${bundle}: its enrollment ${why}`);
    }
    return { ...stored, face, photoId, faceId: face.id, subjectId: photo.subjectId };
  }

  /** The probe of a subject: its template, and its faces' mean coefficients. */
  async probeSubject(subjectId: string, bundleId?: string | null): Promise<Probe> {
    const { index } = this.served(bundleId);
    const coefficients = await this.subjectCoefficients(subjectId, false, index.bundleId);
    const template = index.template(subjectId);
    if (!template) throw new Face3dError('NOT_READY', `subject "${subjectId}" has no enrolled face of bundle ${index.bundleId}`);
    return {
      bundleId: index.bundleId,
      vector: template,
      shape: Float32Array.from(coefficients.shape),
      texture: Float32Array.from(coefficients.texture),
      face: null,
      photoId: null,
      faceId: null,
      subjectId,
    };
  }

  /** Searches pgvector's index in SQL where the database has it, else this process's index. */
  async identify(probe: Probe, options: IdentifyOptions): Promise<IdentifyOutcome> {
    if (!Number.isInteger(options.topK) || options.topK < 1 || options.topK > MAX_TOP_K) {
      throw new Face3dError('BAD_USER_INPUT', `topK must be an integer from 1 to ${MAX_TOP_K}, got ${options.topK}`);
    }
    const served = this.served(probe.bundleId);
    const templates = this.templatesSearched(options.mode, probe.bundleId);
    const threshold = served.decision.choose(options.threshold, templates);
    const vectors = this.deps.store.vectors;
    const found = await timeSearch(probe.bundleId, async () =>
      vectors ? vectors.search(probe.bundleId, probe.vector, options.topK, options.mode) : served.index.search(probe, options.topK, options.mode),
    );
    const candidates = found.map((candidate) => ({
      ...candidate,
      aboveThreshold: isMatch(candidate.similarity, threshold),
      strangerChance: served.decision.strangerChance(candidate.similarity, templates),
    }));
    return { candidates, unknown: isUnknown(candidates[0]?.similarity, threshold), threshold };
  }

  verify(a: Probe, b: Probe, requestedThreshold?: number | null): VerifyOutcome {
    if (a.bundleId !== b.bundleId) throw new Face3dError('BAD_USER_INPUT', `a vector of bundle ${a.bundleId} cannot be compared with one of bundle ${b.bundleId}`);
    // One claimed identity: a gallery of one template.
    const { decision } = this.served(a.bundleId);
    const threshold = decision.choose(requestedThreshold, 1);
    const similarity = cosineSimilarity(a.vector, b.vector);
    return { similarity, match: isMatch(similarity, threshold), threshold, strangerChance: decision.strangerChance(similarity, 1) };
  }

  /** Each subject's template under `bundleId` (the default bundle), or null for a subject without an enrolled face of it. */
  async subjectTemplates(subjectIds: readonly string[], bundleId = this.bundleId): Promise<(SubjectTemplate | null)[]> {
    return (await this.photos.faceVectorsOfSubjects(subjectIds, bundleId)).map((faces) => subjectTemplate(bundleId, faces));
  }

  /** The mean of the subject's faces' coefficients (and expressions, when asked). */
  async subjectCoefficients(subjectId: string, withExpression: boolean, bundleId = this.bundleId): Promise<Coefficients> {
    const [subject] = await this.subjects.findMany([subjectId]);
    if (!subject) throw notFound('subject', subjectId);
    const [faces] = await this.photos.faceVectorsOfSubjects([subjectId], bundleId);
    if (faces.length === 0) throw new Face3dError('NOT_READY', `subject "${subjectId}" has no enrolled face of bundle ${bundleId}`);
    return templateCoefficients(faces, withExpression);
  }

  async faceCoefficients(faceId: string, withExpression: boolean, bundleId = this.bundleId): Promise<Coefficients> {
    const [face] = await this.photos.facesByIds([faceId]);
    if (!face) throw notFound('face', faceId);
    const [vector] = await this.photos.vectorsByFaceIds([faceId], bundleId);
    if (!vector) throw new Face3dError('NOT_READY', `face "${faceId}" has no vector of bundle ${bundleId}`);
    return { shape: vector.shape, texture: vector.texture, ...(withExpression && { expression: face.expression }) };
  }

  /** The stored original of a photo; PHOTO_MISSING or PHOTO_CORRUPT when its file is gone or damaged. */
  async photoFile(photoId: string): Promise<{ bytes: Buffer; mimeType: string }> {
    const [photo] = await this.photos.findMany([photoId]);
    if (!photo) throw notFound('photo', photoId);
    try {
      return { bytes: await this.deps.blobs.read(photo.storagePath), mimeType: photo.mimeType };
    } catch (error) {
      throw aboutPhoto(error, photoId);
    }
  }

  /** Photos (of `statuses`) whose stored file is not in the photo folder. */
  photosWithoutFile(statuses: readonly PhotoStatus[]): Promise<string[]> {
    return photosWithoutFile(this.photos, this.deps.blobs, statuses);
  }

  /** Whether {@link meshOf} has coefficients to reconstruct `target` from under `bundleId`. */
  hasMesh(target: MeshTarget, bundleId?: string | null): boolean {
    const { index } = this.served(bundleId);
    return target.kind === 'subject' ? index.template(target.id) !== undefined : index.faceVector(target.id) !== undefined;
  }

  /** A subject's template face or one enrolled face, reconstructed with `bundle`'s model, as mesh files named `<kind>-<id>.<ext>`. */
  async meshOf(target: MeshTarget, format: MeshFormat, options: { expression: boolean; ascii?: boolean; bundle?: string | null }): Promise<MeshExport> {
    const { bundle } = this.served(options.bundle);
    const bundleId = bundle.manifest.id;
    const coefficients =
      target.kind === 'subject'
        ? await this.subjectCoefficients(target.id, options.expression, bundleId)
        : await this.faceCoefficients(target.id, options.expression, bundleId);
    const photos = exportsFromPhotos(bundle) ? await this.facePhotos(target.kind === 'subject' ? { subjectId: target.id } : { faceId: target.id }) : [];
    // The photos were decoded for this download alone: their pixels move to the pool's thread.
    const exporter = this.deps.meshPool?.exporter({ transferPhotos: true });
    return exportMesh(bundle, coefficients, format, { stem: meshStem(target), ascii: options.ascii, photos, exporter });
  }

  /**
   * The enrolled photos a mesh's texture is unwrapped from, with their landmarks. A photo whose file
   * is gone or unreadable is left out: the mesh is still served, with the model's texture there.
   */
  private async facePhotos(where: { readonly subjectId: string } | { readonly faceId: string }): Promise<FacePhoto[]> {
    // The most frontal few: they show the most of the face, and a download should not decode every photo.
    const sources = (await this.photos.textureSources(where)).sort((a, b) => Math.abs(a.yaw) - Math.abs(b.yaw)).slice(0, MAX_TEXTURE_PHOTOS);
    const photos = await Promise.all(sources.map(async (source): Promise<FacePhoto | undefined> => {
      try {
        const image = await decodeImage(await this.deps.blobs.read(source.storagePath), this.deps.decodeLimits);
        return { image, landmarks: source.landmarks };
      } catch {
        return undefined;
      }
    }));
    return photos.filter((photo) => photo !== undefined);
  }

  /**
   * The face a probe was made from, reconstructed with its own bundle's model, as mesh files named
   * `probe.<ext>`: the 3D face of a photo that is not enrolled. `expression` needs a probe of one
   * face (from {@link probeImage}); a subject's probe has none to give.
   */
  async meshOfProbe(probe: Probe, format: MeshFormat, options: { expression: boolean; ascii?: boolean }): Promise<MeshExport> {
    const { bundle } = this.served(probe.bundleId);
    const expression = options.expression ? probe.face?.expression : undefined;
    const photos = probe.face?.photo ? [probe.face.photo] : [];
    const exporter = this.deps.meshPool?.exporter();
    return exportMesh(bundle, { shape: probe.shape, texture: probe.texture, ...(expression && { expression }) }, format, { stem: 'probe', ascii: options.ascii, photos, exporter });
  }

  /**
   * Deletes what no photo names and this gallery wrote: files of writes a crash interrupted, and
   * stored files no photo names any more written since `writtenSince` (when the gallery marked its
   * folder: older files may be another gallery's). Only files older than `before`: another process
   * of the gallery may have stored a photo's file and not yet recorded the photo.
   */
  async sweepBlobs(writtenSince: Date, before: Date): Promise<number> {
    return this.blobLock.run(() => this.deps.blobs.sweep(() => this.photos.referencedStoragePaths(), writtenSince, before));
  }

  private async removeUnreferencedBlobs(storagePaths: readonly string[]): Promise<void> {
    if (storagePaths.length > 0) await this.blobLock.run(() => this.removeUnreferenced(storagePaths));
  }

  /** Callers hold blobLock. */
  private async removeUnreferenced(storagePaths: readonly string[]): Promise<void> {
    const referenced = await this.photos.referencedStoragePaths(storagePaths);
    await Promise.all(storagePaths.filter((path) => !referenced.has(path)).map((path) => this.deps.blobs.remove(path)));
  }
}
