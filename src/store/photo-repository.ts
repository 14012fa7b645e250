import { Prisma, type Photo } from '../generated/prisma/client.js';
import { templateWeight, type IdentityVector } from '../core/vector.js';
import type { Box } from '../core/image.js';
import type { EulerAngles } from '../morphable/procrustes.js';
import type { PhotoStatus, QualityFilter } from './enums.js';
import { afterKeyset, keysetOrder, pageSize, toPage, type Page, type PageArgs } from './pagination.js';
import { qualityColumns, toFaceRecord, toFaceVectorRecord, toPhotoRecord, type FaceRecord, type FaceVectorRecord, type PhotoQuality, type PhotoRecord } from './records.js';
import type { Db } from './database.js';
import type { GalleryStore } from './gallery-store.js';
import { notFound } from './subject-repository.js';
import { bytesToFloat32, float32ToBytes } from './vector-codec.js';
import { currentRequestId } from '../core/request-context.js';
import { insertNewRowsStatement, insertRows, newRowId } from './insert-rows.js';
import { isForeignKeyViolation } from './prisma-errors.js';
import type { SqlitePhotoInserts } from './sqlite-photo-inserts.js';
import type { SqliteEnrollmentSaves } from './sqlite-enrollment-saves.js';
import type { SaveTransaction } from './job-repository.js';

/** A photo whose bytes are already stored durably, about to be recorded. */
export interface AcceptedPhoto {
  readonly sha256: string;
  readonly storagePath: string;
  readonly mimeType: string;
  readonly width: number;
  readonly height: number;
}

export interface AcceptResult {
  readonly photo: PhotoRecord;
  /** False when the subject already had these bytes: the earlier photo is returned, nothing queued. */
  readonly created: boolean;
}

/** What inference found for one photo: its face, and its identity vector under the default bundle. */
export interface EncodedFaceRecord extends IdentityVector {
  readonly box: Box;
  readonly score: number;
  readonly pose: EulerAngles;
  readonly expression: Float32Array;
  /** The same face's vectors under the server's other bundles. */
  readonly otherVectors?: readonly IdentityVector[];
  /** Its quality at enrollment; absent for faces imported without one. */
  readonly quality?: PhotoQuality;
  /** FaceMesh's 468 landmarks (x, y, z photo pixels), kept to unwrap the photo's texture onto downloaded meshes. */
  readonly landmarks?: Float32Array;
}

/** A finished enrollment job's face, to be stored. */
export interface FaceToSave {
  readonly photoId: string;
  readonly jobId: string;
  readonly face: EncodedFaceRecord;
}

/** What a downloaded mesh's texture is unwrapped from: an enrolled face's photo and where its landmarks fell. */
export interface FaceTextureSource {
  readonly storagePath: string;
  readonly landmarks: Float32Array;
  readonly yaw: number;
}

export interface PhotoPageArgs extends PageArgs {
  readonly status?: PhotoStatus | null;
}

/** An enrolled face with what the index and mesh export need. */
export interface StoredFaceVector extends FaceVectorRecord {
  readonly subjectId: string;
  readonly expression: Float32Array;
}

/** Where a photo's original is stored, and what the database says of it. */
export interface StoredPhotoFile {
  readonly id: string;
  readonly storagePath: string;
  readonly status: PhotoStatus;
  readonly errorCode: string | null;
}

/** What an in-memory index needs to know of a stored face besides its vectors. */
export interface FaceOwner {
  readonly photoId: string;
  readonly subjectId: string;
  readonly qualityScore: number | null;
}

export interface DeletedPhoto {
  readonly subjectId: string;
  readonly storagePath: string;
  readonly faceId: string | null;
}

/** A stored face with no vector under some served bundle: what encoding it again needs. */
export interface FaceWithoutVector {
  readonly faceId: string;
  readonly photoId: string;
  readonly storagePath: string;
  /** The face box given at enrollment, if one was: a fresh enrollment encodes that box. */
  readonly givenBox: Box | null;
  /** The box the face was stored with: the default bundle's detection (or the given box). */
  readonly box: Box;
}

/** A stored face's vector under a bundle it had none under. */
export interface AddedFaceVector extends IdentityVector {
  readonly faceId: string;
}

/** An added vector that was stored, with what an index needs of its face. */
export interface StoredAddedVector extends AddedFaceVector {
  readonly subjectId: string;
  readonly qualityScore: number | null;
}

