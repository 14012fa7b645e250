/**
 * HTTP hardening in front of every route: security headers, CORS for configured origins only, and
 * per-key rate limits. Authentication itself is per field (src/api/auth.ts); CSRF prevention is
 * Apollo's csrfPrevention plus the multipart preflight rule in server.ts.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { Kind, visit, type DocumentNode } from 'graphql';
import helmet from 'helmet';
import type { ApiKeys } from '../auth/api-keys.js';
import { identifyCaller, type Caller } from './auth.js';
import { errorBody } from './errors.js';
import { TokenBuckets } from './token-bucket.js';

/**
 * The viewer runs only its own bundled scripts; three.js textures and exported files are `blob:`
 * or `data:` URLs; GraphQL, downloads and graphql-ws are same-origin. Nothing may frame a page.
 */
const PAGE_POLICY = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'", "'unsafe-inline'"],
  imgSrc: ["'self'", 'data:', 'blob:'],
  connectSrc: ["'self'"],
  workerSrc: ["'self'", 'blob:'],
  objectSrc: ["'none'"],
  baseUri: ["'self'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
};

/** Apollo's landing page at GET /graphql loads Apollo's hosted Sandbox, so there /graphql only forbids framing. */
const GRAPHQL_POLICY = { frameAncestors: ["'none'"] };

const COMMON = { xFrameOptions: { action: 'deny' }, referrerPolicy: { policy: 'no-referrer' } } as const;

/** `landingPage`: Apollo's landing page is served (development); without it /graphql has the pages' policy. */
export function securityHeaders(landingPage: boolean): RequestHandler {
  const page = helmet({ ...COMMON, contentSecurityPolicy: { useDefaults: false, directives: PAGE_POLICY } });
  if (!landingPage) return page;
  const graphql = helmet({ ...COMMON, contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: helmet.contentSecurityPolicy.dangerouslyDisableDefaultSrc, ...GRAPHQL_POLICY } } });
  return (req, res, next) => (req.path === '/graphql' ? graphql : page)(req, res, next);
}

const ALLOWED_HEADERS = 'Authorization, Content-Type, Apollo-Require-Preflight, X-Apollo-Operation-Name';

function isPreflight(req: Request): boolean {
  return req.method === 'OPTIONS' && req.get('access-control-request-method') !== undefined;
}

/**
 * Cross-origin browser access for `origins` only; with none, browsers keep pages of other origins
 * from reading any response (same-origin policy). Keys travel in a header, never in cookies, so
 * credentials are never allowed.
 */
export function corsPolicy(origins: readonly string[]): RequestHandler {
  const allowed = new Set(origins.map((origin) => origin.toLowerCase()));
  return (req: Request, res: Response, next: NextFunction) => {
    res.vary('Origin');
    const origin = req.get('origin');
    if (origin === undefined || !allowed.has(origin.toLowerCase())) {
      if (isPreflight(req)) {
        res.status(403).json(errorBody('FORBIDDEN', `origin ${origin ?? '(none)'} may not call this API (FACE3D_CORS_ORIGINS)`));
        return;
      }
      next();
      return;
    }
    res.set({ 'Access-Control-Allow-Origin': origin, 'Access-Control-Expose-Headers': 'Retry-After, Content-Disposition' });
    if (isPreflight(req)) {
      res.set({ 'Access-Control-Allow-Methods': 'GET, POST', 'Access-Control-Allow-Headers': ALLOWED_HEADERS, 'Access-Control-Max-Age': '600' });
      res.status(204).end();
      return;
    }
    next();
  };
}

/** The bucket a caller's requests are counted in: its key's, or its address's without a valid key. */
export function rateBucketOf(caller: Caller, address: string | undefined): string {
  return caller.principal ? `key:${caller.principal.keyId}` : `address:${address ?? 'unknown'}`;
}

/**
 * At most `perMinute` requests a minute (bursts up to that many) per valid API key, and per client
 * address for requests without one, so that made-up keys share their address's bucket. 0: off.
 * One instance serves HTTP requests and WebSocket messages alike, so they share each bucket.
 */
export class RateLimit {
  private readonly buckets: TokenBuckets | undefined;

  constructor(readonly perMinute: number) {
    this.buckets = perMinute === 0 ? undefined : new TokenBuckets({ capacity: perMinute, periodMs: 60_000 });
  }

  /** Null when allowed; otherwise the refusal, with the seconds to wait. */
  take(bucket: string): { retryAfterSeconds: number; message: string } | null {
    const taken = this.buckets?.take(bucket);
    if (!taken || taken.allowed) return null;
    const seconds = Math.ceil(taken.retryAfterMs / 1000);
    return { retryAfterSeconds: seconds, message: `over the limit of ${this.perMinute} requests per minute; retry in ${seconds} s` };
  }
}

export function rateLimiter(limit: RateLimit, keys: ApiKeys): RequestHandler {
  if (limit.perMinute === 0) return (_req, _res, next) => next();
  return async (req: Request, res: Response, next: NextFunction) => {
    const refused = limit.take(rateBucketOf(await identifyCaller(req.get('authorization'), keys), req.ip));
    if (!refused) {
      next();
      return;
    }
    res.set('Retry-After', String(refused.retryAfterSeconds));
    res.status(429).json(errorBody('RATE_LIMITED', refused.message));
  };
}

/**
 * Deeper than any input of this API needs (metadata JSON included) and shallow enough for every
 * recursive consumer after this check (graphql's coercion, JSON.stringify, Prisma).
 */
export const MAX_INPUT_DEPTH = 32;

export type InputProblem = 'nul' | 'too-deep';

const INPUT_PROBLEMS: Readonly<Record<InputProblem, string>> = {
  nul: 'strings must not contain the NUL character (U+0000)',
  'too-deep': `variables must not nest deeper than ${MAX_INPUT_DEPTH} levels`,
};

export function describeInputProblem(problem: InputProblem): string {
  return INPUT_PROBLEMS[problem];
}

/**
 * The first thing wrong with `value`: U+0000 in a string or an object key, or nesting past
 * MAX_INPUT_DEPTH. Walked with an explicit stack, so no depth costs stack: the check that keeps
 * deep input away from every recursive walk after it must not be one itself. `opaque` values
 * (uploads) are not entered.
 */
export function inputProblem(value: unknown, opaque: (value: object) => boolean = () => false): InputProblem | null {
  const pending: [unknown, number][] = [[value, 0]];
  while (pending.length > 0) {
    const [item, depth] = pending.pop()!;
    if (typeof item === 'string') {
      if (item.includes('\u0000')) return 'nul';
      continue;
    }
    if (item === null || typeof item !== 'object' || opaque(item)) continue;
    if (depth >= MAX_INPUT_DEPTH) return 'too-deep';
    for (const key of Object.keys(item)) {
      if (key.includes('\u0000')) return 'nul';
      pending.push([(item as Record<string, unknown>)[key], depth + 1]);
    }
  }
  return null;
}

export function documentContainsNul(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    [Kind.STRING]: (node) => {
      if (node.value.includes('\u0000')) found = true;
    },
  });
  return found;
}
