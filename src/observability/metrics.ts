/**
 * The Prometheus metrics of one process (prom-client, a registry of its own so several servers
 * in one test process stay apart). Counters and histograms move as requests, jobs, inference
 * stages and searches happen; the gallery's sizes, the job queue and the threshold in force are
 * read when scraped. Labels are small fixed sets (operations, codes, stages, bundles), never ids.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Gallery } from '../gallery/gallery.js';
import type { GalleryStore } from '../store/gallery-store.js';
import type { JobOutcome } from '../jobs/enrollment-worker.js';
import { JOB_STATUSES, PHOTO_STATUSES } from '../store/enums.js';
import { batchChannel, searchChannel, stageChannel, type BatchRun, type SearchTiming, type StageTiming } from '../core/events.js';
import type { Readiness } from './readiness.js';

/** The threshold a served bundle applies when a request names none, as the gallery reports it now. */
export interface ThresholdInForce {
  readonly bundle: string;
  readonly value: number;
  readonly source: string;
  /** Per comparison, as calibrated; null when uncalibrated. */
  readonly falseAcceptRate: number | null;
  /** The share of strangers this threshold names against the gallery searched now; null or absent without an impostor curve. */
  readonly fpir?: number | null;
}

/** What a scrape reads the gallery's figures from; `gallery` and `thresholds` only where this process serves searches. */
export interface GallerySource {
  readonly store: GalleryStore;
  readonly gallery?: Gallery;
  readonly thresholds?: () => readonly ThresholdInForce[];
}

const REQUEST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const STAGE_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const SEARCH_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
const JOB_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128];

export class Face3dMetrics {
  readonly registry = new Registry();
  private source: GallerySource | undefined;