const LOAD_CHUNK = 5000;

/** A Face row's columns, but its photo and vectors. */
function faceColumns(face: EncodedFaceRecord) {
  return {
    boxX: face.box.x,
    boxY: face.box.y,
    boxWidth: face.box.width,
    boxHeight: face.box.height,
    score: face.score,
    yaw: face.pose.yaw,
    pitch: face.pose.pitch,
    roll: face.pose.roll,
    expression: float32ToBytes(face.expression),
    ...(face.landmarks && { landmarks: float32ToBytes(face.landmarks) }),
  };
}

/** The face's vectors, one per bundle. */
function vectorColumns(face: EncodedFaceRecord) {
  return [face, ...(face.otherVectors ?? [])].map((vector) => ({ bundleId: vector.bundleId, shape: float32ToBytes(vector.shape), texture: float32ToBytes(vector.texture) }));
}

/** A stored face's record from what was written and what the database filled in. */
function storedFaceRecord(row: { id: string; photoId: string; createdAt: Date }, face: EncodedFaceRecord): FaceRecord {
  return { id: row.id, photoId: row.photoId, box: face.box, score: face.score, pose: face.pose, expression: face.expression, createdAt: row.createdAt };
}

/** A batch's face to store, with its photo as marked READY and its place in the batch. */
interface Storing {
  readonly item: FaceToSave;
  readonly photo: Photo;
  readonly index: number;
}

/**
 * The items whose faces are stored: those whose photo was marked READY (`marked`), each photo once
 * (a photo in the batch twice, its lease having run out and this worker claimed it again, gets one face).
 */
function facesToStore(items: readonly FaceToSave[], marked: readonly Photo[]): Storing[] {
  const unclaimed = new Map(marked.map((row) => [row.id, row]));
  const storing: Storing[] = [];
  for (const [index, item] of items.entries()) {
    const photo = unclaimed.get(item.photoId);
    if (!photo) continue;
    unclaimed.delete(item.photoId);
    storing.push({ item, photo, index });
  }
  return storing;
}

/**
 * The jobs the save marks DONE: those whose face it stored, and the others, whose photos were
 * deleted meanwhile (their jobs went with them) or whose jobs another worker took over (the lease
 * ran out) and finished first.
 */
function finishedJobs(items: readonly FaceToSave[], storing: readonly Storing[]): { stored: string[]; others: string[] } {
  const stored = new Set(storing.map(({ item }) => item.jobId));
  return { stored: [...stored], others: items.filter((item) => !stored.has(item.jobId)).map((item) => item.jobId) };
}

/** The quality to store per photo of the batch: its first assessed face's (a photo in the batch twice gets one face). */
function photoQualities(items: readonly FaceToSave[]): { photoId: string; qualityScore: number; qualityIssues: string }[] {
  const assessed = new Map<string, PhotoQuality>();
  for (const { photoId, face } of items) if (face.quality && !assessed.has(photoId)) assessed.set(photoId, face.quality);
  return [...assessed].map(([photoId, quality]) => ({ photoId, ...qualityColumns(quality) }));
}

/** saveFaces' result: one per item, null where no face was stored. */
function savedFaces(items: readonly FaceToSave[], storing: readonly Storing[], faces: readonly { id: string; photoId: string; createdAt: Date }[]): ({ photo: PhotoRecord; face: FaceRecord } | null)[] {
  const saved: ({ photo: PhotoRecord; face: FaceRecord } | null)[] = items.map(() => null);
  for (const [i, { item, photo, index }] of storing.entries()) saved[index] = { photo: toPhotoRecord(photo), face: storedFaceRecord(faces[i], item.face) };
  return saved;
}

/** The batch's Face and FaceVector rows, their ids made here as Prisma would, in the order of `storing`. */
function faceRows(storing: readonly Storing[]) {
  const createdAt = new Date();
  const faces = storing.map(({ item }) => ({ id: newRowId(), photoId: item.photoId, createdAt }));
  const vectors = storing.map(({ item }, i) => vectorColumns(item.face).map((vector) => ({ id: newRowId(), faceId: faces[i].id, ...vector, createdAt })));
  return { faces, vectors, faceRows: storing.map(({ item }, i) => ({ ...faces[i], landmarks: null, ...faceColumns(item.face) })) };
}

