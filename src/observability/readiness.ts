/**
 * Liveness and readiness. A process is live while it answers at all; it is ready once every
 * start-up step it declared has finished (migrations applied, models loaded, index warmed, API
 * listening) and
 * its database answers, and stops being ready the moment it starts draining, before anything
 * else stops, so a load balancer or orchestrator sends it nothing new.
 */
/** `api`: the API port listens (a server's last step, so ready never comes before it). */
export type StartupStep = 'migrations' | 'models' | 'index' | 'api';

export interface ReadinessReport {
  readonly ready: boolean;
  readonly draining: boolean;
  /** Each start-up step, and `database`: whether it answered a query just now. */
  readonly checks: Readonly<Record<string, boolean>>;
}

/** Longer than a healthy database takes to answer `SELECT 1`, short enough for a probe's own timeout. */
const DATABASE_PING_TIMEOUT_MS = 2000;

export class Readiness {
  private readonly finished = new Set<StartupStep>();
  private ping: (() => Promise<unknown>) | undefined;
  private drainingSince: Date | undefined;

  constructor(private readonly steps: readonly StartupStep[]) {}

  finish(step: StartupStep): void {
    this.finished.add(step);
  }

  /** From now on each report asks the database. */
  watchDatabase(ping: () => Promise<unknown>): void {
    this.ping = ping;
  }

  drain(): void {
    this.drainingSince ??= new Date();
  }

  get draining(): boolean {
    return this.drainingSince !== undefined;
  }

  /** Every declared step done and the database known (report() also asks it, and says whether draining). */
  get started(): boolean {
    return this.steps.every((step) => this.finished.has(step)) && this.ping !== undefined;
  }

  async report(): Promise<ReadinessReport> {
    const checks: Record<string, boolean> = Object.fromEntries(this.steps.map((step) => [step, this.finished.has(step)]));
    checks.database = await this.databaseAnswers();
    const ready = !this.draining && Object.values(checks).every(Boolean);
    return { ready, draining: this.draining, checks };
  }

  private async databaseAnswers(): Promise<boolean> {
    return this.ping ? within(this.ping().then(() => true, () => false), DATABASE_PING_TIMEOUT_MS, false) : false;
  }
}

/** `work`'s result, or `fallback` once `ms` have passed without one. */
async function within<T>(work: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((resolve) => (timer = setTimeout(() => resolve(fallback), ms)));
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `stop`, giving up waiting after `boundMs`: true when it finished in time. */
export function stopWithin(stop: () => Promise<void>, boundMs: number): Promise<boolean> {
  return within(stop().then(() => true), boundMs, false);
}
