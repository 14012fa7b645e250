/**
 * A running face3d server as the CLI's gallery, through its GraphQL API (uploads as multipart
 * requests). Server errors keep their `extensions.code`, so failures are summarised by the same
 * codes whether the gallery is local or remote.
 */
import { ApiClient, type GraphQLResponse } from '../api/http-client.js';
import { Face3dError, type ErrorCode } from '../core/errors.js';
import { matchSubject, type FileInput, type GalleryClient, type IdentifyReport, type PhotoState, type SubjectExport, type SubjectSummary, type VerifyReport } from './gallery-client.js';

const PAGE = 100;
const STATUS_CHUNK = 50;

const PHOTO_FIELDS = 'id sha256 status error { code message }';
const SUBJECT_FIELDS = 'id name externalId';
const THRESHOLD_FIELDS = 'threshold thresholdSource falseAcceptRate fpir templates';

const SEARCH_SUBJECTS = `query($search: String, $first: Int, $after: String) {
  subjects(search: $search, first: $first, after: $after) { edges { node { ${SUBJECT_FIELDS} photoCount } } pageInfo { hasNextPage endCursor } }
}`;
const EXPORT_SUBJECTS = `query($first: Int, $after: String) {
  subjects(first: $first, after: $after) {
    edges { node { ${SUBJECT_FIELDS} template { bundle shape texture } } }
    pageInfo { hasNextPage endCursor }
  }
}`;
const SUBJECT_PHOTOS = `query($id: ID!, $after: String) {
  subject(id: $id) { photos(first: ${PAGE}, after: $after) { edges { node { ${PHOTO_FIELDS} } } pageInfo { hasNextPage endCursor } } }
}`;
const CREATE_SUBJECT = `mutation($input: CreateSubjectInput!) { createSubject(input: $input) { id } }`;
const ENROLL = `mutation($subjectId: ID!, $photos: [Upload!]!) { enrollPhotos(subjectId: $subjectId, photos: $photos) { photos { ${PHOTO_FIELDS} } } }`;
const IDENTIFY = `query($image: Upload, $topK: Int, $threshold: Float) {
  identify(image: $image, topK: $topK, threshold: $threshold) { unknown ${THRESHOLD_FIELDS} matches { rank similarity aboveThreshold strangerChance subject { ${SUBJECT_FIELDS} } } }
}`;
const VERIFY = `query($a: FaceRef!, $b: FaceRef!, $threshold: Float) { verify(a: $a, b: $b, threshold: $threshold) { similarity match strangerChance ${THRESHOLD_FIELDS} } }`;

interface Connection<T> {
  readonly edges: readonly { readonly node: T }[];
  readonly pageInfo: { readonly hasNextPage: boolean; readonly endCursor: string | null };
}

type SubjectNode = Omit<SubjectSummary, 'photoCount'>;

const KNOWN_CODES: ReadonlySet<string> = new Set<ErrorCode>([
  'BAD_USER_INPUT', 'NOT_FOUND', 'NOT_READY', 'CONFLICT', 'NO_FACE', 'UNSUPPORTED_IMAGE', 'CORRUPT_IMAGE', 'IMAGE_TOO_LARGE', 'MODEL_UNAVAILABLE', 'UNAUTHENTICATED', 'FORBIDDEN', 'INTERNAL',
]);

/** The response's data, or its first error as a Face3dError of the server's code. */
export function dataOrThrow<T>(response: GraphQLResponse<T>): T {
  const [error] = response.errors ?? [];
  if (error) {
    const code = error.extensions?.code ?? 'INTERNAL';
    if (KNOWN_CODES.has(code)) throw new Face3dError(code as ErrorCode, error.message);
    throw new Face3dError(code.startsWith('GRAPHQL_') || code === 'BAD_REQUEST' ? 'BAD_USER_INPUT' : 'INTERNAL', `${code}: ${error.message}`);
  }
  if (!response.data) throw new Face3dError('INTERNAL', `the server answered HTTP ${response.status} without data`);
  return response.data;
}

function nodes<T>(connection: Connection<T>): T[] {
  return connection.edges.map((edge) => edge.node);
}

export class RemoteGallery implements GalleryClient {
  private readonly client: ApiClient;

  constructor(url: string, key: string | undefined) {
    this.client = new ApiClient(url.replace(/\/+$/, '').replace(/\/graphql$/, ''), key);
  }

