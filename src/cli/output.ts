import { isFace3dError } from '../core/errors.js';

/** Rounds for printing: sub-pixel noise past 2 decimals only makes output harder to read. */
export function round(value: number, decimals = 2): number {
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
}

export function errorRecord(error: unknown): { code: string; message: string } {
  if (isFace3dError(error)) return { code: error.code, message: error.message };
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as NodeJS.ErrnoException)?.code === 'ENOENT' ? 'NOT_FOUND' : 'INTERNAL';
  return { code, message };
}

export function printJsonLine(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}
