import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { TokenBuckets } from '../../../src/api/token-bucket.js';

function clock(start = 0): { now: () => number; advance: (ms: number) => void } {
  let time = start;
  return { now: () => time, advance: (ms) => (time += ms) };
}

describe('TokenBuckets', () => {
  it('allows a full burst, then refuses with the wait until the next token', () => {
    const time = clock();
    const buckets = new TokenBuckets({ capacity: 3, periodMs: 60_000, now: time.now });
    expect([1, 2, 3].map(() => buckets.take('a'))).toEqual([
      { allowed: true, remaining: 2 },
      { allowed: true, remaining: 1 },
      { allowed: true, remaining: 0 },
    ]);
    expect(buckets.take('a')).toEqual({ allowed: false, retryAfterMs: 20_000 });
    time.advance(5_000);
    expect(buckets.take('a')).toEqual({ allowed: false, retryAfterMs: 15_000 });
    time.advance(15_000);
    expect(buckets.take('a')).toEqual({ allowed: true, remaining: 0 });
  });

  it('keeps one bucket per name', () => {
    const buckets = new TokenBuckets({ capacity: 1, periodMs: 1_000, now: clock().now });
    expect(buckets.take('key:1').allowed).toBe(true);
    expect(buckets.take('key:1').allowed).toBe(false);
    expect(buckets.take('key:2').allowed).toBe(true);
  });

  it('never holds more than its capacity, however long it was idle, and a clock stepping back drains nothing', () => {
    const time = clock(1_000_000);
    const buckets = new TokenBuckets({ capacity: 2, periodMs: 1_000, now: time.now });
    buckets.take('a');
    time.advance(10_000_000);
    expect(buckets.take('a')).toEqual({ allowed: true, remaining: 1 });
    time.advance(-500_000);
    expect(buckets.take('a')).toEqual({ allowed: true, remaining: 0 });
  });

  it('forgets full buckets once over maxBuckets, keeping the ones in use', () => {
    const time = clock();
    const buckets = new TokenBuckets({ capacity: 2, periodMs: 1_000, now: time.now, maxBuckets: 3 });
    for (const name of ['a', 'b', 'c']) buckets.take(name);
    buckets.take('a');
    time.advance(600);
    buckets.take('d');
    // b and c refilled (1 token each + 0.6 s × 2/s); a had 0 tokens, now 1.2: kept; d is new.
    expect(buckets.size).toBe(2);
    expect(buckets.take('a')).toEqual({ allowed: true, remaining: 0 });
  });

  it('refuses options that could never allow a request', () => {
    expect(() => new TokenBuckets({ capacity: 0, periodMs: 1_000 })).toThrow(RangeError);
    expect(() => new TokenBuckets({ capacity: 1, periodMs: 0 })).toThrow(RangeError);
  });

  it('allows no more than capacity + elapsed × rate requests over any schedule', () => {
    const schedule = fc.array(fc.tuple(fc.nat(5_000), fc.constantFrom('a', 'b')), { minLength: 1, maxLength: 200 });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 100, max: 60_000 }), schedule, (capacity, periodMs, steps) => {
        const time = clock();
        const buckets = new TokenBuckets({ capacity, periodMs, now: time.now });
        const allowed = { a: 0, b: 0 };
        for (const [wait, name] of steps) {
          time.advance(wait);
          const result = buckets.take(name);
          if (result.allowed) allowed[name as 'a' | 'b']++;
          else expect(result.retryAfterMs).toBeGreaterThan(0);
        }
        const bound = capacity + Math.floor((time.now() * capacity) / periodMs);
        expect(allowed.a).toBeLessThanOrEqual(bound);
        expect(allowed.b).toBeLessThanOrEqual(bound);
      }),
    );
  });
});
