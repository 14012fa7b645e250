/**
 * HTTP hardening in front of every route: security headers, CORS for configured origins only, and
 * per-key rate limits. Authentication itself is per field (src/api/auth.ts); CSRF prevention is
 * Apollo's csrfPrevention plus the multipart preflight rule in server.ts.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { GraphQLError, Kind, visit, type DocumentNode } from 'graphql';
import helmet from 'helmet';
import type { ApiKeyRepository } from '../auth/api-keys.js';
import { identifyCaller } from './auth.js';
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

/** Apollo's landing page at GET /graphql loads Apollo's hosted Sandbox, so /graphql only forbids framing. */
const GRAPHQL_POLICY = { frameAncestors: ["'none'"] };

const COMMON = { xFrameOptions: { action: 'deny' }, referrerPolicy: { policy: 'no-referrer' } } as const;

export function securityHeaders(): RequestHandler {
  const page = helmet({ ...COMMON, contentSecurityPolicy: { useDefaults: false, directives: PAGE_POLICY } });
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

/**
 * At most `perMinute` requests a minute (bursts up to that many) per valid API key, and per client
 * address for requests without one, so that made-up keys share their address's bucket. 0: off.
 */
export function rateLimiter(perMinute: number, keys: ApiKeyRepository): RequestHandler {
  if (perMinute === 0) return (_req, _res, next) => next();
  const buckets = new TokenBuckets({ capacity: perMinute, periodMs: 60_000 });
  return async (req: Request, res: Response, next: NextFunction) => {
    const caller = await identifyCaller(req.get('authorization'), keys);
    const taken = buckets.take(caller.principal ? `key:${caller.principal.keyId}` : `address:${req.ip}`);
    if (taken.allowed) {
      next();
      return;
    }
    const seconds = Math.ceil(taken.retryAfterMs / 1000);
    res.set('Retry-After', String(seconds));
    res.status(429).json(errorBody('RATE_LIMITED', `over the limit of ${perMinute} requests per minute; retry in ${seconds} s`));
  };
}

/** Whether `value` holds U+0000 anywhere: in a string, an object key, or nested. */
export function containsNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (Array.isArray(value)) return value.some(containsNul);
  if (value !== null && typeof value === 'object') return Object.entries(value).some(([key, inner]) => key.includes('\u0000') || containsNul(inner));
  return false;
}

function documentContainsNul(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    [Kind.STRING]: (node) => {
      if (node.value.includes('\u0000')) found = true;
    },
  });
  return found;
}

/**
 * PostgreSQL text and jsonb cannot hold U+0000, so such a value would fail deep in the database
 * as INTERNAL; no name, id or label needs one, so it is refused up front as BAD_USER_INPUT.
 */
export function nulCharacterPlugin<T extends object>(): ApolloServerPlugin<T> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, request }) {
          if (containsNul(request.variables ?? {}) || documentContainsNul(document)) {
            throw new GraphQLError('strings must not contain the NUL character (U+0000)', { extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } } });
          }
        },
      };
    },
  };
}
