/**
 * Progress of a long CLI phase on stderr: a live bar with rate and ETA on a terminal, or one line
 * every few seconds when stderr is a file or a pipe (CI logs, `2> log`), where a redrawn bar would
 * only leave control characters behind. stdout stays free for results.
 */
import cliProgress from 'cli-progress';

export interface Progress {
  /** Starts a phase of `total` steps, `initial` of them done before it (left out of the rate); `label` says what is counted. */
  start(label: string, total: number, initial?: number): void;
  /** `done` steps so far; `detail` is shown after the figures (counts by outcome). */
  update(done: number, detail: string): void;
  /** Ends the phase, leaving its final figures on screen. */
  stop(): void;
}

export interface Pace {
  /** Steps per second so far; 0 before the first step. */
  readonly rate: number;
  /** Seconds left at that rate; null while unknown. */
  readonly etaSeconds: number | null;
}

/** `initial`: steps done before the clock started. */
export function paceOf(done: number, total: number, elapsedMs: number, initial = 0): Pace {
  const rate = elapsedMs > 0 ? ((done - initial) * 1000) / elapsedMs : 0;
  if (done >= total) return { rate, etaSeconds: 0 };
  return { rate, etaSeconds: rate > 0 ? (total - done) / rate : null };
}

export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export function progressLine(label: string, done: number, total: number, elapsedMs: number, detail: string, initial = 0): string {
  const { rate, etaSeconds } = paceOf(done, total, elapsedMs, initial);
  const percent = total > 0 ? Math.floor((done * 100) / total) : 100;
  return `${label} ${done}/${total} (${percent}%), ${rate.toFixed(1)}/s, ETA ${formatDuration(etaSeconds)}${detail ? `, ${detail}` : ''}`;
}

class BarProgress implements Progress {
  private bar: cliProgress.SingleBar | undefined;
  private startedAt = 0;
  private total = 0;
  private initial = 0;

  constructor(private readonly stream: NodeJS.WriteStream) {}

  start(label: string, total: number, initial = 0): void {
    this.startedAt = Date.now();
    this.total = total;
    this.initial = initial;
    this.bar = new cliProgress.SingleBar(
      { stream: this.stream, format: `${label} [{bar}] {value}/{total} {percentage}% | {rate}/s | ETA {pace_eta} | {detail}`, hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(total, initial, { rate: '0.0', pace_eta: '?', detail: '' });
  }

  update(done: number, detail: string): void {
    const { rate, etaSeconds } = paceOf(done, this.total, Date.now() - this.startedAt, this.initial);
    this.bar?.update(done, { rate: rate.toFixed(1), pace_eta: formatDuration(etaSeconds), detail });
  }

  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}

class LineProgress implements Progress {
  private label = '';
  private total = 0;
  private initial = 0;
  private startedAt = 0;
  private lastPrinted = 0;
  private last = { done: 0, detail: '' };

  constructor(
    private readonly stream: NodeJS.WritableStream,
    private readonly intervalMs: number,
  ) {}

  start(label: string, total: number, initial = 0): void {
    this.label = label;
    this.total = total;
    this.initial = initial;
    this.startedAt = this.lastPrinted = Date.now();
    this.last = { done: initial, detail: '' };
  }

  update(done: number, detail: string): void {
    this.last = { done, detail };
    if (Date.now() - this.lastPrinted >= this.intervalMs) this.print();
  }

  stop(): void {
    this.print();
  }

  private print(): void {
    this.lastPrinted = Date.now();
    this.stream.write(`face3d: ${progressLine(this.label, this.last.done, this.total, this.lastPrinted - this.startedAt, this.last.detail, this.initial)}\n`);
  }
}

class SilentProgress implements Progress {
  start(): void {}
  update(): void {}
  stop(): void {}
}

export const LINE_INTERVAL_MS = 5_000;

/** A bar when `stream` is a terminal, periodic lines otherwise; nothing when `quiet`. */
export function progressReporter(options: { quiet?: boolean; stream?: NodeJS.WriteStream; intervalMs?: number } = {}): Progress {
  const stream = options.stream ?? process.stderr;
  if (options.quiet) return new SilentProgress();
  return stream.isTTY ? new BarProgress(stream) : new LineProgress(stream, options.intervalMs ?? LINE_INTERVAL_MS);
}
