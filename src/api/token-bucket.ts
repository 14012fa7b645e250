/**
 * Token buckets by name (an API key, a client address): each holds up to `capacity` tokens and
 * regains `capacity` of them per `periodMs`, so a client may burst a whole period's allowance at
 * once and then goes at the steady rate. Pure bookkeeping over an injectable clock.
 */

export interface TokenBucketOptions {
  /** Tokens a full bucket holds: the largest burst. */
  readonly capacity: number;
  /** Time to refill an empty bucket completely. */
  readonly periodMs: number;
  /** Milliseconds; Date.now by default. */
  readonly now?: () => number;
  /** Past this many buckets, full ones (the same as no bucket) are forgotten, so memory stays bounded by active clients. */
  readonly maxBuckets?: number;
}

export type TakeResult = { readonly allowed: true; readonly remaining: number } | { readonly allowed: false; readonly retryAfterMs: number };

interface Bucket {
  tokens: number;
  at: number;
}

const DEFAULT_MAX_BUCKETS = 10_000;

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private readonly perMs: number;
  private readonly now: () => number;
  private readonly maxBuckets: number;

  constructor(private readonly options: TokenBucketOptions) {
    if (!(options.capacity >= 1) || !(options.periodMs > 0)) throw new RangeError('a token bucket needs capacity >= 1 and periodMs > 0');
    this.perMs = options.capacity / options.periodMs;
    this.now = options.now ?? Date.now;
    this.maxBuckets = options.maxBuckets ?? DEFAULT_MAX_BUCKETS;
  }

  /** Takes one token from `name`'s bucket if it has one. */
  take(name: string): TakeResult {
    const now = this.now();
    const bucket = this.buckets.get(name) ?? { tokens: this.options.capacity, at: now };
    bucket.tokens = this.refilled(bucket, now);
    bucket.at = now;
    const allowed = bucket.tokens >= 1;
    if (allowed) bucket.tokens -= 1;
    this.buckets.set(name, bucket);
    // After taking, so the bucket just used is not mistaken for an idle full one.
    if (this.buckets.size > this.maxBuckets) this.forgetFull(now);
    if (allowed) return { allowed: true, remaining: Math.floor(bucket.tokens) };
    return { allowed: false, retryAfterMs: Math.ceil((1 - bucket.tokens) / this.perMs) };
  }

  get size(): number {
    return this.buckets.size;
  }

  private refilled(bucket: Bucket, now: number): number {
    // A clock that steps back refills nothing rather than draining.
    return Math.min(this.options.capacity, bucket.tokens + Math.max(0, now - bucket.at) * this.perMs);
  }

  private forgetFull(now: number): void {
    for (const [name, bucket] of this.buckets) {
      if (this.refilled(bucket, now) >= this.options.capacity) this.buckets.delete(name);
    }
  }
}