  private readonly requests = this.counter('face3d_requests_total', 'HTTP requests answered, by operation (GraphQL root field, or route) and outcome (OK or the typed error code).', ['operation', 'outcome']);
  private readonly requestSeconds = this.histogram('face3d_request_duration_seconds', 'Time from a request arriving to its response being sent, by operation and outcome.', ['operation', 'outcome'], REQUEST_BUCKETS);
  readonly requestsInFlight = this.gauge('face3d_requests_in_flight', 'HTTP requests received and not answered yet.', []);
  private readonly subscriptions = this.counter('face3d_subscriptions_total', 'GraphQL operations sent over WebSocket (graphql-ws), counted when they end, by operation (root field; graphql when refused before it is known) and outcome (OK or the typed code of their first error).', ['operation', 'outcome']);
  readonly subscriptionsActive = this.gauge('face3d_subscriptions_active', 'GraphQL subscriptions over WebSocket running now.', []);
  private readonly websocketConnections = this.counter('face3d_websocket_connections_total', 'WebSocket (graphql-ws) connections asked for, by outcome (OK, UNAUTHENTICATED: no valid key, RATE_LIMITED).', ['outcome']);
  private readonly stageSeconds = this.histogram('face3d_inference_stage_duration_seconds', 'Time of one inference stage for one image or face (decode, detect, landmarks, features, regress); all inference in this process.', ['stage'], STAGE_BUCKETS);
  private readonly batchSizes = this.histogram('face3d_inference_batch_size', 'Items per network run, as the micro-batcher grouped them (FACE3D_BATCH_MAX caps it).', ['network'], BATCH_BUCKETS);
  private readonly searchSeconds = this.histogram('face3d_search_duration_seconds', 'Time of one vector search of identify, by bundle.', ['bundle'], SEARCH_BUCKETS);
  private readonly jobsProcessed = this.counter('face3d_jobs_processed_total', 'Enrollment jobs this process ran, by outcome (DONE, RETRY: queued again, FAILED, GONE: photo deleted meanwhile, ERROR: not settled) and code.', ['outcome', 'code']);
  private readonly jobSeconds = this.histogram('face3d_job_duration_seconds', 'Time an enrollment job ran in this process, from claim to settlement, by outcome.', ['outcome'], JOB_BUCKETS);
  private readonly jobs = this.gauge('face3d_jobs', 'Enrollment jobs in the database by status; status="QUEUED" is the queue depth.', ['status']);
  private readonly oldestQueued = this.gauge('face3d_job_queue_oldest_age_seconds', 'Age of the oldest QUEUED enrollment job (0 when the queue is empty).', []);
  private readonly photos = this.gauge('face3d_gallery_photos', 'Photos in the gallery by status.', ['status']);
  private readonly subjects = this.gauge('face3d_gallery_subjects', 'Subjects in the gallery, with or without an enrolled face.', []);
  private readonly faces = this.gauge('face3d_gallery_faces', 'Enrolled faces with a vector under each bundle (database).', ['bundle']);
  private readonly facesWithoutVector = this.gauge(
    'face3d_faces_without_vector',
    'Enrolled faces with no vector under each bundle yet (database): photos enrolled before the bundle was served, waiting for a worker to encode them; identify under it does not see them.',
    ['bundle'],
  );
  private readonly indexFaces = this.gauge('face3d_index_faces', "Face vectors in this process's search index, by bundle (should equal face3d_gallery_faces).", ['bundle']);
  private readonly indexSubjects = this.gauge('face3d_index_subjects', "Subject templates (subjects with at least one face) in this process's search index, by bundle.", ['bundle']);
  private readonly threshold = this.gauge('face3d_open_set_threshold', 'Cosine-similarity threshold identify and verify use when a request names none, by bundle and its source (thresholdSource as identify reports it).', ['bundle', 'source']);
  private readonly falseAcceptRate = this.gauge('face3d_open_set_false_accept_rate', 'Per-comparison false-accept rate the calibration gives at the default threshold, by bundle; absent when uncalibrated.', ['bundle']);
  private readonly fpir = this.gauge('face3d_open_set_fpir', 'Estimated share of strangers the default threshold gives a name, against the subject templates searched now (FACE3D_TARGET_FPIR is the target), by bundle; absent without an impostor curve.', ['bundle']);
  private readonly databaseUp = this.gauge('face3d_database_up', "1 when this scrape's queries of the gallery's figures succeeded, else 0 (those gauges then keep their last values).", []);
  private readonly ready = this.gauge('face3d_ready', '1 when started and not draining (see /readyz for the checks).', []);

  private gauge<L extends string>(name: string, help: string, labelNames: readonly L[]): Gauge<L> {
    return new Gauge({ name, help, labelNames, registers: [this.registry] });
  }

  private counter<L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  private histogram<L extends string>(name: string, help: string, labelNames: readonly L[], buckets: number[]): Histogram<L> {
    return new Histogram({ name, help, labelNames, buckets, registers: [this.registry] });
  }

  private readonly onStage = (message: unknown): void => {
    const { stage, seconds } = message as StageTiming;
    this.stageSeconds.observe({ stage }, seconds);
  };
  private readonly onBatch = (message: unknown): void => {
    const { network, size } = message as BatchRun;
    this.batchSizes.observe({ network }, size);
  };
  private readonly onSearch = (message: unknown): void => {
    const { bundle, seconds } = message as SearchTiming;
    this.searchSeconds.observe({ bundle }, seconds);
  };

  constructor(
    private readonly readiness: Readiness,
    private readonly onScrapeError: (error: unknown) => void,
  ) {
    collectDefaultMetrics({ register: this.registry });
    // Gauges named like counters, which promtool rejects; nodejs_active_{handles,requests,resources} say the same by type.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) this.registry.removeSingleMetric(name);
    subscribe(stageChannel.name, this.onStage);
    subscribe(batchChannel.name, this.onBatch);
    subscribe(searchChannel.name, this.onSearch);
  }

  /** From now on scrapes report the gallery's figures. */
  attach(source: GallerySource): void {
    this.source = source;
  }

