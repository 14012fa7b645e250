import { Face3dError } from '../core/errors.js';
import { Prisma } from '../generated/prisma/client.js';
import { afterKeyset, keysetOrder, pageSize, toPage, type Page, type PageArgs } from './pagination.js';
import { isMissingRecord, isUniqueViolation } from './prisma-errors.js';
import { toSubjectRecord, type SubjectRecord } from './records.js';
import type { GalleryStore } from './gallery-store.js';

export interface SubjectInput {
  readonly name?: string | null;
  readonly externalId?: string | null;
  readonly metadata?: Prisma.InputJsonValue | null;
}

export interface SubjectListArgs extends PageArgs {
  /**
   * Part of the name (case-insensitive for ASCII; `%` matches any run of characters and `_` any one)
   * or the exact externalId; at most MAX_TEXT_LENGTH characters.
   */
  readonly search?: string | null;
}

/** What a deleted subject leaves to clean up outside the database. */
export interface DeletedSubject {
  readonly storagePaths: readonly string[];
  readonly faceIds: readonly string[];
}

const MAX_TEXT_LENGTH = 200;
const MAX_METADATA_BYTES = 16 * 1024;

/**
 * Names and externalIds are stored in Unicode NFC, so that one name typed on two systems (é as one
 * code point or as e + combining accent) is one value, for uniqueness and search alike.
 */
function text(field: string, value: string): string {
  const trimmed = value.normalize('NFC').trim();
  if (trimmed.length === 0 || trimmed.length > MAX_TEXT_LENGTH) {
    throw new Face3dError('BAD_USER_INPUT', `${field} must be 1 to ${MAX_TEXT_LENGTH} characters`);
  }
  return trimmed;
}

function metadata(value: Prisma.InputJsonValue | null): Prisma.InputJsonValue | typeof Prisma.DbNull {
  if (value === null) return Prisma.DbNull;
  if (Buffer.byteLength(JSON.stringify(value), 'utf8') > MAX_METADATA_BYTES) {
    throw new Face3dError('BAD_USER_INPUT', `metadata must be at most ${MAX_METADATA_BYTES} bytes of JSON`);
  }
  return value;
}

/** Only the fields present in `input` (undefined: unchanged; null: cleared where allowed). */
function subjectData(input: SubjectInput): Prisma.SubjectUpdateInput {
  if (input.name === null) throw new Face3dError('BAD_USER_INPUT', 'name cannot be null');
  return {
    ...(input.name !== undefined && { name: text('name', input.name) }),
    ...(input.externalId !== undefined && { externalId: input.externalId === null ? null : text('externalId', input.externalId) }),
    ...(input.metadata !== undefined && { metadata: metadata(input.metadata) }),
  };
}

function conflictOrRethrow(error: unknown, input: SubjectInput): never {
  if (isUniqueViolation(error)) throw new Face3dError('CONFLICT', `a subject with externalId "${input.externalId}" already exists`);
  throw error;
}

export function notFound(kind: string, id: string): Face3dError {
  return new Face3dError('NOT_FOUND', `no ${kind} with id "${id}"`);
}

export class SubjectRepository {
  constructor(private readonly store: GalleryStore) {}

  async create(input: SubjectInput & { readonly name: string }): Promise<SubjectRecord> {
    const data = subjectData(input) as Prisma.SubjectCreateInput;
    try {
      return toSubjectRecord(await this.store.write((db) => db.subject.create({ data })));
    } catch (error) {
      conflictOrRethrow(error, input);
    }
  }

  async update(id: string, input: SubjectInput): Promise<SubjectRecord> {
    const data = subjectData(input);
    try {
      return toSubjectRecord(await this.store.write((db) => db.subject.update({ where: { id }, data })));
    } catch (error) {
      if (isMissingRecord(error)) throw notFound('subject', id);
      conflictOrRethrow(error, input);
    }
  }

  /** Deletes the subject with its photos, faces, vectors and jobs (cascades), in one transaction. */
  async delete(id: string): Promise<DeletedSubject> {
    return this.store.transaction(async (tx) => {
      const photos = await tx.photo.findMany({ where: { subjectId: id }, select: { storagePath: true, face: { select: { id: true } } } });
      const { count } = await tx.subject.deleteMany({ where: { id } });
      if (count === 0) throw notFound('subject', id);
      await this.store.recordChange(tx, 'Subject', 'DELETE', [id]);
      return {
        storagePaths: photos.map((photo) => photo.storagePath),
        faceIds: photos.flatMap((photo) => (photo.face ? [photo.face.id] : [])),
      };
    });
  }

  /** In the order of `ids`; null where there is none. */
  async findMany(ids: readonly string[]): Promise<(SubjectRecord | null)[]> {
    const rows = await this.store.read.subject.findMany({ where: { id: { in: [...ids] } } });
    const byId = new Map(rows.map((row) => [row.id, toSubjectRecord(row)]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  async list(args: SubjectListArgs): Promise<Page<SubjectRecord>> {
    const size = pageSize(args.first);
    const rows = await this.store.read.subject.findMany({
      where: { AND: [this.searchFilter(args.search), afterKeyset(args.after)] },
      orderBy: keysetOrder(),
      take: size + 1,
    });
    return toPage(rows.map(toSubjectRecord), size);
  }

  count(search: string | null | undefined): Promise<number> {
    return this.store.read.subject.count({ where: this.searchFilter(search) });
  }

  private searchFilter(search: string | null | undefined): Prisma.SubjectWhereInput {
    const term = search?.normalize('NFC').trim();
    if (!term) return {};
    if (term.length > MAX_TEXT_LENGTH) throw new Face3dError('BAD_USER_INPUT', `search must be at most ${MAX_TEXT_LENGTH} characters, as names and externalIds are`);
    // SQLite's LIKE ignores ASCII case; PostgreSQL matches case-insensitively only when asked, and
    // takes a backslash as LIKE's escape, which SQLite does not: doubled, it is itself on both.
    const name =
      this.store.provider === 'postgresql' ? ({ contains: term.replaceAll('\\', '\\\\'), mode: 'insensitive' } as Prisma.StringFilter) : { contains: term };
    return { OR: [{ name }, { externalId: term }] };
  }
}