  private async query<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    return dataOrThrow(await this.client.query<T>(query, variables));
  }

  private async upload<T>(query: string, variables: Record<string, unknown>, files: Record<string, FileInput>): Promise<T> {
    return dataOrThrow(await this.client.upload<T>(query, variables, files));
  }

  private async *subjectPages<T>(query: string, variables: Record<string, unknown>, first: number): AsyncIterable<T[]> {
    for (let after: string | null = null; ; ) {
      const { subjects }: { subjects: Connection<T> } = await this.query(query, { ...variables, first, after });
      yield nodes(subjects);
      if (!subjects.pageInfo.hasNextPage) return;
      after = subjects.pageInfo.endCursor;
    }
  }

  async subjectFor(name: string): Promise<{ id: string; created: boolean }> {
    const { subjects } = await this.query<{ subjects: Connection<SubjectNode> }>(SEARCH_SUBJECTS, { search: name, first: PAGE });
    const found = matchSubject(nodes(subjects), name);
    if (found) return { id: found.id, created: false };
    const { createSubject } = await this.query<{ createSubject: { id: string } }>(CREATE_SUBJECT, { input: { name, externalId: name } });
    return { id: createSubject.id, created: true };
  }

  async photosOf(subjectId: string): Promise<PhotoState[]> {
    let connection = await this.subjectPhotos(subjectId, null);
    const all = nodes(connection);
    while (connection.pageInfo.hasNextPage) {
      connection = await this.subjectPhotos(subjectId, connection.pageInfo.endCursor);
      all.push(...nodes(connection));
    }
    return all;
  }

  private async subjectPhotos(id: string, after: string | null): Promise<Connection<PhotoState>> {
    const { subject } = await this.query<{ subject: { photos: Connection<PhotoState> } | null }>(SUBJECT_PHOTOS, { id, after });
    if (!subject) throw new Face3dError('NOT_FOUND', `no subject with id "${id}"`);
    return subject.photos;
  }

  async enrollPhoto(subjectId: string, file: FileInput): Promise<PhotoState> {
    const { enrollPhotos } = await this.upload<{ enrollPhotos: { photos: PhotoState[] } }>(ENROLL, { subjectId, photos: [null] }, { 'variables.photos.0': file });
    return enrollPhotos.photos[0];
  }

  async photoStates(ids: readonly string[]): Promise<PhotoState[]> {
    const states: PhotoState[] = [];
    for (let start = 0; start < ids.length; start += STATUS_CHUNK) {
      const chunk = ids.slice(start, start + STATUS_CHUNK);
      // One request per chunk: each photo an aliased field.
      const query = `query(${chunk.map((_, i) => `$p${i}: ID!`).join(', ')}) { ${chunk.map((_, i) => `p${i}: photo(id: $p${i}) { ${PHOTO_FIELDS} }`).join(' ')} }`;
      const data = await this.query<Record<string, PhotoState | null>>(query, Object.fromEntries(chunk.map((id, i) => [`p${i}`, id])));
      states.push(...chunk.map((_, i) => data[`p${i}`]).filter((photo) => photo !== null));
    }
    return states;
  }

  async identify(file: FileInput, options: { topK: number; threshold?: number }): Promise<IdentifyReport> {
    const variables = { image: null, topK: options.topK, threshold: options.threshold ?? null };
    return (await this.upload<{ identify: IdentifyReport }>(IDENTIFY, variables, { 'variables.image': file })).identify;
  }

  async verify(a: FileInput, b: FileInput, threshold?: number): Promise<VerifyReport> {
    const variables = { a: { image: null }, b: { image: null }, threshold: threshold ?? null };
    return (await this.upload<{ verify: VerifyReport }>(VERIFY, variables, { 'variables.a.image': a, 'variables.b.image': b })).verify;
  }

  async *subjects(search?: string): AsyncIterable<SubjectSummary> {
    for await (const page of this.subjectPages<SubjectSummary>(SEARCH_SUBJECTS, { search: search ?? null }, PAGE)) yield* page;
  }

  async *exportSubjects(): AsyncIterable<SubjectExport> {
    type ExportNode = SubjectNode & { template: SubjectExport['template'] };
    // Photos one subject at a time: a page of subjects each with a page of photos would exceed the server's query cost limit.
    for await (const page of this.subjectPages<ExportNode>(EXPORT_SUBJECTS, {}, PAGE)) {
      for (const subject of page) yield { ...subject, photos: await this.photosOf(subject.id) };
    }
  }

  async close(): Promise<void> {}
}
