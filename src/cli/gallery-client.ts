/**
 * What the CLI's gallery commands ask of a gallery, whether it is the local database opened in
 * this process (local-gallery.ts) or a running server reached over GraphQL (remote-gallery.ts):
 * both give the same plain records, so every command prints the same output either way.
 */
import type { PhotoError } from '../store/records.js';
import type { PhotoStatus } from '../store/enums.js';

export interface PhotoState {
  readonly id: string;
  readonly sha256: string;
  readonly status: PhotoStatus;
  readonly error: PhotoError | null;
}

export interface SubjectSummary {
  readonly id: string;
  readonly name: string;
  readonly externalId: string | null;
  readonly photoCount: number;
}

export interface SubjectExport extends Omit<SubjectSummary, 'photoCount'> {
  /** Mean coefficients of the subject's enrolled faces under `bundle`; null before the first. */
  readonly template: { readonly bundle: string; readonly shape: number[]; readonly texture: number[] } | null;
  readonly photos: readonly PhotoState[];
}

export interface FileInput {
  readonly bytes: Uint8Array;
  readonly name: string;
}

export interface ThresholdReport {
  readonly threshold: number;
  readonly thresholdSource: string;
  readonly falseAcceptRate: number | null;
  /** The share of strangers the threshold names against `templates` templates; null without an impostor curve. */
  readonly fpir: number | null;
  readonly templates: number;
}

export interface IdentifyReport extends ThresholdReport {
  readonly unknown: boolean;
  readonly matches: readonly {
    readonly rank: number;
    readonly subject: { readonly id: string; readonly name: string; readonly externalId: string | null };
    readonly similarity: number;
    readonly aboveThreshold: boolean;
    readonly strangerChance: number | null;
  }[];
}

export interface VerifyReport extends ThresholdReport {
  readonly similarity: number;
  readonly match: boolean;
  readonly strangerChance: number | null;
}

export interface GalleryClient {
  /** The subject a folder of photos belongs to: the one whose externalId, else whose name, is `name`; created when there is none. */
  subjectFor(name: string): Promise<{ readonly id: string; readonly created: boolean }>;
  /** Every photo of the subject, whatever its status. */
  photosOf(subjectId: string): Promise<PhotoState[]>;
  /** Stores one photo and queues its enrollment; the subject's existing photo when it already has these bytes. */
  enrollPhoto(subjectId: string, file: FileInput): Promise<PhotoState>;
  /** In the order of `ids`; deleted photos are left out. */
  photoStates(ids: readonly string[]): Promise<PhotoState[]>;
  identify(file: FileInput, options: { readonly topK: number; readonly threshold?: number }): Promise<IdentifyReport>;
  subjects(search?: string): AsyncIterable<SubjectSummary>;
  exportSubjects(): AsyncIterable<SubjectExport>;
  close(): Promise<void>;
}

/** The subject a folder maps to among those a search returned: externalId first, then exact name. */
export function matchSubject<T extends { readonly name: string; readonly externalId: string | null }>(candidates: readonly T[], name: string): T | undefined {
  return candidates.find((subject) => subject.externalId === name) ?? candidates.find((subject) => subject.name === name);
}

export const SETTLED: ReadonlySet<PhotoStatus> = new Set(['READY', 'FAILED']);

/** Runs `work` on `resource`, closing it afterwards whatever happens. */
export async function closingAfter<T extends { close(): Promise<void> }, R>(resource: T, work: (resource: T) => Promise<R>): Promise<R> {
  try {
    return await work(resource);
  } finally {
    await resource.close();
  }
}
