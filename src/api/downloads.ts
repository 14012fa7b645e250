/**
 * File downloads next to /graphql, with the API's authentication (READ): the original photos,
 * the meshes that `Subject.mesh` / `Face.mesh` point to, and the mesh of a photo's face that is
 * not enrolled (nothing is stored).
 *   GET /photos/<photoId>/original
 *   GET /meshes/<subject|face>/<id>/<subject|face>-<id>.<ply|glb|obj|mtl|png>[?expression=1][&ascii=1][&bundle=<id>]
 *   POST /meshes/probe.<glb|ply>[?expression=1][&ascii=1][&bundle=<id>], the image as the body (Content-Type image/*)
 * The POST is no CSRF hole: it needs the Authorization header and an image/* body, neither of
 * which a form of another site can send, and a cross-origin script's request with either is
 * preflighted, which corsPolicy refuses unless the origin is allowed.
 */
import type { IncomingMessage } from 'node:http';
import { Router, type Request, type Response } from 'express';
import { Face3dError, isFace3dError, type ErrorCode } from '../core/errors.js';
import { meshStem, type MeshTarget } from '../gallery/gallery.js';
import { asClientError, BUSY_RETRY_AFTER_S } from '../store/prisma-errors.js';
import { MESH_EXTENSIONS, type MeshFormat } from '../gallery/mesh-export.js';
import { identifyCaller, requireRole } from './auth.js';
import type { ApiServices } from './context.js';
import { errorBody, SERVER_STATE_STATUS, type ErrorLogger } from './errors.js';
import { inputProblem } from './security.js';

const FORMAT_OF_EXTENSION: Readonly<Record<string, MeshFormat>> = { ply: 'PLY', glb: 'GLB', obj: 'OBJ', mtl: 'OBJ', png: 'OBJ' };
/** One file each: OBJ's MTL and texture would need further requests for an image that is not kept. */
const PROBE_FORMAT_OF_EXTENSION: Readonly<Record<string, MeshFormat>> = { ply: 'PLY', glb: 'GLB' };

const HTTP_STATUS: Partial<Record<ErrorCode, number>> = {
  BAD_USER_INPUT: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  NOT_READY: 409,
  IMAGE_TOO_LARGE: 413,
  UNSUPPORTED_IMAGE: 415,
  NO_FACE: 422,
  CORRUPT_IMAGE: 422,
  PHOTO_MISSING: 410,
  PHOTO_CORRUPT: 410,
  // Too many mesh downloads waiting for the mesh pool's threads (FACE3D_MESH_QUEUE).
  RATE_LIMITED: 429,
  ...SERVER_STATE_STATUS,
};

/** What a refused mesh download (RATE_LIMITED) is told to wait, in seconds. */
const MESH_RETRY_AFTER_S = 1;

export interface MeshRequest {
  readonly target: MeshTarget;
  readonly format: MeshFormat;
  readonly expression: boolean;
  readonly ascii: boolean;
  /** The served bundle that reconstructs it; null: the default bundle. */
  readonly bundle: string | null;
}

/** Where a mesh file is served; `fileName` defaults to the main file of the format. */
export function meshUrl(baseUrl: string, request: MeshRequest, fileName = `${meshStem(request.target)}.${MESH_EXTENSIONS[request.format]}`): string {
  const { target } = request;
  const parameters = new URLSearchParams();
  if (request.expression) parameters.set('expression', '1');
  if (request.ascii) parameters.set('ascii', '1');
  if (request.bundle !== null) parameters.set('bundle', request.bundle);
  const search = parameters.size > 0 ? `?${parameters}` : '';
  return `${baseUrl}/meshes/${target.kind}/${encodeURIComponent(target.id)}/${encodeURIComponent(fileName)}${search}`;
}

/** A Host header as RFC 9110 allows it: a DNS name or IP literal and an optional port, nothing else. */
const HOST_HEADER = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;

/**
 * The scheme, host and port that photo and mesh URLs start with: FACE3D_PUBLIC_URL when set (the
 * way to go behind a proxy or in production), else the request's Host header when it is a plain
 * host[:port], else the address the request reached. Clients send their key to these URLs, so a
 * header such as `evil.example/x?y=` must never become part of one.
 */
export function requestBaseUrl(req: IncomingMessage, publicUrl: string | undefined): string {
  if (publicUrl !== undefined) return publicUrl;
  const scheme = (req.socket as { encrypted?: boolean }).encrypted === true ? 'https' : 'http';
  const host = req.headers.host;
  if (host !== undefined && HOST_HEADER.test(host)) return `${scheme}://${host}`;
  const { localAddress, localPort } = req.socket;
  return `${scheme}://${localAddress?.includes(':') ? `[${localAddress}]` : (localAddress ?? 'localhost')}:${localPort}`;
}

export function photoUrl(baseUrl: string, photoId: string): string {
  return `${baseUrl}/photos/${encodeURIComponent(photoId)}/original`;
}

function queryFlag(req: Request, name: string): boolean {
  return req.query[name] === '1' || req.query[name] === 'true';
}