  observeRequest(operation: string, outcome: string, seconds: number): void {
    this.requests.inc({ operation, outcome });
    this.requestSeconds.observe({ operation, outcome }, seconds);
  }

  observeSubscription(operation: string, outcome: string): void {
    this.subscriptions.inc({ operation, outcome });
  }

  observeConnection(outcome: string): void {
    this.websocketConnections.inc({ outcome });
  }

  observeJob(outcome: JobOutcome, code: string, seconds: number): void {
    this.jobsProcessed.inc({ outcome, code });
    this.jobSeconds.observe({ outcome }, seconds);
  }

  /** The text exposition format, the gallery's figures read just now. */
  async exposition(): Promise<string> {
    this.ready.set(this.readiness.started && !this.readiness.draining ? 1 : 0);
    if (this.source) {
      try {
        await this.readGallery(this.source);
        this.databaseUp.set(1);
      } catch (error) {
        this.databaseUp.set(0);
        this.onScrapeError(error);
      }
    }
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  close(): void {
    unsubscribe(stageChannel.name, this.onStage);
    unsubscribe(batchChannel.name, this.onBatch);
    unsubscribe(searchChannel.name, this.onSearch);
  }

  private async readGallery({ store, gallery, thresholds }: GallerySource): Promise<void> {
    const db = store.read;
    const [jobs, oldest, photos, subjects, faces, enrolledFaces] = await Promise.all([
      db.job.groupBy({ by: ['status'], _count: { _all: true } }),
      db.job.findFirst({ where: { status: 'QUEUED' }, orderBy: { createdAt: 'asc' }, select: { createdAt: true } }),
      db.photo.groupBy({ by: ['status'], _count: { _all: true } }),
      db.subject.count(),
      db.faceVector.groupBy({ by: ['bundleId'], _count: { _all: true } }),
      db.face.count(),
    ]);
    setByLabel(this.jobs, 'status', JOB_STATUSES, jobs.map((row) => [row.status, row._count._all]));
    this.oldestQueued.set(oldest ? Math.max(0, (Date.now() - oldest.createdAt.getTime()) / 1000) : 0);
    setByLabel(this.photos, 'status', PHOTO_STATUSES, photos.map((row) => [row.status, row._count._all]));
    this.subjects.set(subjects);
    setByLabel(this.faces, 'bundle', gallery?.bundleIds ?? [], faces.map((row) => [row.bundleId, row._count._all]));
    // Served bundles (a worker, which knows none, reports those with vectors): every face lacks one under a bundle that has none.
    const vectorsOf = new Map(faces.map((row) => [row.bundleId, row._count._all]));
    const bundles = gallery?.bundleIds ?? [...vectorsOf.keys()];
    setByLabel(this.facesWithoutVector, 'bundle', [], bundles.map((bundle) => [bundle, enrolledFaces - (vectorsOf.get(bundle) ?? 0)]));
    if (!gallery) return;
    for (const bundle of gallery.bundleIds) {
      const { index } = gallery.served(bundle);
      this.indexFaces.set({ bundle }, index.faceCount);
      this.indexSubjects.set({ bundle }, index.subjectCount);
    }
    this.threshold.reset();
    for (const { bundle, value, source, falseAcceptRate, fpir } of thresholds?.() ?? []) {
      this.threshold.set({ bundle, source }, value);
      if (falseAcceptRate !== null) this.falseAcceptRate.set({ bundle }, falseAcceptRate);
      if (fpir !== undefined && fpir !== null) this.fpir.set({ bundle }, fpir);
    }
  }
}

/** Every expected label value gets a sample (0 when absent), and so does any unexpected one found. */
function setByLabel<L extends string>(gauge: Gauge<L>, label: L, expected: readonly string[], counts: readonly [string, number][]): void {
  const values = new Map<string, number>(expected.map((value) => [value, 0]));
  for (const [value, count] of counts) values.set(value, count);
  gauge.reset();
  for (const [value, count] of values) gauge.set({ [label]: value } as Partial<Record<L, string>>, count);
}
