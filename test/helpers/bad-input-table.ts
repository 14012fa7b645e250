/**
 * What the server does with each kind of bad or unusual input: the contract that
 * test/integration/bad-input.test.ts sends through a real server and docs/bad-input.md shows
 * (rendered by {@link renderBadInputTable}, and checked against it by that test).
 */

/** How an input reaches the server. */
export type SentAs =
  /** As photo 2 of an `enrollPhotos` multipart request whose photo 1 is a valid image: the whole batch is refused. */
  | 'enrollPhotos'
  /** As the `image` of an `identify` multipart request. */
  | 'identify'
  /** A request to /graphql built by hand (malformed or oversized bodies, query limits). */
  | 'request'
  /** As the only photo of an `enrollPhotos` request (default qualityFilter AUTO): accepted, then its enrollment fails. */
  | 'enrollment';

export type BadInputOutcome =
  /** An error with this `extensions.code` (the only error of the response), at this HTTP status. */
  | { readonly code: string; readonly httpStatus: number }
  /** `identify` answers with a probe whose face box is where the face is in the upright image. */
  | { readonly face: 'the face' | 'the largest face' }
  /** The photo is stored and ends FAILED with this error code, its `quality.issues` including these. */
  | { readonly photoError: string; readonly issues: readonly string[] };

export interface BadInputKind {
  readonly id: string;
  readonly input: string;
  readonly sentAs: SentAs;
  readonly outcome: BadInputOutcome;
  /** Made from real face photos (LFW): skipped when they are absent. */
  readonly needsFaces?: true;
}

const refused = (code: string, httpStatus = 200) => ({ code, httpStatus });
const FACE = { face: 'the face' } as const;

function imageKind(id: string, input: string, outcome: BadInputOutcome, sentAs: SentAs = 'identify'): BadInputKind {
  return { id, input, sentAs, outcome, ...('code' in outcome ? {} : { needsFaces: true }) };
}

const lowQuality = (...issues: string[]) => ({ photoError: 'LOW_QUALITY', issues });

const ORIENTATIONS = [1, 2, 3, 4, 5, 6, 7, 8] as const;

