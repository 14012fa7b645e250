/**
 * `face3d worker`: runs enrollment jobs from the database's queue and serves nothing, so
 * inference scales on other machines (GPU ones where available) while API servers stay
 * stateless. API processes learn of its enrollments through the change feed.
 */
import type { EnrollmentWorker } from '../jobs/enrollment-worker.js';
import type { RecoveryReport } from '../store/job-repository.js';
import { Cleanups } from '../core/lifecycle.js';
import { openObservability } from '../observability/observability.js';
import { databaseName } from '../store/database-name.js';
import { describePhotoFiles, logTo, openDatabaseAndEncoders, openService, type ProcessOptions } from './open-service.js';

export interface RunningWorker {
  readonly worker: EnrollmentWorker;
  readonly recovery: RecoveryReport;
  /** FACE3D_METRICS_PORT's /metrics, /healthz and /readyz: how a worker reports; undefined when unset. */
  readonly operationsUrl: string | undefined;
  /** Drains: readiness false, running jobs finish (FACE3D_DRAIN_MS), then everything closes. */
  close(): Promise<void>;
}

export async function startWorker(options: ProcessOptions): Promise<RunningWorker> {
  const log = logTo(options);
  const workers = Math.max(1, options.config.workers);
  const cleanups = new Cleanups();
  return cleanups.opening(async () => {
    const observability = await openObservability({ component: 'worker', config: options.config, steps: ['migrations', 'models'], sink: options.log });
    cleanups.push(observability.close);
    const { database, encoders } = await openDatabaseAndEncoders(options.config, options.encoder, cleanups, observability.readiness);
    const service = await openService({ ...options.config, workers }, database, encoders, observability.logError, cleanups, { index: false, onJobSettled: observability.jobSettled });
    const { worker, recovery } = service;
    observability.metrics.attach({ store: service.store });
    cleanups.push(async () => {
      observability.drain();
      await observability.stopJobs(worker);
    });
    worker.start();
    const files = describePhotoFiles(service.photoFiles);
    if (files.warning) log(`face3d worker: ${files.warning}`);
    log(
      `face3d worker: running ${workers} job(s) at a time on gallery ${databaseName(options.config.databaseUrl)} (bundles ${encoders.map((encoder) => encoder.bundleId).join(', ')}; ` +
        `jobs requeued ${recovery.requeued}, failed ${recovery.failed}; ${files.summary})`,
    );
    return { worker, recovery, operationsUrl: observability.operationsUrl, close: cleanups.run };
  });
}
