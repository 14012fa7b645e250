/** The gallery's rows as plain objects: what repositories return and the API layer reads. */
import type { Face, FaceVector, Photo, Subject } from '../generated/prisma/client.js';
import type { Prisma } from '../generated/prisma/client.js';
import type { Box } from '../core/image.js';
import { joinedIdentityVector, type IdentityVector } from '../core/vector.js';
import type { EulerAngles } from '../morphable/procrustes.js';
import type { PhotoStatus, QualityFilter, QualityIssue } from './enums.js';
import { bytesToFloat32 } from './vector-codec.js';

export interface SubjectRecord {
  readonly id: string;
  readonly name: string;
  readonly externalId: string | null;
  readonly metadata: Prisma.JsonValue | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface PhotoError {
  readonly code: string;
  readonly message: string;
}

/** A face's quality at enrollment (src/gallery/quality.ts). */
export interface PhotoQuality {
  readonly score: number;
  readonly issues: readonly QualityIssue[];
}

export interface PhotoRecord {
  readonly id: string;
  readonly subjectId: string;
  readonly sha256: string;
  readonly storagePath: string;
  readonly mimeType: string;
  readonly width: number;
  readonly height: number;
  readonly status: PhotoStatus;
  readonly error: PhotoError | null;
  readonly faceBox: Box | null;
  readonly qualityFilter: QualityFilter;
  /** Null until the photo's face was assessed (or when none was found). */
  readonly quality: PhotoQuality | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface FaceRecord {
  readonly id: string;
  readonly photoId: string;
  readonly box: Box;
  readonly score: number;
  readonly pose: EulerAngles;
  readonly expression: Float32Array;
  readonly createdAt: Date;
}

export interface FaceVectorRecord extends IdentityVector {
  readonly faceId: string;
}

/** TEMPLATE: one candidate per subject, by its template; PHOTO: one candidate per enrolled face. */
export type MatchMode = 'TEMPLATE' | 'PHOTO';

/** A search's answer, from the in-process index or from pgvector. */
export interface Candidate {
  readonly subjectId: string;
  /** TEMPLATE: the subject's face most similar to the probe; PHOTO: the matched face. */
  readonly faceId: string;
  readonly similarity: number;
}

export function toSubjectRecord(row: Subject): SubjectRecord {
  return { id: row.id, name: row.name, externalId: row.externalId, metadata: row.metadata, createdAt: row.createdAt, updatedAt: row.updatedAt };
}

export function toPhotoRecord(row: Photo): PhotoRecord {
  return {
    id: row.id,
    subjectId: row.subjectId,
    sha256: row.sha256,
    storagePath: row.storagePath,
    mimeType: row.mimeType,
    width: row.width,
    height: row.height,
    status: row.status as PhotoStatus,
    error: row.errorCode === null ? null : { code: row.errorCode, message: row.errorMessage ?? '' },
    faceBox: row.faceBox as Box | null,
    qualityFilter: row.qualityFilter as QualityFilter,
    quality: row.qualityScore === null ? null : { score: row.qualityScore, issues: qualityIssuesOf(row.qualityIssues) },
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/** Photo.qualityIssues: comma-separated, worst first. */
export function qualityIssuesOf(column: string | null): QualityIssue[] {
  return column ? (column.split(',') as QualityIssue[]) : [];
}

/** The Photo columns of a quality. */
export function qualityColumns(quality: PhotoQuality): { qualityScore: number; qualityIssues: string } {
  return { qualityScore: quality.score, qualityIssues: quality.issues.join(',') };
}

export function toFaceRecord(row: Face): FaceRecord {
  return {
    id: row.id,
    photoId: row.photoId,
    box: { x: row.boxX, y: row.boxY, width: row.boxWidth, height: row.boxHeight },
    score: row.score,
    pose: { yaw: row.yaw, pitch: row.pitch, roll: row.roll },
    expression: bytesToFloat32(row.expression),
    createdAt: row.createdAt,
  };
}

export function toFaceVectorRecord(row: FaceVector): FaceVectorRecord {
  return { faceId: row.faceId, ...joinedIdentityVector(row.bundleId, bytesToFloat32(row.shape), bytesToFloat32(row.texture)) };
}