export class PhotoRepository {
  /**
   * `inserts`, `saves`: the upload's insert and the worker's save on SQLite connections of their own
   * (sqlite-photo-inserts.ts, sqlite-enrollment-saves.ts); without them, through Prisma.
   */
  constructor(
    private readonly store: GalleryStore,
    private readonly inserts?: SqlitePhotoInserts,
    private readonly saves?: SqliteEnrollmentSaves,
  ) {}

  /**
   * Records photos and queues one ENROLL job for each new one, all or nothing. The same bytes
   * enrolled twice for a subject are one photo (the face box of the first enrollment stands).
   */
  async accept(subjectId: string, photos: readonly AcceptedPhoto[], faceBox: Box | null, qualityFilter: QualityFilter = 'AUTO'): Promise<AcceptResult[]> {
    if (photos.length === 0) return [];
    const requestId = currentRequestId();
    const now = new Date();
    const rows = new Map<string, Photo>();
    for (const { sha256, storagePath, mimeType, width, height } of photos) {
      if (rows.has(sha256)) continue;
      const row: Photo = {
        id: newRowId(),
        subjectId,
        sha256,
        storagePath,
        mimeType,
        width,
        height,
        status: 'PENDING',
        errorCode: null,
        errorMessage: null,
        createdAt: now,
        updatedAt: now,
        faceBox: faceBox && { ...faceBox },
        qualityFilter,
        qualityScore: null,
        qualityIssues: null,
      };
      rows.set(sha256, row);
    }
    const candidates = [...rows.values()];
    const written = new Set(
      await this.insertNew(candidates, requestId).catch((error: unknown) => {
        throw isForeignKeyViolation(error) ? notFound('subject', subjectId) : error;
      }),
    );
    const known = [...rows.keys()].filter((sha256) => !written.has(rows.get(sha256)!.id));
    const found = known.length > 0 ? await this.store.read.photo.findMany({ where: { subjectId, sha256: { in: known } } }) : [];
    for (const row of found) rows.set(row.sha256, row);
    const results = photos.map(({ sha256 }, i) => {
      const row = rows.get(sha256)!;
      // The same bytes twice in one batch: the first is created, the others are it.
      const first = photos.findIndex((photo) => photo.sha256 === sha256) === i;
      return { photo: toPhotoRecord(row), created: first && written.has(row.id) };
    });
    if (found.length === known.length) return results;
    // A photo the subject had was deleted between the insert and the read: these bytes are enrolled anew.
    const again = await this.accept(subjectId, photos, faceBox, qualityFilter);
    return again.map((result, i) => ({ ...result, created: result.created || results[i].created }));
  }

  /**
   * The photos (bytes the subject has already are left out; a subject that does not exist fails the
   * foreign key), a job and a change entry (PENDING, for other processes' subscribers) for each one
   * written, in one transaction behind this process's other writes; the ids written.
   */
  private async insertNew(candidates: readonly Photo[], requestId: string | null): Promise<string[]> {
    const { inserts } = this;
    if (inserts) return this.store.write(async () => inserts.insert(candidates, newRowId, requestId, this.store.origin));
    // Three statements, whatever the photos' number, sent together: the photos, then a job and a
    // change entry for each photo the first wrote (ids are new, so only those match).
    const jobs = Prisma.join(candidates.map((row) => Prisma.sql`(${newRowId()}, ${row.id})`));
    const [writtenRows] = await this.store.batch((db) => [
      insertNewRowsStatement(
        db,
        'Photo',
        candidates.map((row) => ({ ...row, faceBox: row.faceBox === null ? null : JSON.stringify(row.faceBox) })),
        ['subjectId', 'sha256'],
      ),
      db.$executeRaw`INSERT INTO "Job" ("id", "kind", "photoId", "requestId", "createdAt", "updatedAt")
        SELECT j."column1", 'ENROLL', p."id", ${requestId}, p."createdAt", p."createdAt"
        FROM (VALUES ${jobs}) AS j JOIN "Photo" p ON p."id" = j."column2"`,
      this.store.recordPhotosCreated(
        db,
        candidates.map((row) => row.id),
      ),
    ]);
    return writtenRows.map((row) => row.id);
  }

