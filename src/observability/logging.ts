/**
 * Structured logs: one JSON object per line (pino), to stderr or to the `log` sink a caller gives
 * (tests capture lines that way). Lines carry ids, codes, sizes and durations only: never image
 * bytes, API keys or request bodies, and stack traces only outside production.
 */
import { pino, type Logger } from 'pino';
import type { LogLevel } from '../core/config.js';
import { isFace3dError } from '../core/errors.js';
import type { ErrorLogger } from '../api/errors.js';

export type { Logger };

export interface LoggerOptions {
  readonly level: LogLevel;
  readonly production: boolean;
  /** Receives each line without its newline; default: stderr. */
  readonly sink?: (line: string) => void;
}

/** `component` names the process kind on every line: `server` or `worker`. */
export function createLogger(component: string, options: LoggerOptions): Logger {
  const { sink } = options;
  const stream = sink ? { write: (chunk: string) => sink(chunk.replace(/\n$/, '')) } : pino.destination({ dest: 2, sync: true });
  return pino(
    {
      level: options.level,
      base: { component },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    stream,
  );
}

/** What a line says about an error: its typed code (INTERNAL for anything untyped), message, and stack outside production. */
export function errorFields(error: unknown, production: boolean): { code: string; error: string; stack?: string } {
  const code = isFace3dError(error) ? error.code : 'INTERNAL';
  const message = error instanceof Error ? error.message : String(error);
  const stack = !production && error instanceof Error ? error.stack : undefined;
  return stack === undefined ? { code, error: message } : { code, error: message, stack };
}

/** The ErrorLogger the API and the worker report unexpected errors through, as `error` lines. */
export function errorLoggerOf(logger: Logger, production: boolean): ErrorLogger {
  return (error) => logger.error(errorFields(error, production), 'unexpected error');
}