export const BAD_INPUTS: readonly BadInputKind[] = [
  imageKind('truncated-jpeg', 'a JPEG cut to half its length', refused('CORRUPT_IMAGE'), 'enrollPhotos'),
  imageKind('truncated-png', 'a PNG cut to half its length', refused('CORRUPT_IMAGE'), 'enrollPhotos'),
  imageKind('corrupt-jpeg-header', 'a JPEG whose frame header is overwritten with garbage', refused('CORRUPT_IMAGE'), 'enrollPhotos'),
  imageKind('png-bad-checksum', 'a PNG whose image data fails its CRC check', refused('CORRUPT_IMAGE'), 'enrollPhotos'),
  imageKind('gif-without-frames', 'a GIF with a header and a trailer but no frame', refused('CORRUPT_IMAGE'), 'enrollPhotos'),
  imageKind('empty-file', 'a file of zero bytes', refused('UNSUPPORTED_IMAGE'), 'enrollPhotos'),
  imageKind('random-bytes', 'random bytes named photo.jpg, sent as image/jpeg', refused('UNSUPPORTED_IMAGE'), 'enrollPhotos'),
  imageKind('plain-text', 'a text file named photo.png', refused('UNSUPPORTED_IMAGE'), 'enrollPhotos'),
  imageKind('html', 'an HTML page with a script, named photo.jpg', refused('UNSUPPORTED_IMAGE'), 'enrollPhotos'),
  imageKind('svg', 'an SVG image', refused('UNSUPPORTED_IMAGE'), 'enrollPhotos'),
  imageKind('svg-external-reference', 'an SVG that links an image on another server (which must never be fetched)', refused('UNSUPPORTED_IMAGE'), 'enrollPhotos'),
  imageKind('pdf', 'a PDF document', refused('UNSUPPORTED_IMAGE'), 'enrollPhotos'),
  imageKind('heic-in-avif-clothing', 'an ISO-BMFF file whose brand says HEIC', refused('UNSUPPORTED_IMAGE'), 'enrollPhotos'),
  imageKind('decompression-bomb', 'a PNG of a few hundred bytes whose header declares 50,000×50,000 pixels', refused('IMAGE_TOO_LARGE'), 'enrollPhotos'),
  imageKind('oversized-upload', 'a file one byte over FACE3D_MAX_IMAGE_BYTES', refused('IMAGE_TOO_LARGE'), 'enrollPhotos'),
  imageKind('face-box-outside-image', 'a valid photo with a faceBox that lies outside it', refused('BAD_USER_INPUT')),
  imageKind('one-pixel', 'a 1×1 PNG', refused('NO_FACE')),
  imageKind('twenty-pixels', 'a 20×20 JPEG', refused('NO_FACE')),
  imageKind('no-face', 'a 640×480 photo of an empty room (walls, floor, a window)', refused('NO_FACE')),
  imageKind('blurred-face', 'a face blurred out of focus (Gaussian, σ 6 pixels)', lowQuality('BLURRY'), 'enrollment'),
  imageKind('dark-face', 'a face at 6% of its brightness', lowQuality('TOO_DARK'), 'enrollment'),
  imageKind('overexposed-face', 'a face washed out to white (20% contrast over a grey level of 235)', lowQuality('TOO_BRIGHT'), 'enrollment'),
  imageKind('two-equal-faces', 'the same face twice side by side, equally large, no faceBox', lowQuality('SEVERAL_FACES'), 'enrollment'),
  imageKind('png-16-bit', 'a face as a 16-bit RGB PNG', FACE),
  imageKind('cmyk-jpeg', 'a face as a CMYK JPEG', FACE),
  imageKind('grayscale', 'a face as a grayscale JPEG', FACE),
  imageKind('alpha', 'a face as an RGBA PNG with a transparent border', FACE),
  imageKind('animated-gif', 'an animated GIF whose first frame is a face and second is blank', FACE),
  ...ORIENTATIONS.map((orientation) =>
    imageKind(`exif-orientation-${orientation}`, `a face stored transformed, with EXIF orientation ${orientation} to show it upright`, FACE),
  ),
  imageKind('five-faces', 'five faces in one photo, the middle one largest', { face: 'the largest face' }),
  imageKind('face-at-border', 'a face cut by the left edge of the photo', FACE),
  imageKind('large-photo', 'a 6000×4000 JPEG with one face', FACE),
  imageKind('webp', 'a face as WebP', FACE),
  imageKind('avif', 'a face as AVIF', FACE),
  imageKind('tiff', 'a face as TIFF', FACE),
  imageKind('wrong-mime-type', 'a JPEG face named face.pdf and sent as application/pdf', FACE),
  imageKind('invalid-utf8-name', 'a JPEG face whose multipart file name is not valid UTF-8', FACE),
  { id: 'too-many-files', input: 'one file more than FACE3D_MAX_UPLOAD_FILES in one request', sentAs: 'request', outcome: refused('BAD_USER_INPUT', 413) },
  { id: 'multipart-without-preflight', input: 'a multipart request without the apollo-require-preflight header (CSRF)', sentAs: 'request', outcome: refused('BAD_REQUEST', 400) },
  { id: 'multipart-without-map', input: 'a multipart request with operations and a file but no map field', sentAs: 'request', outcome: refused('BAD_REQUEST', 400) },
  { id: 'multipart-invalid-operations', input: 'a multipart request whose operations field is not JSON', sentAs: 'request', outcome: refused('BAD_REQUEST', 400) },
  { id: 'multipart-missing-file', input: 'a multipart request whose map names a file part that is not sent', sentAs: 'request', outcome: refused('BAD_USER_INPUT') },
  { id: 'multipart-cut-short', input: 'a multipart body that ends inside a file part', sentAs: 'request', outcome: refused('BAD_USER_INPUT') },
  { id: 'upload-as-string', input: 'a JSON request giving a string where an Upload is expected', sentAs: 'request', outcome: refused('BAD_USER_INPUT', 400) },
  { id: 'invalid-json-body', input: 'a JSON request whose body is not JSON', sentAs: 'request', outcome: refused('BAD_REQUEST', 400) },
  { id: 'huge-variables', input: 'a JSON request with 2 MB of variables', sentAs: 'request', outcome: refused('BAD_USER_INPUT', 413) },
  { id: 'huge-multipart-operations', input: 'a multipart request with 2 MB of variables in its operations field', sentAs: 'request', outcome: refused('BAD_USER_INPUT', 413) },
  { id: 'nul-character', input: 'a subject name holding U+0000, which PostgreSQL cannot store', sentAs: 'request', outcome: refused('BAD_USER_INPUT', 400) },
  { id: 'deep-query', input: 'a query nested deeper than FACE3D_MAX_QUERY_DEPTH', sentAs: 'request', outcome: refused('GRAPHQL_VALIDATION_FAILED', 400) },
  { id: 'costly-query', input: 'a query whose page sizes multiply past FACE3D_MAX_QUERY_COST', sentAs: 'request', outcome: refused('GRAPHQL_VALIDATION_FAILED', 400) },
  { id: 'inference-aliases', input: 'six aliases of identify in one operation (inference costs 900 of the 5000)', sentAs: 'request', outcome: refused('GRAPHQL_VALIDATION_FAILED', 400) },
  { id: 'token-flood', input: 'a document of more than 10,000 tokens (5,000 aliased introspections)', sentAs: 'request', outcome: refused('GRAPHQL_PARSE_FAILED', 400) },
  { id: 'deep-document', input: 'a document whose brackets nest 2,000 deep (at most 128), within the token limit', sentAs: 'request', outcome: refused('GRAPHQL_PARSE_FAILED', 400) },
  { id: 'deep-variables', input: 'metadata nested 20,000 levels deep (variables may nest 32)', sentAs: 'request', outcome: refused('BAD_USER_INPUT', 400) },
  { id: 'empty-id', input: 'identify(photoId: "")', sentAs: 'request', outcome: refused('BAD_USER_INPUT', 400) },
  { id: 'long-id', input: 'a subject id of 100,000 characters (ids are at most 128; not echoed back)', sentAs: 'request', outcome: refused('BAD_USER_INPUT', 400) },
  { id: 'long-search', input: 'a subjects search of 60,000 characters (at most 200)', sentAs: 'request', outcome: refused('BAD_USER_INPUT') },
  { id: 'multipart-map-far-index', input: 'a multipart map path far past its list (variables.photos.100000000)', sentAs: 'request', outcome: refused('BAD_REQUEST', 400) },
  { id: 'multipart-map-deep-path', input: 'a multipart map path of 20,000 segments', sentAs: 'request', outcome: refused('BAD_REQUEST', 400) },
  { id: 'multipart-map-many-paths', input: 'one file mapped to more paths than FACE3D_MAX_UPLOAD_FILES', sentAs: 'request', outcome: refused('BAD_USER_INPUT', 413) },
  { id: 'persisted-query', input: 'an automatic persisted query hash that does not match its query (persisted queries are off)', sentAs: 'request', outcome: refused('PERSISTED_QUERY_NOT_SUPPORTED', 400) },
];

function describeOutcome(outcome: BadInputOutcome): string {
  if ('code' in outcome) return `\`${outcome.code}\` (HTTP ${outcome.httpStatus})`;
  if ('photoError' in outcome) return `photo FAILED: \`${outcome.photoError}\` (${outcome.issues.join(', ')})`;
  return `${outcome.face} found`;
}

/** The Markdown table of docs/bad-input.md. */
export function renderBadInputTable(kinds: readonly BadInputKind[] = BAD_INPUTS): string {
  const rows = kinds.map((kind) => `| \`${kind.id}\` | ${kind.input} | ${kind.sentAs} | ${describeOutcome(kind.outcome)} |`);
  return ['| kind | input | sent as | outcome |', '| --- | --- | --- | --- |', ...rows].join('\n');
}