  /**
   * Records a photo whose face was encoded elsewhere, READY at once and with no job (imports,
   * benchmark galleries). Its bytes need not be in the blob store; downloads of it then fail.
   */
  async importEnrolled(subjectId: string, photo: AcceptedPhoto, face: EncodedFaceRecord): Promise<{ photo: PhotoRecord; face: FaceRecord }> {
    return this.store.transaction(async (tx) => {
      const row = await tx.photo.create({
        data: { ...photo, subjectId, status: 'READY', ...(face.quality && qualityColumns(face.quality)), face: { create: { ...faceColumns(face), vectors: { create: vectorColumns(face) } } } },
        include: { face: { include: { vectors: { select: { id: true, bundleId: true } } } } },
      });
      const faceRow = row.face!;
      await this.facesStored(tx, [{ photo: row, face, faceId: faceRow.id, vectors: faceRow.vectors }]);
      return { photo: toPhotoRecord(row), face: toFaceRecord(faceRow) };
    });
  }

  /**
   * Stores each face and its vectors, marks its photo READY and its job DONE, for several photos in
   * ONE transaction (a worker's jobs that finished together): every face, vector, photo and job of the
   * batch is written, or none is. One result per item, in order; null when its photo was deleted
   * meanwhile or already has its face.
   *
   * A few statements per batch, not per photo (each costs the worker a query compile and a
   * prepare): the photos' quality, then their status (only while they have no face, returning their
   * rows), every face, every vector, the jobs and the change feed, each one statement for the batch.
   * `andThen`: more work for the same transaction, after the faces (the worker's next claim).
   *
   * On SQLite with a save connection of its own, the same rows through its prepared statements
   * (one per row: each costs microseconds there), in one transaction behind this process's other writes.
   */
  async saveFaces(items: readonly FaceToSave[], andThen?: (tx: SaveTransaction) => Promise<void>): Promise<({ photo: PhotoRecord; face: FaceRecord } | null)[]> {
    if (items.length === 0) return [];
    const { saves } = this;
    if (saves) {
      return this.store.write(() =>
        saves.transaction(async () => {
          const saved = this.saveOnSqlite(saves, items);
          await andThen?.(saves);
          return saved;
        }),
      );
    }
    return this.store.transaction(
      async (tx) => {
        await this.setQuality(tx, items);
        const marked = await tx.photo.updateManyAndReturn({
          where: { id: { in: items.map((item) => item.photoId) }, face: { is: null } },
          data: { status: 'READY', errorCode: null, errorMessage: null },
        });
        const storing = facesToStore(items, marked);
        const faces = await this.createFaces(tx, storing);
        const jobs = finishedJobs(items, storing);
        const done = { status: 'DONE', leaseUntil: null } as const;
        if (jobs.stored.length > 0) await tx.job.updateMany({ where: { id: { in: jobs.stored } }, data: { ...done, lastError: null } });
        if (jobs.others.length > 0) await tx.job.updateMany({ where: { id: { in: jobs.others } }, data: done });
        const saved = savedFaces(items, storing, faces);
        await andThen?.(tx);
        return saved;
      },
      { firstStatementWrites: true },
    );
  }

  /** saveFaces' statements on the save connection, inside its transaction (pgvector is PostgreSQL's alone). */
  private saveOnSqlite(saves: SqliteEnrollmentSaves, items: readonly FaceToSave[]): ({ photo: PhotoRecord; face: FaceRecord } | null)[] {
    const photoIds = [...new Set(items.map((item) => item.photoId))];
    for (const { photoId, qualityScore, qualityIssues } of photoQualities(items)) saves.setQuality(photoId, qualityScore, qualityIssues);
    const now = new Date();
    const marked = photoIds.flatMap((photoId) => saves.markReady(photoId, now) ?? []);
    const storing = facesToStore(items, marked);
    const { faces, vectors, faceRows: rows } = faceRows(storing);
    for (const row of rows) saves.insertFace(row);
    for (const vector of vectors.flat()) saves.insertVector(vector);
    saves.recordChange(
      'Face',
      faces.map((face) => face.id),
      this.store.origin,
      new Date(),
    );
    const jobs = finishedJobs(items, storing);
    for (const jobId of jobs.stored) saves.finishJob(jobId, true, now);
    for (const jobId of jobs.others) saves.finishJob(jobId, false, now);
    return savedFaces(items, storing, faces);
  }

