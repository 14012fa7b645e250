/**
 * The face3d service: one HTTP server with GraphQL at /graphql (queries and mutations over HTTP,
 * file uploads as multipart requests, subscriptions over graphql-ws), the photo and mesh
 * downloads, and /healthz. Start-up opens the database (migrating it), opens one encoder per
 * served bundle (FACE3D_BUNDLES), loads each bundle's vectors into its index, repairs what a previous process left unfinished, then starts the enrollment worker.
 */
import { createServer, STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
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
import { checkedProcessRequest } from './api/uploads.js';
import { subscriptionRules, type SubscriptionRules } from './api/websocket.js';
import { ApiKeys } from './auth/api-keys.js';
import type { Config } from './core/config.js';
import { ThresholdPolicy } from './gallery/decision.js';
import { Gallery } from './gallery/gallery.js';
import { GalleryIndex } from './gallery/gallery-index.js';
import { GalleryStore } from './store/gallery-store.js';
import { applyToGallery, ChangeFeed } from './gallery/change-feed.js';
import { PgVectorTable } from './store/pgvector.js';
import { bundleDirOf, openBundleEncoder, readBundleManifest, type BundleEncoder } from './inference/bundle-encoder.js';
import { EnrollmentWorker } from './jobs/enrollment-worker.js';
import { JobRepository, type RecoveryReport } from './store/job-repository.js';
import { PhotoEvents } from './jobs/photo-events.js';
import { openPhotoFolder, SWEEP_GRACE_MS } from './store/photo-folder.js';
import { listIds } from './gallery/gallery-check.js';
import { openDatabase, type Database } from './store/database.js';
import { Face3dError } from './core/errors.js';
import { Cleanups } from './core/lifecycle.js';
import { identifyCaller } from './api/auth.js';
import type { JobReport } from './jobs/enrollment-worker.js';
import { graphqlOutcomePlugin, metricsRoute, observeRequests, probeRoutes } from './observability/http.js';
import type { ThresholdInForce } from './observability/metrics.js';
import { openObservability, urlOf, type Observability } from './observability/observability.js';
import type { Readiness } from './observability/readiness.js';
import { signInHint } from './auth/sign-in-hint.js';
import { databaseName } from './store/database-name.js';

export interface ServerOptions {
  readonly config: Config;
  /** An already open encoder (kept open on close), used for the served bundle of its id; the others are opened from config.bundles. */
  readonly encoder?: BundleEncoder;
  readonly log?: (line: string) => void;
}

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

function serveSubscriptions(server: Server, services: ApiServices, rules: SubscriptionRules) {
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
        if (!rules.admit(caller, ctx.extra)) return false;
        if (caller.principal) return true;
        // Closed here, with what to send: graphql-ws's own close for `false` says only "Forbidden".
        ctx.extra.socket.close(CloseCode.Forbidden, authorization === undefined ? NO_KEY_CLOSE_REASON : `Forbidden: ${caller.problem}`);
        return false;
      },
      ...rules.hooks,
    },
    wsServer,
  );
}

async function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  await new Promise<void>((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException): void => {
      reject(error.code === 'EADDRINUSE' ? new Face3dError('PORT_IN_USE', `port ${port} is in use on ${host}: stop the process that listens there, or start with another PORT`) : error);
    };
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      resolve();
    });
  });
  return server.address() as AddressInfo;
}

export interface Core {
  readonly services: ApiServices;
  readonly worker: EnrollmentWorker;
  readonly recovery: RecoveryReport;
  /** Not started: what other processes write reaches this one's indexes and subscribers once it is. */
  readonly feed: ChangeFeed;
  /** The gallery's photo folder, and its READY photos whose file is not there (start-up's check). */
  readonly photoFiles: PhotoFilesReport;
  readonly store: GalleryStore;
}

export interface PhotoFilesReport {
  readonly folder: string;
  readonly missing: readonly string[];
}

/** The start-up line's part on photo files, and a warning naming the missing ones (none when all are there). */
export function describePhotoFiles(report: PhotoFilesReport): { summary: string; warning: string | null } {
  const { missing } = report;
  const summary = `photos in ${report.folder}, ${missing.length} missing`;
  if (missing.length === 0) return { summary, warning: null };
  // The count is always given; `face3d check` lists every id.
  return {
    summary,
    warning: `${missing.length} READY photo(s) have no file in ${report.folder} (downloads answer PHOTO_MISSING; restore them from a backup, see face3d check): ${listIds(missing)}`,
  };
}

