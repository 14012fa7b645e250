/**
 * One process's logger, metrics and readiness, with the job log line and the separate metrics
 * port: what `startServer` and `startWorker` open first, so a probe can watch the rest start.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ErrorLogger } from '../api/errors.js';
import type { Config } from '../core/config.js';
import { Face3dError } from '../core/errors.js';
import type { JobReport } from '../jobs/enrollment-worker.js';
import { operationsApp, type ProbeOptions } from './http.js';
import { createLogger, errorLoggerOf, type Logger } from './logging.js';
import { Face3dMetrics } from './metrics.js';
import { Readiness, stopWithin, type StartupStep } from './readiness.js';

/** Listens on `port` of `host`; a port in use is PORT_IN_USE, saying what to do. */
export async function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
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

export interface Observability {
  readonly logger: Logger;
  readonly logError: ErrorLogger;
  readonly metrics: Face3dMetrics;
  readonly readiness: Readiness;
  /** Where FACE3D_METRICS_PORT serves /metrics, /healthz and /readyz; undefined when unset. */
  readonly operationsUrl: string | undefined;
  /** The job's log line and metrics. */
  jobSettled(report: JobReport): void;
  /** Readiness false (first, before anything stops) and a line saying so. */
  drain(): void;
  /** Lets running jobs finish within FACE3D_DRAIN_MS; past it, says so and returns (their leases free them). */
  stopJobs(worker: { stop(): Promise<void> }): Promise<void>;
  close(): Promise<void>;
}

export interface ObservabilityOptions {
  readonly component: 'server' | 'worker';
  readonly config: Config;
  readonly steps: readonly StartupStep[];
  /** Log lines go here instead of stderr (tests). */
  readonly sink?: (line: string) => void;
  readonly bundle?: ProbeOptions['bundle'];
}

/** http://host:port, `localhost` for a wildcard address. */
export function urlOf(address: AddressInfo): string {
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host === '0.0.0.0' || host === '[::]' ? 'localhost' : host}:${address.port}`;
}

export async function openObservability(options: ObservabilityOptions): Promise<Observability> {
  const { config } = options;
  const logger = createLogger(options.component, { level: config.logLevel, production: config.production, sink: options.sink });
  const logError = errorLoggerOf(logger, config.production);
  const readiness = new Readiness(options.steps);
  const metrics = new Face3dMetrics(readiness, logError);
  let operations: Server | undefined;
  if (config.metricsPort !== undefined) {
    operations = createServer(operationsApp({ readiness, bundle: options.bundle }, metrics));
    try {
      await listen(operations, config.metricsPort, config.metricsHost);
    } catch (error) {
      metrics.close();
      throw error;
    }
  }
  const operationsUrl = operations ? urlOf(operations.address() as AddressInfo) : undefined;
  if (operationsUrl) logger.info({ url: operationsUrl }, 'metrics port listening: /metrics, /healthz, /readyz');
  return {
    logger,
    logError,
    metrics,
    readiness,
    operationsUrl,
    jobSettled: ({ job, outcome, code, seconds }) => {
      metrics.observeJob(outcome, code, seconds);
      const line = { jobId: job.id, photoId: job.photoId, requestId: job.requestId, attempt: job.attempts, outcome, code, ms: Math.round(seconds * 10_000) / 10 };
      if (outcome === 'ERROR') logger.error(line, 'job');
      else logger.info(line, 'job');
    },
    drain: () => {
      readiness.drain();
      logger.info({ ready: false, drainMs: config.drainTimeoutMs }, 'draining: not ready; letting in-flight requests and running jobs finish');
    },
    stopJobs: async (worker) => {
      if (!(await stopWithin(() => worker.stop(), config.drainTimeoutMs))) {
        logger.warn({ drainMs: config.drainTimeoutMs }, 'jobs still running at the drain bound were left: their leases free them for the next worker');
      }
    },
    close: async () => {
      metrics.close();
      if (!operations) return;
      const server = operations;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
