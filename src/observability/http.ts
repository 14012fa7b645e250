/**
 * The HTTP side of observability: every request gets an id (x-request-id, the caller's when it
 * sent a sensible one), is counted and timed by operation and outcome, and leaves one JSON log
 * line; /healthz, /readyz and /metrics; and the separate metrics port where configured.
 */
import type { IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import express, { Router, type Request, type RequestHandler, type Response } from 'express';
import { Kind, type GraphQLFormattedError, type OperationDefinitionNode } from 'graphql';
import { errorBody } from '../api/errors.js';
import type { Logger } from './logging.js';
import type { Face3dMetrics } from './metrics.js';
import type { Readiness } from './readiness.js';
import { currentRequest, REQUEST_ID_HEADER, requestIdFrom, runWithRequest, type RequestRecord } from '../core/request-context.js';

const OUTCOME_OF_STATUS: Readonly<Record<number, string>> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  413: 'BAD_USER_INPUT',
  429: 'RATE_LIMITED',
  503: 'NOT_READY',
};

function outcomeOfStatus(status: number): string {
  if (status < 400) return 'OK';
  return OUTCOME_OF_STATUS[status] ?? (status >= 500 ? 'INTERNAL' : 'BAD_REQUEST');
}

/** OK for no errors, else the first error's typed code (INTERNAL when it has none). */
export function codeOfErrors(errors: readonly GraphQLFormattedError[] | undefined): string {
  const code = errors?.[0]?.extensions?.code;
  return errors === undefined || errors.length === 0 ? 'OK' : typeof code === 'string' ? code : 'INTERNAL';
}

/** The typed code of a JSON error body ({ errors: [{ extensions: { code } }] }), if it is one. */
function codeOfBody(body: unknown): string | undefined {
  const errors = (body as { errors?: unknown } | null)?.errors;
  return Array.isArray(errors) ? codeOfErrors(errors as GraphQLFormattedError[]) : undefined;
}

/** A low-cardinality name: the route's pattern (never its ids), or "graphql" before GraphQL names the operation. */
function routeOf(req: Request): string {
  const pattern = (req.route as { path?: unknown } | undefined)?.path;
  if (typeof pattern === 'string') return `${req.method} ${pattern}`;
  return req.originalUrl.startsWith('/graphql') ? 'graphql' : 'other';
}

/**
 * Request id, in-flight gauge, counter and histogram, and the request's log line: every request
 * of the API port, probes included (the metrics port's probes and scrapes are not logged).
 */
export function observeRequests(metrics: Face3dMetrics, logger: Logger): RequestHandler {
  return (req, res, next) => {
    const record: RequestRecord = { id: requestIdFrom(req.headers[REQUEST_ID_HEADER]) };
    res.setHeader(REQUEST_ID_HEADER, record.id);
    const started = performance.now();
    metrics.requestsInFlight.inc();
    const json = res.json.bind(res);
    res.json = (body: unknown) => {
      record.outcome ??= codeOfBody(body);
      return json(body);
    };
    let settled = false;
    const settle = (): void => {
      if (settled) return;
      settled = true;
      metrics.requestsInFlight.dec();
      const seconds = (performance.now() - started) / 1000;
      const operation = record.operation ?? routeOf(req);
      const outcome = res.writableFinished ? (record.outcome ?? outcomeOfStatus(res.statusCode)) : 'ABORTED';
      metrics.observeRequest(operation, outcome, seconds);
      // originalUrl: under a mounted router (/graphql) req.path is what is left after the mount point, "/".
      const line = { requestId: record.id, method: req.method, path: req.originalUrl.split('?')[0], operation, outcome, status: res.statusCode, ms: Math.round(seconds * 10_000) / 10 };
      if (outcome === 'INTERNAL') logger.error(line, 'request');
      else logger.info(line, 'request');
    };
    res.once('finish', settle);
    res.once('close', settle);
    runWithRequest(record, next);
  };
}

/** An operation's name for the metrics: its one root field, or "multiple". */
export function rootFieldOf(operation: OperationDefinitionNode): string {
  const [first, ...others] = operation.selectionSet.selections;
  return first?.kind === Kind.FIELD && others.length === 0 ? first.name.value : 'multiple';
}

/** Tells the request's record which GraphQL operation it ran and the code it ended with. */
export function graphqlOutcomePlugin<TContext extends BaseContext>(): ApolloServerPlugin<TContext> {
  return {
    requestDidStart: async () => ({
      didResolveOperation: async ({ operation }) => {
        const record = currentRequest();
        if (record && operation) record.operation = rootFieldOf(operation);
      },
      willSendResponse: async ({ response }) => {
        const record = currentRequest();
        if (record && response.body.kind === 'single') record.outcome = codeOfErrors(response.body.singleResult.errors);
      },
    }),
  };
}

export interface ProbeOptions {
  readonly readiness: Readiness;
  /** The default bundle, once known (the liveness answer has always named it). */
  readonly bundle?: () => string | undefined;
}

/** /healthz: the process answers. /readyz: 200 when ready, else 503; both with the checks, never secrets. */
export function probeRoutes({ readiness, bundle }: ProbeOptions): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', bundle: bundle?.() });
  });
  router.get('/readyz', async (_req, res) => {
    const report = await readiness.report();
    res.status(report.ready ? 200 : 503).json(report);
  });
  return router;
}

/** Returns why `req` may not read the metrics, or null when it may. */
export type MetricsGuard = (req: IncomingMessage) => Promise<string | null>;

export function metricsRoute(metrics: Face3dMetrics, guard?: MetricsGuard): RequestHandler {
  return async (req: Request, res: Response) => {
    const problem = guard ? await guard(req) : null;
    if (problem !== null) {
      res.status(401).json(errorBody('UNAUTHENTICATED', problem));
      return;
    }
    res.type(metrics.contentType).send(await metrics.exposition());
  };
}

/** /healthz, /readyz and /metrics alone, for FACE3D_METRICS_PORT: no key, so it listens on loopback unless FACE3D_METRICS_HOST says otherwise. */
export function operationsApp(probes: ProbeOptions, metrics: Face3dMetrics): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(probeRoutes(probes));
  app.get('/metrics', metricsRoute(metrics));
  return app;
}
