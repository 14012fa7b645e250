/**
 * The k best (row, score) pairs of a scan, kept in a binary min-heap whose root is the worst one
 * kept: a scan compares each row with the root only, so it costs O(n) plus O(log k) per row that
 * enters. "Better" means a higher score, or an equal score and a smaller id, so that results never
 * depend on the order rows happen to be stored in.
 */
export interface RankedRow {
  readonly row: number;
  readonly score: number;
}

export class TopK {
  /** Scores below this cannot enter: the worst kept score once full, −∞ before. The scan's cheap pre-test. */
  floor = Number.NEGATIVE_INFINITY;
  private readonly rows: Int32Array;
  private readonly scores: Float64Array;
  private count = 0;

  constructor(
    readonly k: number,
    private readonly idOf: (row: number) => string,
  ) {
    this.rows = new Int32Array(k);
    this.scores = new Float64Array(k);
  }

  /** Forgets every row offered so far. */
  clear(): void {
    this.count = 0;
    this.floor = Number.NEGATIVE_INFINITY;
  }

  offer(row: number, score: number): void {
    if (this.count < this.k) {
      this.rows[this.count] = row;
      this.scores[this.count] = score;
      this.siftUp(this.count++);
    } else if (this.k > 0 && this.isBetter(score, row, this.scores[0], this.rows[0])) {
      this.rows[0] = row;
      this.scores[0] = score;
      this.siftDown(0);
    } else {
      return;
    }
    if (this.count === this.k) this.floor = this.scores[0];
  }

  /** The kept rows, best first. */
  ranked(): RankedRow[] {
    const kept = Array.from(this.rows.subarray(0, this.count), (row, i) => ({ row, score: this.scores[i] }));
    return kept.sort((a, b) => (this.isBetter(a.score, a.row, b.score, b.row) ? -1 : 1));
  }

  private isBetter(score: number, row: number, otherScore: number, otherRow: number): boolean {
    return score > otherScore || (score === otherScore && this.idOf(row) < this.idOf(otherRow));
  }

  /** Heap order: a parent is worse than its children, so the root is the worst kept. */
  private siftUp(slot: number): void {
    while (slot > 0) {
      const parent = (slot - 1) >> 1;
      if (!this.isBetter(this.scores[parent], this.rows[parent], this.scores[slot], this.rows[slot])) return;
      this.swap(slot, parent);
      slot = parent;
    }
  }

  private siftDown(slot: number): void {
    for (;;) {
      const left = 2 * slot + 1;
      if (left >= this.count) return;
      const right = left + 1;
      const worse = right < this.count && this.isBetter(this.scores[left], this.rows[left], this.scores[right], this.rows[right]) ? right : left;
      if (!this.isBetter(this.scores[slot], this.rows[slot], this.scores[worse], this.rows[worse])) return;
      this.swap(slot, worse);
      slot = worse;
    }
  }

  private swap(a: number, b: number): void {
    const row = this.rows[a];
    this.rows[a] = this.rows[b];
    this.rows[b] = row;
    const score = this.scores[a];
    this.scores[a] = this.scores[b];
    this.scores[b] = score;
  }
}