  /** The faces' quality, one statement for the batch, on photos that have no face yet. */
  private async setQuality(tx: Db, items: readonly FaceToSave[]): Promise<void> {
    const assessed = photoQualities(items);
    if (assessed.length === 0) return;
    const cases = (column: 'qualityScore' | 'qualityIssues'): Prisma.Sql =>
      Prisma.sql`CASE "id" ${Prisma.join(
        assessed.map((row) => Prisma.sql`WHEN ${row.photoId} THEN ${row[column]}`),
        ' ',
      )} ELSE ${Prisma.raw(`"${column}"`)} END`;
    await tx.$executeRaw`
      UPDATE "Photo" SET "qualityScore" = ${cases('qualityScore')}, "qualityIssues" = ${cases('qualityIssues')}
      WHERE "id" IN (${Prisma.join(assessed.map((row) => row.photoId))}) AND NOT EXISTS (SELECT 1 FROM "Face" WHERE "Face"."photoId" = "Photo"."id")`;
  }

  /**
   * The faces and their vectors, one INSERT each for the batch (their ids made here, as Prisma would),
   * with what every new face takes along in its transaction: a change-feed entry and, with pgvector,
   * its embeddings. Their ids and creation time, in the order given.
   */
  private async createFaces(tx: Db, storing: readonly Storing[]): Promise<{ id: string; photoId: string; createdAt: Date }[]> {
    const { faces, vectors, faceRows: rows } = faceRows(storing);
    await insertRows(tx, 'Face', rows);
    await insertRows(tx, 'FaceVector', vectors.flat());
    await this.facesStored(
      tx,
      storing.map(({ item, photo }, i) => ({ photo, face: item.face, faceId: faces[i].id, vectors: vectors[i] })),
    );
    return faces;
  }

  /** What new faces take along in their transaction: a change-feed entry each and, with pgvector, their embeddings. */
  private async facesStored(tx: Db, faces: readonly { photo: Photo; face: EncodedFaceRecord; faceId: string; vectors: readonly { id: string; bundleId: string }[] }[]): Promise<void> {
    if (this.store.vectors) {
      await this.store.vectors.insert(
        tx,
        faces.flatMap(({ photo, face, faceId, vectors }) => {
          const encodedByBundle = new Map([face, ...(face.otherVectors ?? [])].map((vector) => [vector.bundleId, vector]));
          return vectors.map((vector) => ({
            faceVectorId: vector.id,
            faceId,
            subjectId: photo.subjectId,
            bundleId: vector.bundleId,
            vector: encodedByBundle.get(vector.bundleId)!.vector,
            weight: templateWeight(face.quality?.score),
          }));
        }),
      );
    }
    await this.store.recordChange(
      tx,
      'Face',
      'CREATE',
      faces.map((face) => face.faceId),
    );
  }

  async delete(id: string): Promise<DeletedPhoto> {
    return this.store.transaction(async (tx) => {
      const photo = await tx.photo.findUnique({ where: { id }, select: { subjectId: true, storagePath: true, face: { select: { id: true } } } });
      if (!photo) throw notFound('photo', id);
      await tx.photo.delete({ where: { id } });
      if (photo.face) await this.store.recordChange(tx, 'Face', 'DELETE', [photo.face.id]);
      return { subjectId: photo.subjectId, storagePath: photo.storagePath, faceId: photo.face?.id ?? null };
    });
  }

