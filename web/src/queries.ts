/** The GraphQL documents the viewer sends, and the shapes of their answers. */

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export type PhotoStatus = 'PENDING' | 'PROCESSING' | 'READY' | 'FAILED';

export interface Photo {
  id: string;
  status: PhotoStatus;
  width: number;
  height: number;
  url: string;
  error: { code: string; message: string } | null;
  face: { id: string; box: Box; score: number } | null;
}

export interface SubjectSummary {
  id: string;
  name: string;
  photoCount: number;
}

export interface SubjectDetail extends SubjectSummary {
  externalId: string | null;
  /** Null until a face is enrolled. */
  template: { bundle: string } | null;
  photos: { edges: { node: Photo }[] };
}

export interface ServerInfo {
  bundle: string;
  defaultThreshold: number;
  falseAcceptRate: number | null;
  thresholdSource: string;
  fpir: number | null;
  fpirConfidence: number | null;
  templates: number;
  maxUploadFiles: number;
  maxUploadBytes: number;
}

export interface SubjectPage {
  edges: { cursor: string; node: SubjectSummary }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  totalCount: number;
}

export interface Probe {
  box: Box | null;
  score: number | null;
  photo: Photo | null;
  face: { id: string } | null;
  subject: { id: string; name: string } | null;
}

export interface Match {
  rank: number;
  similarity: number;
  aboveThreshold: boolean;
  strangerChance: number | null;
  subject: SubjectSummary;
  face: { id: string; photo: Photo } | null;
}

export interface IdentifyResult {
  probe: Probe;
  matches: Match[];
  unknown: boolean;
  threshold: number;
  falseAcceptRate: number | null;
  fpir: number | null;
  templates: number;
  thresholdSource: string;
}

export interface VerifyResult {
  similarity: number;
  match: boolean;
  strangerChance: number | null;
  threshold: number;
  falseAcceptRate: number | null;
  fpir: number | null;
  templates: number;
  thresholdSource: string;
  a: Probe;
  b: Probe;
}

export type MeshFormat = 'PLY' | 'OBJ' | 'GLB';
/** What POST /meshes/probe.<ext> makes: one file each. */
export type ProbeMeshFormat = Exclude<MeshFormat, 'OBJ'>;

export interface MeshFiles {
  url: string;
  files: { name: string; url: string }[];
}

const PHOTO = 'id status width height url error { code message } face { id score box { x y width height } }';
const SUBJECT_SUMMARY = 'id name photoCount';
const PROBE = `box { x y width height } score photo { ${PHOTO} } face { id } subject { id name }`;

export const SERVER_INFO = 'query { serverInfo { bundle defaultThreshold falseAcceptRate thresholdSource fpir fpirConfidence templates maxUploadFiles maxUploadBytes } }';

export const SUBJECTS = `query($first: Int, $after: String, $search: String) {
  subjects(first: $first, after: $after, search: $search) { totalCount edges { cursor node { ${SUBJECT_SUMMARY} } } pageInfo { hasNextPage endCursor } }
}`;

export const SUBJECT = `query($id: ID!) {
  subject(id: $id) { ${SUBJECT_SUMMARY} externalId template { bundle } photos(first: 100) { edges { node { ${PHOTO} } } } }
}`;

export const CREATE_SUBJECT = `mutation($name: String!) { createSubject(input: { name: $name }) { ${SUBJECT_SUMMARY} } }`;
export const RENAME_SUBJECT = `mutation($id: ID!, $name: String!) { updateSubject(id: $id, input: { name: $name }) { ${SUBJECT_SUMMARY} } }`;
export const DELETE_SUBJECT = 'mutation($id: ID!) { deleteSubject(id: $id) }';

export const ENROLL = `mutation($subjectId: ID!, $photos: [Upload!]!) { enrollPhotos(subjectId: $subjectId, photos: $photos) { photos { ${PHOTO} } } }`;
export const PHOTO_QUERY = `query($id: ID!) { photo(id: $id) { ${PHOTO} } }`;
export const PHOTO_STATUS = `subscription($photoIds: [ID!]) { photoStatus(photoIds: $photoIds) { ${PHOTO} } }`;

export const IDENTIFY = `query($image: Upload) {
  identify(image: $image, topK: 5) {
    unknown threshold falseAcceptRate fpir templates thresholdSource probe { ${PROBE} }
    matches { rank similarity aboveThreshold strangerChance subject { ${SUBJECT_SUMMARY} } face { id photo { ${PHOTO} } } }
  }
}`;

export const VERIFY = `query($a: FaceRef!, $b: FaceRef!) {
  verify(a: $a, b: $b) { similarity match strangerChance threshold falseAcceptRate fpir templates thresholdSource a { ${PROBE} } b { ${PROBE} } }
}`;

export function meshQuery(kind: 'subject' | 'face'): string {
  return `query($id: ID!, $format: MeshFormat!, $expression: Boolean) { target: ${kind}(id: $id) { mesh(format: $format, expression: $expression) { url files { name url } } } }`;
}