function queryBundle(req: Request): string | null {
  return typeof req.query.bundle === 'string' ? req.query.bundle : null;
}

/**
 * The request body, refused as IMAGE_TOO_LARGE once over `maxBytes`; the rest is still read (and
 * dropped) so that the refusal reaches the client rather than a reset connection.
 */
function readImageBody(req: Request, maxBytes: number): Promise<Buffer> {
  const tooLarge = () => new Face3dError('IMAGE_TOO_LARGE', `the image is over the ${maxBytes}-byte limit (FACE3D_MAX_IMAGE_BYTES)`);
  if (Number(req.get('content-length')) > maxBytes) {
    req.resume();
    return Promise.reject(tooLarge());
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) chunks.push(chunk);
      else {
        chunks.length = 0;
        reject(tooLarge());
      }
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', (error) => reject(new Face3dError('BAD_USER_INPUT', `the request body could not be read: ${error.message}`, { cause: error })));
  });
}

function parseMeshRequest(req: Request): { request: MeshRequest; fileName: string } {
  const { kind, id, file } = req.params as Record<string, string>;
  if (kind !== 'subject' && kind !== 'face') throw new Face3dError('NOT_FOUND', `no mesh kind "${kind}": use subject or face`);
  const target: MeshTarget = { kind, id };
  const extension = /\.([a-z]+)$/.exec(file)?.[1] ?? '';
  const format = FORMAT_OF_EXTENSION[extension];
  if (!format || file !== `${meshStem(target)}.${extension}`) throw new Face3dError('NOT_FOUND', `no mesh file "${file}" for ${kind} ${id}`);
  return { request: { target, format, expression: queryFlag(req, 'expression'), ascii: queryFlag(req, 'ascii'), bundle: queryBundle(req) }, fileName: file };
}

export function downloadRoutes(services: ApiServices, log: ErrorLogger): Router {
  const router = Router();
  const guarded = (handler: (req: Request, res: Response) => Promise<void>) => async (req: Request, res: Response) => {
    try {
      requireRole(await identifyCaller(req.headers.authorization, services.keys), 'read');
      // No stored id or file name holds U+0000 (and PostgreSQL could not even look one up).
      if (inputProblem(req.params) === 'nul') throw new Face3dError('NOT_FOUND', 'no such file');
      await handler(req, res);
    } catch (thrown) {
      const error = asClientError(thrown);
      const code = isFace3dError(error) ? error.code : 'INTERNAL';
      if (code === 'DATABASE_BUSY') res.set('Retry-After', String(BUSY_RETRY_AFTER_S));
      // The mesh pool's queue is full: a download takes a second or so, and a place frees with each.
      if (code === 'RATE_LIMITED') res.set('Retry-After', String(MESH_RETRY_AFTER_S));
      if (code === 'INTERNAL') log(error);
      const message = code === 'INTERNAL' && !services.config.debug ? 'internal error' : (error as Error).message;
      res.status(HTTP_STATUS[code] ?? 500).json(errorBody(code, message));
    }
  };

  router.get(
    '/photos/:id/original',
    guarded(async (req, res) => {
      const { bytes, mimeType } = await services.gallery.photoFile(req.params.id as string);
      res.type(mimeType).set('Cache-Control', 'private, max-age=3600').send(bytes);
    }),
  );

  router.get(
    '/meshes/:kind/:id/:file',
    guarded(async (req, res) => {
      const { request, fileName } = parseMeshRequest(req);
      const exported = await services.gallery.meshOf(request.target, request.format, request);
      const file = exported.files.find((candidate) => candidate.name === fileName);
      if (!file) throw new Face3dError('NOT_FOUND', `no file "${fileName}" in this ${request.format} export`);
      // attachment() sets a type from the extension (PLY: application/octet-stream): the export's own type goes after it.
      res.attachment(file.name).type(file.contentType).set('Cache-Control', 'private, no-cache').send(file.bytes);
    }),
  );

  router.post(
    '/meshes/probe.:extension',
    guarded(async (req, res) => {
      const format = PROBE_FORMAT_OF_EXTENSION[req.params.extension as string];
      if (!format) throw new Face3dError('NOT_FOUND', `no probe mesh "probe.${req.params.extension}": use probe.glb or probe.ply`);
      if (!req.is('image/*')) {
        res.status(415).json(errorBody('BAD_USER_INPUT', `send the photo itself as the body, with Content-Type image/* (got ${req.get('content-type') ?? 'none'})`));
        return;
      }
      const bytes = await readImageBody(req, services.config.maxImageBytes);
      const probe = await services.gallery.probeImage({ bytes }, null, queryBundle(req));
      const [file] = (await services.gallery.meshOfProbe(probe, format, { expression: queryFlag(req, 'expression'), ascii: queryFlag(req, 'ascii') })).files;
      res.attachment(file.name).type(file.contentType).set('Cache-Control', 'no-store').send(file.bytes);
    }),
  );
  return router;
}