  async findMany(ids: readonly string[]): Promise<(PhotoRecord | null)[]> {
    const rows = await this.store.read.photo.findMany({ where: { id: { in: [...ids] } } });
    const byId = new Map(rows.map((row) => [row.id, toPhotoRecord(row)]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  async facesByPhotoIds(photoIds: readonly string[]): Promise<(FaceRecord | null)[]> {
    const rows = await this.store.read.face.findMany({ where: { photoId: { in: [...photoIds] } } });
    const byPhoto = new Map(rows.map((row) => [row.photoId, toFaceRecord(row)]));
    return photoIds.map((id) => byPhoto.get(id) ?? null);
  }

  async facesByIds(faceIds: readonly string[]): Promise<(FaceRecord | null)[]> {
    const rows = await this.store.read.face.findMany({ where: { id: { in: [...faceIds] } } });
    const byId = new Map(rows.map((row) => [row.id, toFaceRecord(row)]));
    return faceIds.map((id) => byId.get(id) ?? null);
  }

  /**
   * Whose each face is (its photo, subject and quality score: what an index needs of it), null for
   * a face that is gone: one query, and none of the faces' landmarks or the photos' other columns.
   */
  async faceOwners(faceIds: readonly string[]): Promise<(FaceOwner | null)[]> {
    if (faceIds.length === 0) return [];
    const rows = await this.store.read.$queryRaw<(FaceOwner & { faceId: string })[]>`
      SELECT f."id" AS "faceId", f."photoId", p."subjectId", p."qualityScore"
      FROM "Face" f JOIN "Photo" p ON p."id" = f."photoId"
      WHERE f."id" IN (${Prisma.join(faceIds)})`;
    const byId = new Map(rows.map(({ faceId, photoId, subjectId, qualityScore }) => [faceId, { photoId, subjectId, qualityScore }]));
    return faceIds.map((id) => byId.get(id) ?? null);
  }

  async vectorsByFaceIds(faceIds: readonly string[], bundleId: string): Promise<(FaceVectorRecord | null)[]> {
    const rows = await this.store.read.faceVector.findMany({ where: { faceId: { in: [...faceIds] }, bundleId } });
    const byFace = new Map(rows.map((row) => [row.faceId, toFaceVectorRecord(row)]));
    return faceIds.map((id) => byFace.get(id) ?? null);
  }

  /**
   * One page of photos for each subject. One query for all of them: the rows are cut into pages
   * here, which reads every photo of these subjects; galleries hold a handful per subject.
   */
  async pagesBySubject(subjectIds: readonly string[], args: PhotoPageArgs): Promise<Page<PhotoRecord>[]> {
    const size = pageSize(args.first);
    const rows = await this.store.read.photo.findMany({
      where: { AND: [{ subjectId: { in: [...subjectIds] } }, args.status ? { status: args.status } : {}, afterKeyset(args.after)] },
      orderBy: keysetOrder(),
    });
    const bySubject = new Map<string, PhotoRecord[]>(subjectIds.map((id) => [id, []]));
    for (const row of rows) bySubject.get(row.subjectId)?.push(toPhotoRecord(row));
    return subjectIds.map((id) => toPage(bySubject.get(id)!.slice(0, size + 1), size));
  }

  async countsBySubject(subjectIds: readonly string[]): Promise<number[]> {
    const groups = await this.store.read.photo.groupBy({ by: ['subjectId'], where: { subjectId: { in: [...subjectIds] } }, _count: { _all: true } });
    const counts = new Map(groups.map((group) => [group.subjectId, group._count._all]));
    return subjectIds.map((id) => counts.get(id) ?? 0);
  }

  /** The enrolled faces of each subject under `bundleId`, oldest first. */
  async faceVectorsOfSubjects(subjectIds: readonly string[], bundleId: string): Promise<StoredFaceVector[][]> {
    const rows = await this.store.read.faceVector.findMany({
      where: { bundleId, face: { photo: { subjectId: { in: [...subjectIds] } } } },
      include: { face: { select: { expression: true, photo: { select: { subjectId: true } } } } },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    });
    const bySubject = new Map<string, StoredFaceVector[]>(subjectIds.map((id) => [id, []]));
    for (const row of rows) {
      const subjectId = row.face.photo.subjectId;
      bySubject.get(subjectId)?.push({ ...toFaceVectorRecord(row), subjectId, expression: bytesToFloat32(row.face.expression) });
    }
    return subjectIds.map((id) => bySubject.get(id)!);
  }

  /** The photos and landmarks of a subject's faces (or of the given faces) enrolled with landmarks. */
  async textureSources(where: { readonly subjectId: string } | { readonly faceId: string }): Promise<FaceTextureSource[]> {
    const rows = await this.store.read.face.findMany({
      where: { landmarks: { not: null }, ...('faceId' in where ? { id: where.faceId } : { photo: { subjectId: where.subjectId } }) },
      select: { landmarks: true, yaw: true, photo: { select: { storagePath: true } } },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    });
    return rows.map((row) => ({ storagePath: row.photo.storagePath, landmarks: bytesToFloat32(row.landmarks!), yaw: row.yaw }));
  }

  /**
   * Up to `limit` faces of READY photos with no vector under `bundleId` (photos enrolled while the
   * bundle was not served), in id order (the worker's ids are ULIDs: oldest first), those after
   * `after` only and, given `unclaimedAt`, none a worker's claim holds then. In id order a look
   * walks the primary key from `after` and stops at `limit`, however many faces came before.
   */
  async facesWithoutVector(bundleId: string, limit: number, { after, unclaimedAt }: { readonly after?: string; readonly unclaimedAt?: Date } = {}): Promise<FaceWithoutVector[]> {
    const rows = await this.store.read.face.findMany({
      where: {
        vectors: { none: { bundleId } },
        ...(unclaimedAt && { vectorClaims: { none: { bundleId, leaseUntil: { gt: unclaimedAt } } } }),
        photo: { status: 'READY' },
        ...(after !== undefined && { id: { gt: after } }),
      },
      select: { id: true, boxX: true, boxY: true, boxWidth: true, boxHeight: true, photo: { select: { id: true, storagePath: true, faceBox: true } } },
      orderBy: { id: 'asc' },
      take: limit,
    });
    return rows.map((row) => ({
      faceId: row.id,
      photoId: row.photo.id,
      storagePath: row.photo.storagePath,
      givenBox: row.photo.faceBox as Box | null,
      box: { x: row.boxX, y: row.boxY, width: row.boxWidth, height: row.boxHeight },
    }));
  }

  /**
   * The backfill's next faces to encode under `bundleId`, each claimed for `leaseMs`: the faces of
   * {@link facesWithoutVector} after `after` that no other worker's claim holds, less `passedOver`
   * (faces the caller could not encode), each claimed by one conditional write, so that of workers
   * looking at once each face goes to one. A claim ends with the face's vector
   * ({@link addFaceVectors}), or when its lease runs out (its worker died, or could not encode it).
   * `lookedTo`: the last face looked at (claimed or not), where the next look starts; undefined when
   * none was left.
   */
  async claimFacesWithoutVector(
    bundleId: string,
    limit: number,
    { after, passedOver, leaseMs, now = new Date() }: { readonly after?: string; readonly passedOver: ReadonlySet<string>; readonly leaseMs: number; readonly now?: Date },
  ): Promise<{ faces: FaceWithoutVector[]; lookedTo: string | undefined }> {
    const look = async () => {
      const looked = await this.facesWithoutVector(bundleId, limit, { after, unclaimedAt: now });
      const wanted = looked.filter((face) => !passedOver.has(face.faceId));
      const claimed = wanted.length === 0 ? new Set<string>() : await this.claimFaces(bundleId, wanted, new Date(now.getTime() + leaseMs), now);
      return { faces: wanted.filter((face) => claimed.has(face.faceId)), lookedTo: looked.at(-1)?.faceId };
    };
    // A face deleted between the look and the claim fails the claim's foreign key: look again.
    return look().catch((error: unknown) => {
      if (!isForeignKeyViolation(error)) throw error;
      return look();
    });
  }

  /** The faces claimed: a claim is written where there is none, or taken over where its lease ran out before `now`. */
  private async claimFaces(bundleId: string, faces: readonly FaceWithoutVector[], leaseUntil: Date, now: Date): Promise<Set<string>> {
    const rows = Prisma.join(faces.map((face) => Prisma.sql`(${face.faceId}, ${bundleId}, ${leaseUntil})`));
    const claimed = await this.store.write((db) =>
      db.$queryRaw<{ faceId: string }[]>`INSERT INTO "FaceVectorClaim" ("faceId", "bundleId", "leaseUntil") VALUES ${rows}
        ON CONFLICT ("faceId", "bundleId") DO UPDATE SET "leaseUntil" = excluded."leaseUntil" WHERE "FaceVectorClaim"."leaseUntil" <= ${now}
        RETURNING "faceId"`,
    );
    return new Set(claimed.map((row) => row.faceId));
  }

  /**
   * Stores vectors of faces under bundles they had none under, with what every new vector takes
   * along in its transaction (pgvector's embedding, a change-feed entry naming its face), all in one
   * transaction. A vector another process stored first, or whose face was deleted meanwhile, is left
   * out: the vectors stored.
   */
  async addFaceVectors(vectors: readonly AddedFaceVector[]): Promise<StoredAddedVector[]> {
    if (vectors.length === 0) return [];
    try {
      return await this.insertFaceVectors(vectors);
    } catch (error) {
      // On PostgreSQL a face deleted after the transaction read it fails the insert's foreign key: read them again.
      if (!isForeignKeyViolation(error)) throw error;
      return this.insertFaceVectors(vectors);
    }
  }

  private insertFaceVectors(vectors: readonly AddedFaceVector[]): Promise<StoredAddedVector[]> {
    return this.store.transaction(async (tx) => {
      const faces = await tx.face.findMany({
        where: { id: { in: vectors.map((vector) => vector.faceId) } },
        select: { id: true, photo: { select: { subjectId: true, qualityScore: true } } },
      });
      const owners = new Map(faces.map((face) => [face.id, face.photo]));
      const createdAt = new Date();
      const rows = vectors.flatMap((vector) => (owners.has(vector.faceId) ? [{ id: newRowId(), vector }] : []));
      if (rows.length === 0) return [];
      const written = await insertNewRowsStatement(
        tx,
        'FaceVector',
        rows.map(({ id, vector }) => ({ id, faceId: vector.faceId, bundleId: vector.bundleId, shape: float32ToBytes(vector.shape), texture: float32ToBytes(vector.texture), createdAt })),
        ['faceId', 'bundleId'],
      );
      const writtenIds = new Set(written.map((row) => row.id));
      const stored = rows.filter(({ id }) => writtenIds.has(id)).map(({ id, vector }) => ({ id, vector: { ...vector, ...owners.get(vector.faceId)! } }));
      await this.store.vectors?.insert(
        tx,
        stored.map(({ id, vector }) => ({ faceVectorId: id, faceId: vector.faceId, subjectId: vector.subjectId, bundleId: vector.bundleId, vector: vector.vector, weight: templateWeight(vector.qualityScore) })),
      );
      await this.store.recordChange(tx, 'FaceVector', 'CREATE', [...new Set(stored.map(({ vector }) => vector.faceId))]);
      // The backfill's claims on these faces are done with, whoever stored the vector.
      await tx.faceVectorClaim.deleteMany({ where: { OR: vectors.map(({ faceId, bundleId }) => ({ faceId, bundleId })) } });
      return stored.map(({ vector }) => vector);
    });
  }

  /** Every enrolled face under `bundleId`, read in chunks (start-up index load). */
  async *allFaceVectors(bundleId: string): AsyncGenerator<FaceVectorRecord & { readonly subjectId: string; readonly qualityScore: number | null }> {
    let cursor: string | undefined;
    for (;;) {
      const rows = await this.store.read.faceVector.findMany({
        where: { bundleId, ...(cursor && { id: { gt: cursor } }) },
        include: { face: { select: { photo: { select: { subjectId: true, qualityScore: true } } } } },
        orderBy: { id: 'asc' },
        take: LOAD_CHUNK,
      });
      for (const row of rows) yield { ...toFaceVectorRecord(row), subjectId: row.face.photo.subjectId, qualityScore: row.face.photo.qualityScore };
      if (rows.length < LOAD_CHUNK) return;
      cursor = rows[rows.length - 1].id;
    }
  }

  /** Those of `storagePaths` that some photo still names; every named path when none are given. */
  async referencedStoragePaths(storagePaths?: readonly string[]): Promise<Set<string>> {
    const rows = await this.store.read.photo.findMany({
      where: storagePaths ? { storagePath: { in: [...storagePaths] } } : {},
      select: { storagePath: true },
      distinct: ['storagePath'],
    });
    return new Set(rows.map((row) => row.storagePath));
  }

  /** Every photo's stored file (of photos in `statuses`, else all), a chunk at a time: start-up's check and `face3d check`. */
  async *storedFiles(statuses?: readonly PhotoStatus[]): AsyncGenerator<StoredPhotoFile[]> {
    let cursor: string | undefined;
    for (;;) {
      const rows = await this.store.read.photo.findMany({
        where: { ...(statuses && { status: { in: [...statuses] } }), ...(cursor && { id: { gt: cursor } }) },
        select: { id: true, storagePath: true, status: true, errorCode: true },
        orderBy: { id: 'asc' },
        take: LOAD_CHUNK,
      });
      if (rows.length > 0) yield rows.map((row) => ({ ...row, status: row.status as PhotoStatus }));
      if (rows.length < LOAD_CHUNK) return;
      cursor = rows[rows.length - 1].id;
    }
  }

  /**
   * Sets (or, with null, clears) the error of photos whose stored file is missing or damaged,
   * leaving their status, face and vectors as they are: identification by their vectors still works.
   */
  async markFileProblem(ids: readonly string[], error: { code: string; message: string } | null): Promise<void> {
    if (ids.length === 0) return;
    await this.store.transaction(async (tx) => {
      await tx.photo.updateMany({ where: { id: { in: [...ids] } }, data: { errorCode: error?.code ?? null, errorMessage: error?.message ?? null } });
      await this.store.recordChange(tx, 'Photo', 'UPDATE', ids);
    });
  }
}
