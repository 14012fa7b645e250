/**
 * Which change-feed ids a reader has applied. Ids come from a sequence, but on PostgreSQL a
 * transaction that took id 5 may commit after one that took id 6, so reading `id > last seen`
 * alone could skip 5 for ever. The watermark only passes an id once it was applied, or once it
 * has been missing for longer than any transaction may take (a rolled-back transaction leaves a
 * permanent hole), and readers ask for everything above the watermark.
 */
export class ChangeWatermark {
  private mark: number;
  private readonly appliedAbove = new Set<number>();
  /** Missing ids below the highest applied one, with when they were first noticed missing. */
  private readonly missingSince = new Map<number, number>();

  constructor(
    start: number,
    private readonly holeTimeoutMs: number,
  ) {
    this.mark = start;
  }

  /** Every id up to this one is applied or given up on: read from `id > watermark`. */
  get watermark(): number {
    return this.mark;
  }

  /** False for ids applied before (they come back while a hole below them stays open). */
  isNew(id: number): boolean {
    return id > this.mark && !this.appliedAbove.has(id);
  }

  /** Records the ids just applied and moves the watermark up as far as it may go. */
  applied(ids: readonly number[], now: number): void {
    for (const id of ids) if (id > this.mark) this.appliedAbove.add(id);
    const highest = Math.max(this.mark, ...this.appliedAbove);
    for (let id = this.mark + 1; id < highest; id++) {
      if (!this.appliedAbove.has(id) && !this.missingSince.has(id)) this.missingSince.set(id, now);
    }
    while (this.mark < highest) {
      const next = this.mark + 1;
      const missingFrom = this.missingSince.get(next);
      if (!this.appliedAbove.has(next) && (missingFrom === undefined || now - missingFrom < this.holeTimeoutMs)) break;
      this.appliedAbove.delete(next);
      this.missingSince.delete(next);
      this.mark = next;
    }
  }
}