export interface CoreOptions {
  /** False for a process that only runs jobs (`face3d worker`): it searches nothing, so it loads no vectors. */
  readonly index?: boolean;
  readonly onJobSettled?: (report: JobReport) => void;
}

function servedBundle(encoder: BundleEncoder, targetFpir: number) {
  const { manifest } = encoder.bundle;
  return {
    index: new GalleryIndex(manifest.id, manifest.shape.components + manifest.texture.components),
    analyser: encoder,
    bundle: encoder.bundle,
    decision: new ThresholdPolicy(manifest.calibration, targetFpir),
  };
}

/** The threshold each served bundle applies now to an identify that names none (subject templates), for /metrics. */
function thresholdsInForce(gallery: Gallery): ThresholdInForce[] {
  return gallery.bundleIds.map((bundle) => ({ bundle, ...gallery.served(bundle).decision.forGallery(gallery.templatesSearched('TEMPLATE', bundle)) }));
}

/** The gallery and its worker over an open database: indexes loaded, leftovers repaired, worker not started. */
export async function openCore(config: Config, database: Database, encoders: readonly BundleEncoder[], logError: ErrorLogger, options: CoreOptions = {}): Promise<Core> {
  const withIndex = options.index ?? true;
  const [defaultEncoder, ...otherEncoders] = encoders;
  const vectors = database.vectorExtension ? new PgVectorTable(database.prisma) : undefined;
  const store = new GalleryStore(database.prisma, { provider: database.provider, vectors });
  const jobs = new JobRepository(store);
  const events = new PhotoEvents();
  const keys = new ApiKeys(store);
  const folder = await openPhotoFolder(database.prisma, config);
  const { blobs } = folder;
  const decodeLimits = { maxBytes: config.maxImageBytes, maxPixels: config.maxImagePixels };
  const gallery = new Gallery({
    ...servedBundle(defaultEncoder, config.targetFpir),
    otherBundles: otherEncoders.map((encoder) => servedBundle(encoder, config.targetFpir)),
    store,
    blobs,
    decodeLimits,
    onQueued: () => worker.wake(),
  });
  const worker = new EnrollmentWorker({
    jobs,
    photos: gallery.photos,
    blobs,
    analyser: defaultEncoder,
    otherAnalysers: otherEncoders,
    decodeLimits,
    concurrency: config.workers,
    leaseMs: config.jobLeaseMs,
    onPhotoChanged: (photo) => events.publish(photo),
    onFaceEnrolled: (photo, face, encoded) => {
      if (withIndex) for (const vector of [encoded, ...(encoded.otherVectors ?? [])]) gallery.indexFace(face.id, photo.subjectId, vector, encoded.quality?.score);
    },
    onError: logError,
    onJobSettled: options.onJobSettled,
  });
  await vectors?.ensure(encoders.map(({ bundle: { manifest } }) => ({ id: manifest.id, dimension: manifest.shape.components + manifest.texture.components })));
  const feed = await ChangeFeed.fromNow(store, {
    intervalMs: config.syncIntervalMs,
    apply: withIndex ? applyToGallery(gallery, (photo) => events.publish(photo)) : async () => undefined,
    onError: logError,
  });
  if (withIndex) await gallery.loadIndex();
  // An embedded database belongs to this host's processes; a server's queue may have live workers elsewhere.
  const recovery = await jobs.recover({ exclusive: database.kind !== 'postgres' });
  await gallery.sweepBlobs(folder.claimedAt, new Date(Date.now() - SWEEP_GRACE_MS));
  const photoFiles = { folder: blobs.root, missing: await gallery.photosWithoutFile(['READY']) };
  if (config.adminKey) await keys.ensureBootstrapKey(config.adminKey);
  return { services: { gallery, keys, events, config }, worker, recovery, feed, photoFiles, store };
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
  const app = express();
  app.disable('x-powered-by');
  app.use(observeRequests(metrics, observability.logger), securityHeaders(!config.production), corsPolicy(config.corsOrigins));
  const httpServer = createServer(app);
  const rules = subscriptionRules({ schema, services, limits, rateLimit, format: formatError, baseUrlOf, authorizationOf: authorizationFromParams, logError });
  const subscriptions = serveSubscriptions(httpServer, services, rules);
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
  }
  app.use(['/graphql', '/photos', '/meshes'], rateLimiter(rateLimit, services.keys));
  app.use(downloadRoutes(services, logError));
  app.use(
    '/graphql',
    requirePreflightForMultipart,
    graphqlUploadExpress({ processRequest: checkedProcessRequest(config.maxUploadFiles), maxFileSize: config.maxImageBytes, maxFiles: config.maxUploadFiles, maxFieldSize: MAX_BODY_BYTES }),
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

/** One encoder per configured bundle, in order; `given` stands in for the bundle of its id. */
export async function openEncoders(config: Config, given: BundleEncoder | undefined, cleanups: Cleanups): Promise<BundleEncoder[]> {
  const encoders: BundleEncoder[] = [];
  for (const entry of config.bundles) {
    const dir = bundleDirOf(entry, config.modelsDir);
    if (given && (entry === given.bundleId || (await readBundleManifest(dir)).id === given.bundleId)) {
      encoders.push(given);
      continue;
    }
    const encoder = await openBundleEncoder(dir);
    cleanups.push(() => encoder.close());
    encoders.push(encoder);
  }
  const ids = encoders.map((encoder) => encoder.bundleId);
  if (new Set(ids).size !== ids.length) throw new Face3dError('MODEL_UNAVAILABLE', `FACE3D_BUNDLES names bundle ids twice: ${ids.join(', ')}`);
  return encoders;
}

/** The database (migrated) and one encoder per served bundle, closed by `cleanups`. */
async function openDatabaseAndEncoders(options: ServerOptions, cleanups: Cleanups, readiness: Readiness): Promise<{ database: Database; encoders: BundleEncoder[] }> {
  const database = await openDatabase(options.config.databaseUrl, { busyTimeoutMs: options.config.busyTimeoutMs });
  cleanups.push(() => database.close());
  readiness.finish('migrations');
  readiness.watchDatabase(() => database.prisma.$queryRawUnsafe('SELECT 1'));
  const encoders = await openEncoders(options.config, options.encoder, cleanups);
  readiness.finish('models');
  return { database, encoders };
}

function logTo(options: ServerOptions): (line: string) => void {
  return options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { config } = options;
  const log = logTo(options);
  const cleanups = new Cleanups();
  return cleanups.opening(async () => {
    const opened: { gallery?: Gallery } = {};
    // First, so a probe of the metrics port sees the start-up's steps finish one by one.
    const observability = await openObservability({ component: 'server', config, steps: ['migrations', 'models', 'index', 'api'], sink: options.log, listen, bundle: () => opened.gallery?.bundleId });
    cleanups.push(observability.close);
    const { database, encoders } = await openDatabaseAndEncoders(options, cleanups, observability.readiness);
    const { services, worker, recovery, feed, photoFiles, store } = await openCore(config, database, encoders, observability.logError, { onJobSettled: observability.jobSettled });
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

export interface RunningWorker {
  readonly worker: EnrollmentWorker;
  readonly recovery: RecoveryReport;
  /** FACE3D_METRICS_PORT's /metrics, /healthz and /readyz: how a worker reports; undefined when unset. */
  readonly operationsUrl: string | undefined;
  /** Drains: readiness false, running jobs finish (FACE3D_DRAIN_MS), then everything closes. */
  close(): Promise<void>;
}

/**
 * `face3d worker`: runs enrollment jobs from the database's queue and serves nothing, so
 * inference scales on other machines (GPU ones where available) while API servers stay
 * stateless. API processes learn of its enrollments through the change feed.
 */
export async function startWorker(options: ServerOptions): Promise<RunningWorker> {
  const log = logTo(options);
  const workers = Math.max(1, options.config.workers);
  const cleanups = new Cleanups();
  return cleanups.opening(async () => {
    const observability = await openObservability({ component: 'worker', config: options.config, steps: ['migrations', 'models'], sink: options.log, listen });
    cleanups.push(observability.close);
    const { database, encoders } = await openDatabaseAndEncoders(options, cleanups, observability.readiness);
    const core = await openCore({ ...options.config, workers }, database, encoders, observability.logError, { index: false, onJobSettled: observability.jobSettled });
    const { worker, recovery } = core;
    observability.metrics.attach({ store: core.store });
    cleanups.push(async () => {
      observability.drain();
      await observability.stopJobs(worker);
    });
    worker.start();
    const files = describePhotoFiles(core.photoFiles);
    if (files.warning) log(`face3d worker: ${files.warning}`);
    log(
      `face3d worker: running ${workers} job(s) at a time on gallery ${databaseName(options.config.databaseUrl)} (bundles ${encoders.map((encoder) => encoder.bundleId).join(', ')}; ` +
        `jobs requeued ${recovery.requeued}, failed ${recovery.failed}; ${files.summary})`,
    );
    return { worker, recovery, operationsUrl: observability.operationsUrl, close: cleanups.run };
  });
}
