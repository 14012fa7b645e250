/**
 * The face3d service: one HTTP server with GraphQL at /graphql (queries and mutations over HTTP,
 * file uploads as multipart requests, subscriptions over graphql-ws), the photo and mesh
 * downloads, and /healthz, over the service (service/open-service.ts: the database migrated, one
 * encoder per served bundle, each bundle's vectors in its index, what a previous process left
 * unfinished repaired), whose enrollment worker it starts.
 */
import { createServer, STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import express, { type NextFunction, type Request, type Response } from 'express';
import graphqlUploadExpress from 'graphql-upload/graphqlUploadExpress.mjs';
import { CloseCode } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { createContext, type ApiServices, type RequestContext } from './api/context.js';
import { downloadRoutes, requestBaseUrl } from './api/downloads.js';
import { viewerRoutes } from './api/viewer.js';
import { createErrorFormatter, errorBody, serverStatePlugin, type ErrorLogger } from './api/errors.js';
import type { QueryLimits } from './api/limits.js';
import { extraValidationRules, operationGuardPlugin, PARSE_OPTIONS, refuseDeepDocuments } from './api/operation-guard.js';
import { buildSchema } from './api/schema.js';
import { corsPolicy, RateLimit, rateLimiter, securityHeaders } from './api/security.js';
import { receiveMultipart } from './api/uploads.js';
import { subscriptionRules, type SubscriptionRules } from './api/websocket.js';
import type { Gallery } from './gallery/gallery.js';
import type { EnrollmentWorker } from './jobs/enrollment-worker.js';
import type { RecoveryReport } from './store/job-repository.js';
import { Cleanups } from './core/lifecycle.js';
import { identifyCaller } from './api/auth.js';
import { graphqlOutcomePlugin, metricsRoute, observeRequests, probeRoutes } from './observability/http.js';
import type { ThresholdInForce } from './observability/metrics.js';
import { listen, openObservability, urlOf, type Observability } from './observability/observability.js';
import { observeSubscriptions } from './observability/websocket.js';
import { signInHint } from './auth/sign-in-hint.js';
import { databaseName } from './store/database-name.js';
import { describePhotoFiles, logTo, openDatabaseAndEncoders, openService, type PhotoFilesReport, type ProcessOptions } from './service/open-service.js';

export type ServerOptions = ProcessOptions;

export interface RunningServer {
  /** http://host:port */
  readonly url: string;
  readonly gallery: Gallery;
  readonly worker: EnrollmentWorker;
  readonly recovery: RecoveryReport;
  readonly photoFiles: PhotoFilesReport;
  /** FACE3D_METRICS_PORT's /metrics, /healthz and /readyz; undefined when unset. */
  readonly operationsUrl: string | undefined;
  /** Drains: readiness false first, then in-flight requests and running jobs finish (FACE3D_DRAIN_MS), then everything closes. */
  close(): Promise<void>;
}

/** JSON bodies, multipart operations and WebSocket messages alike. */
const MAX_BODY_BYTES = 1_000_000;

/** Apollo's own CSRF rule, applied before a multipart body is read rather than after. */
const PREFLIGHT_HEADERS = ['apollo-require-preflight', 'x-apollo-operation-name'];

function requirePreflightForMultipart(req: Request, res: Response, next: NextFunction): void {
  if (req.is('multipart/form-data') && !PREFLIGHT_HEADERS.some((header) => req.get(header))) {
    res.status(400).json(errorBody('BAD_REQUEST', `multipart requests must send a non-empty ${PREFLIGHT_HEADERS.join(' or ')} header (CSRF prevention)`));
    return;
  }
  next();
}

const CLIENT_ERROR_CODE_OF_STATUS: Readonly<Record<number, string>> = { 404: 'NOT_FOUND', 413: 'BAD_USER_INPUT' };

/** Errors of the multipart parser (too many files, malformed parts) and of static files (404) as GraphQL-shaped bodies. */
function uploadErrorHandler(log: ErrorLogger) {
  return (error: Error & { status?: number; expose?: boolean }, _req: Request, res: Response, next: NextFunction): void => {
    if (res.headersSent) return next(error);
    if (error.status && error.status < 500) {
      // A missing static file's error is not exposed: it names the server's paths.
      res.status(error.status).json(errorBody(CLIENT_ERROR_CODE_OF_STATUS[error.status] ?? 'BAD_REQUEST', error.expose ? error.message : (STATUS_CODES[error.status] ?? 'bad request')));
      return;
    }
    log(error);
    res.status(500).json(errorBody('INTERNAL', 'internal error'));
  };
}

function authorizationFromParams(params: Readonly<Record<string, unknown>> | undefined): string | undefined {
  const value = params?.authorization ?? params?.Authorization;
  return typeof value === 'string' ? value : undefined;
}

const NO_KEY_CLOSE_REASON = "Forbidden: no API key: send connectionParams: { authorization: 'Bearer <key>' }";

function serveSubscriptions(server: Server, services: ApiServices, rules: SubscriptionRules, observability: Observability) {
  // Upgrades are routed here rather than with `{ server }`: that would make the HTTP server's own
  // errors (a port in use) the WebSocket server's, which graphql-ws prints as its internal error.
  const wsServer = new WebSocketServer({ noServer: true, path: '/graphql', maxPayload: MAX_BODY_BYTES });
  server.on('upgrade', (request, socket, head) => {
    if (!wsServer.shouldHandle(request)) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    wsServer.handleUpgrade(request, socket, head, (client) => wsServer.emit('connection', client, request));
  });
  return useServer(
    {
      isProd: !services.config.debug,
      onConnect: async (ctx) => {
        const authorization = authorizationFromParams(ctx.connectionParams);
        const { caller } = await createContext(services, authorization, '');
        const outcome = !rules.admit(caller, ctx.extra) ? 'RATE_LIMITED' : caller.principal ? 'OK' : 'UNAUTHENTICATED';
        observability.metrics.observeConnection(outcome);
        if (outcome === 'UNAUTHENTICATED' && !caller.principal) {
          // Closed here, with what to send: graphql-ws's own close for `false` says only "Forbidden".
          ctx.extra.socket.close(CloseCode.Forbidden, authorization === undefined ? NO_KEY_CLOSE_REASON : `Forbidden: ${caller.problem}`);
        }
        return outcome === 'OK';
      },
      ...observeSubscriptions(observability.metrics, observability.logger, rules.hooks),
    },
    wsServer,
  );
}

/** The threshold each served bundle applies now to an identify that names none (subject templates), for /metrics. */
function thresholdsInForce(gallery: Gallery): ThresholdInForce[] {
  return gallery.bundleIds.map((bundle) => ({ bundle, ...gallery.served(bundle).decision.forGallery(gallery.templatesSearched('TEMPLATE', bundle)) }));
}

/** Express + Apollo + graphql-ws on one HTTP server, listening. */
async function serveHttp(services: ApiServices, observability: Observability): Promise<{ url: string; stop: () => Promise<void> }> {
  const { config } = services;
  const { logError, metrics, readiness } = observability;
  const limits: QueryLimits = { maxDepth: config.maxQueryDepth, maxCost: config.maxQueryCost };
  const schema = buildSchema();
  const formatError = createErrorFormatter(config.debug, logError, config.production);
  const rateLimit = new RateLimit(config.rateLimitPerMinute);
  const baseUrlOf = (req: IncomingMessage) => requestBaseUrl(req, config.publicUrl);
  const keepsUploads = async (req: IncomingMessage) => (await identifyCaller(req.headers.authorization, services.keys)).principal !== null;
  const app = express();
  app.disable('x-powered-by');
  app.use(observeRequests(metrics, observability.logger), securityHeaders(!config.production), corsPolicy(config.corsOrigins));
  const httpServer = createServer(app);
  const rules = subscriptionRules({ schema, services, limits, rateLimit, format: formatError, baseUrlOf, authorizationOf: authorizationFromParams, logError });
  const subscriptions = serveSubscriptions(httpServer, services, rules, observability);
  const apollo = new ApolloServer<RequestContext>({
    schema,
    csrfPrevention: true,
    // The CLI owns SIGINT/SIGTERM (runUntilSignal drains everything); Apollo's own handlers would stop it alone and re-raise the signal.
    stopOnTerminationSignals: false,
    // Introspection is refused in production by the rule both transports share, not by Apollo's own.
    introspection: true,
    validationRules: extraValidationRules(!config.production),
    parseOptions: PARSE_OPTIONS,
    // Nothing uses automatic persisted queries; off, a hash that does not match its query cannot reach INTERNAL.
    persistedQueries: false,
    includeStacktraceInErrorResponses: config.debug,
    formatError,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer, stopGracePeriodMillis: config.drainTimeoutMs }),
      graphqlOutcomePlugin(),
      operationGuardPlugin(limits),
      serverStatePlugin(),
      // Apollo's production landing page loads its scripts from Apollo's CDN; production serves none.
      ...(config.production ? [ApolloServerPluginLandingPageDisabled()] : []),
      {
        serverWillStart: async () => ({
          drainServer: async () => {
            rules.stop();
            await subscriptions.dispose();
          },
        }),
      },
    ],
  });
  await apollo.start();

  app.use(probeRoutes({ readiness, bundle: () => services.gallery.bundleId }));
  // With a metrics port of its own, /metrics is there only; here it needs an API key (Prometheus: authorization.credentials).
  if (config.metricsPort === undefined) {
    app.get('/metrics', metricsRoute(metrics, async (req) => {
      const caller = await identifyCaller(req.headers.authorization, services.keys);
      return caller.principal ? null : caller.problem;
    }));
  } else {
    // Not the viewer's page with a 200, which a scraper pointed here could only fail to parse.
    app.get('/metrics', (_req, res) => {
      res.status(404).json(errorBody('NOT_FOUND', 'metrics are served on the metrics port (FACE3D_METRICS_PORT), not on the API port'));
    });
  }
  app.use(['/graphql', '/photos', '/meshes'], rateLimiter(rateLimit, services.keys));
  app.use(downloadRoutes(services, logError));
  app.use(
    '/graphql',
    requirePreflightForMultipart,
    graphqlUploadExpress({ processRequest: receiveMultipart(config.maxUploadFiles, keepsUploads), maxFileSize: config.maxImageBytes, maxFiles: config.maxUploadFiles, maxFieldSize: MAX_BODY_BYTES }),
    express.json({ limit: MAX_BODY_BYTES }),
    refuseDeepDocuments,
    expressMiddleware(apollo, { context: async ({ req }) => createContext(services, req.headers.authorization, baseUrlOf(req)) }),
  );
  app.use(viewerRoutes());
  app.use(uploadErrorHandler(logError));

  try {
    return { url: urlOf(await listen(httpServer, config.port, config.host)), stop: () => apollo.stop() };
  } catch (error) {
    await apollo.stop();
    throw error;
  }
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { config } = options;
  const log = logTo(options);
  const cleanups = new Cleanups();
  return cleanups.opening(async () => {
    const opened: { gallery?: Gallery } = {};
    // First, so a probe of the metrics port sees the start-up's steps finish one by one.
    const observability = await openObservability({ component: 'server', config, steps: ['migrations', 'models', 'index', 'api'], sink: options.log, bundle: () => opened.gallery?.bundleId });
    cleanups.push(observability.close);
    const { database, encoders } = await openDatabaseAndEncoders(config, options.encoder, cleanups, observability.readiness);
    const { services, worker, recovery, feed, photoFiles, store } = await openService(config, database, encoders, observability.logError, cleanups, { onJobSettled: observability.jobSettled });
    const { gallery } = services;
    opened.gallery = gallery;
    observability.readiness.finish('index');
    observability.metrics.attach({ store, gallery, thresholds: () => thresholdsInForce(services.gallery) });
    cleanups.push(() => feed.stop());
    const http = await serveHttp(services, observability);
    observability.readiness.finish('api');
    cleanups.push(async () => {
      observability.drain();
      await Promise.all([http.stop(), observability.stopJobs(worker)]);
    });
    if (config.workers > 0) worker.start();
    feed.start();
    const files = describePhotoFiles(photoFiles);
    if (files.warning) log(`face3d: ${files.warning}`);
    log(
      `face3d: serving ${http.url}/graphql (gallery ${databaseName(config.databaseUrl)}; bundles ${gallery.bundleIds.join(', ')}, ${gallery.index.subjectCount} subjects with faces, ${gallery.index.faceCount} faces; ` +
        `jobs requeued ${recovery.requeued}, failed ${recovery.failed}, repaired ${recovery.enqueued}; ${files.summary})`,
    );
    log(await signInHint(config, services.keys, http.url));
    return { url: http.url, gallery, worker, recovery, photoFiles, operationsUrl: observability.operationsUrl, close: cleanups.run };
  });
}
