/**
 * Allowed values of the string columns that stand in for enums (SQLite has no enum type, and
 * strings keep one schema for SQLite and PostgreSQL). Repositories validate against these.
 */
export const PHOTO_STATUSES = ['PENDING', 'PROCESSING', 'READY', 'FAILED'] as const;
export type PhotoStatus = (typeof PHOTO_STATUSES)[number];

export const JOB_STATUSES = ['QUEUED', 'RUNNING', 'DONE', 'FAILED'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const API_KEY_ROLES = ['admin', 'enroll', 'read'] as const;
export type ApiKeyRole = (typeof API_KEY_ROLES)[number];

export const CHANGE_OPS = ['CREATE', 'UPDATE', 'DELETE'] as const;
export type ChangeOp = (typeof CHANGE_OPS)[number];

/** Job.kind values; ENROLL: detect and encode the face of one photo. */
export const JOB_KINDS = ['ENROLL'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

/** Photo.qualityFilter: NONE enrolls every face; AUTO refuses faces that would harm the template; HIGH refuses any face with a quality issue. */
export const QUALITY_FILTERS = ['NONE', 'AUTO', 'HIGH'] as const;
export type QualityFilter = (typeof QUALITY_FILTERS)[number];

/** Photo.qualityIssues (comma-separated): each quality measure past its `good` level (gallery/quality.ts). */
export const QUALITY_ISSUES = ['FACE_TOO_SMALL', 'POSE_YAW', 'POSE_PITCH', 'BLURRY', 'TOO_DARK', 'TOO_BRIGHT', 'EYES_CLOSED', 'SEVERAL_FACES'] as const;
export type QualityIssue = (typeof QUALITY_ISSUES)[number];
