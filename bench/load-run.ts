/**
 * A bounded load test against a running face3d server: `clients` closed-loop clients, each
 * picking enrollments and identifications at random in the proportions of `mix`, first for a
 * warm-up phase, then for the measured phase. An enrollment uploads one photo to its person's
 * subject and waits for it to finish (READY or FAILED), as a client that shows the result would;
 * an identification uploads a probe. Afterwards every accepted photo must be finished, FAILED ones
 * with an error code, and the server's resident memory after the run is compared with its
 * resident memory after the warm-up (each measured once the queue is empty).
 * Used by bench/load.ts (npm run bench:load) and test/integration/load.test.ts.
 */
import { ApiClient, type FilePart, type GraphQLResponse } from '../src/api/http-client.js';
import { mapConcurrent } from '../src/core/concurrency.js';
import { mulberry32, randomInt, shuffledIndices, type Random } from '../src/training/random.js';
import { createSubject, ENROLL_PHOTOS, IDENTIFY, percentile, readPhoto, type EnrollPhotosData } from './api-helpers.js';
import { residentBytes } from './child-server.js';

export interface LoadPhoto {
  /** The person on the photo: enrollments go to one subject per person. */
  readonly person: string;
  readonly path: string;
}

/** Relative weights of the operations clients pick. */
export interface LoadMix {
  readonly enroll: number;
  readonly identify: number;
}

export interface LoadOptions {
  readonly clients: number;
  readonly warmupSeconds: number;
  readonly durationSeconds: number;
  readonly mix: LoadMix;
  readonly photos: readonly LoadPhoto[];
  readonly seed: number;
  /** How long to wait for a photo (or, after a phase, the queue) to finish before calling it lost. */
  readonly drainSeconds: number;
  readonly log?: (line: string) => void;
}

export interface LoadTarget {
  /** http://host:port */
  readonly url: string;
  /** An ENROLL or ADMIN key. */
  readonly key: string;
  /** The server's process id, whose resident memory is measured. */
  readonly pid: number;
}

export interface OperationStats {
  readonly count: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly perSecond: number;
}

export type OperationName = 'enroll upload' | 'enroll to finished' | 'identify' | 'status poll';

export interface LoadReport {
  /** Of the measured phase only. */
  readonly operations: Partial<Record<OperationName, OperationStats>>;
  readonly measuredSeconds: number;
  /** Requests answered, both phases: every one with its HTTP status and error codes counted. */
  readonly requests: number;
  /** HTTP 5xx responses plus GraphQL errors coded INTERNAL, both phases. */
  readonly serverErrors: number;
  /** Requests that got no HTTP response at all (connection refused or reset). */
  readonly transportErrors: number;
  /** Error codes of answered requests (NO_FACE for a probe without a face, ...), both phases. */
  readonly errorCodes: Readonly<Record<string, number>>;
  /** The first few server and transport errors, for a report. */
  readonly errorSamples: readonly string[];
  readonly accepted: number;
  readonly ready: number;
  readonly failed: number;
  /** FAILED photos' error codes. */
  readonly failureCodes: Readonly<Record<string, number>>;
  /** Accepted photos still PENDING or PROCESSING (or gone) at the end: lost. */
  readonly unfinished: number;
  readonly failedWithoutCode: number;
  readonly rssAfterWarmupBytes: number;
  readonly rssAfterRunBytes: number;
}

const OPERATIONS = ['enroll', 'identify'] as const;
const STATUS_POLL_MS = 100;
/** Photos asked about per status query (aliases of one query). */
const STATUS_BATCH = 50;
/** Lets the allocator give back what the last requests used before memory is read. */
const SETTLE_MS = 2000;
const MAX_ERROR_SAMPLES = 10;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** "enroll=30,identify=70" (weights, any scale). */
export function parseMix(text: string): LoadMix {
  const weights: Record<string, number> = { enroll: 0, identify: 0 };
  for (const part of text.split(',')) {
    const [name, value] = part.split('=').map((item) => item.trim());
    const weight = Number(value);
    if (!(OPERATIONS as readonly string[]).includes(name) || !Number.isFinite(weight) || weight < 0) {
      throw new Error(`--mix must look like enroll=30,identify=70 (non-negative weights of ${OPERATIONS.join(', ')}), got "${text}"`);
    }
    weights[name] = weight;
  }
  if (weights.enroll + weights.identify <= 0) throw new Error(`--mix needs a positive weight, got "${text}"`);
  return { enroll: weights.enroll, identify: weights.identify };
}

interface Finished {
  readonly status: string;
  readonly code: string | undefined;
}

/** Every request's outcome, and the latencies since the last reset (of the measured phase). */
class Tally {
  requests = 0;
  serverErrors = 0;
  transportErrors = 0;
  readonly errorCodes: Record<string, number> = {};
  readonly errorSamples: string[] = [];
  latencies = new Map<OperationName, number[]>();

  resetLatencies(): void {
    this.latencies = new Map();
  }

  record(operation: OperationName, milliseconds: number): void {
    const list = this.latencies.get(operation) ?? [];
    list.push(milliseconds);
    this.latencies.set(operation, list);
  }

  sample(line: string): void {
    if (this.errorSamples.length < MAX_ERROR_SAMPLES) this.errorSamples.push(line);
  }

  /** Sends one request; its data when it has no errors, undefined otherwise (counted either way). */
  async call<T>(operation: OperationName, send: () => Promise<GraphQLResponse<T>>): Promise<T | undefined> {
    const started = performance.now();
    let response: GraphQLResponse<T>;
    try {
      response = await send();
    } catch (error) {
      this.transportErrors++;
      this.sample(`${operation}: ${(error as Error).message}`);
      return undefined;
    }
    this.requests++;
    const codes = (response.errors ?? []).map((error) => error.extensions?.code ?? 'NO_CODE');
    for (const code of codes) this.errorCodes[code] = (this.errorCodes[code] ?? 0) + 1;
    if (response.status >= 500 || codes.includes('INTERNAL')) {
      this.serverErrors++;
      this.sample(`${operation}: HTTP ${response.status} ${JSON.stringify(response.errors ?? [])}`);
    }
    if (codes.length > 0) return undefined;
    this.record(operation, performance.now() - started);
    return response.data ?? undefined;
  }
}

function statusQuery(count: number): string {
  const variables = Array.from({ length: count }, (_, i) => `$i${i}: ID!`).join(', ');
  const fields = Array.from({ length: count }, (_, i) => `p${i}: photo(id: $i${i}) { status error { code } }`).join(' ');
  return `query(${variables}) { ${fields} }`;
}

type StatusData = Record<string, { status: string; error: { code: string } | null } | null>;

/** The photos among `ids` that are READY or FAILED, with their failure codes. */
async function finishedAmong(client: ApiClient, tally: Tally, ids: readonly string[]): Promise<Map<string, Finished>> {
  const finished = new Map<string, Finished>();
  for (let start = 0; start < ids.length; start += STATUS_BATCH) {
    const batch = ids.slice(start, start + STATUS_BATCH);
    const variables = Object.fromEntries(batch.map((id, i) => [`i${i}`, id]));
    const data = await tally.call('status poll', () => client.query<StatusData>(statusQuery(batch.length), variables));
    batch.forEach((id, i) => {
      const photo = data?.[`p${i}`];
      if (photo && (photo.status === 'READY' || photo.status === 'FAILED')) finished.set(id, { status: photo.status, code: photo.error?.code });
    });
  }
  return finished;
}

/** Polls until every photo of `ids` is finished or `seconds` have passed; what finished. */
async function waitFinished(client: ApiClient, tally: Tally, ids: readonly string[], seconds: number): Promise<Map<string, Finished>> {
  const finished = new Map<string, Finished>();
  const deadline = performance.now() + seconds * 1000;
  for (;;) {
    const pending = ids.filter((id) => !finished.has(id));
    for (const [id, outcome] of await finishedAmong(client, tally, pending)) finished.set(id, outcome);
    if (finished.size === ids.length || performance.now() > deadline) return finished;
    await sleep(STATUS_POLL_MS);
  }
}

function summarise(latencies: readonly number[], seconds: number): OperationStats {
  const sorted = [...latencies].sort((a, b) => a - b);
  return { count: sorted.length, p50Ms: percentile(sorted, 0.5), p99Ms: percentile(sorted, 0.99), perSecond: sorted.length / seconds };
}

function countBy(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

/** The photos and subjects clients share: enrollments take photos in a seeded shuffled order. */
class Workload {
  private next = 0;
  private readonly order: Int32Array;
  private readonly files = new Map<string, Promise<FilePart>>();
  /** Photo ids: the same id again when a photo comes round again. */
  readonly accepted = new Set<string>();

  constructor(
    private readonly photos: readonly LoadPhoto[],
    private readonly subjects: ReadonlyMap<string, string>,
    seed: number,
  ) {
    this.order = shuffledIndices(photos.length, mulberry32(seed));
  }

  /** The next photo to enroll (round and round: a photo its subject has is returned as it is). */
  nextEnrollment(): { subjectId: string; file: Promise<FilePart> } {
    const photo = this.photos[this.order[this.next++ % this.order.length]];
    return { subjectId: this.subjects.get(photo.person)!, file: this.file(photo) };
  }

  randomProbe(random: Random): Promise<FilePart> {
    return this.file(this.photos[randomInt(random, this.photos.length)]);
  }

  private file(photo: LoadPhoto): Promise<FilePart> {
    let file = this.files.get(photo.path);
    if (!file) this.files.set(photo.path, (file = readPhoto(photo.path)));
    return file;
  }
}

async function enrollOnce(client: ApiClient, tally: Tally, workload: Workload, drainSeconds: number): Promise<void> {
  const { subjectId, file } = workload.nextEnrollment();
  const started = performance.now();
  const photo = await file;
  const data = await tally.call('enroll upload', () => client.upload<EnrollPhotosData>(ENROLL_PHOTOS, { s: subjectId, p: [null] }, { 'variables.p.0': photo }));
  const id = data?.enrollPhotos.photos[0]?.id;
  if (!id) return;
  workload.accepted.add(id);
  if ((await waitFinished(client, tally, [id], drainSeconds)).has(id)) tally.record('enroll to finished', performance.now() - started);
}

async function identifyOnce(client: ApiClient, tally: Tally, workload: Workload, random: Random): Promise<void> {
  const probe = await workload.randomProbe(random);
  await tally.call('identify', () => client.upload(IDENTIFY, { image: null }, { 'variables.image': probe }));
}

/** All clients until `seconds` have passed; each finishes the operation it is in. */
async function runPhase(client: ApiClient, tally: Tally, workload: Workload, options: LoadOptions, seconds: number, seedOffset: number): Promise<number> {
  const started = performance.now();
  const end = started + seconds * 1000;
  const enrollShare = options.mix.enroll / (options.mix.enroll + options.mix.identify);
  await Promise.all(
    Array.from({ length: options.clients }, async (_, i) => {
      const random = mulberry32(options.seed + seedOffset + i);
      while (performance.now() < end) {
        if (random() < enrollShare) await enrollOnce(client, tally, workload, options.drainSeconds);
        else await identifyOnce(client, tally, workload, random);
      }
    }),
  );
  return (performance.now() - started) / 1000;
}

/** Waits for the queue to empty (every accepted photo finished), then reads the server's memory. */
async function quiescentMemory(client: ApiClient, tally: Tally, workload: Workload, target: LoadTarget, drainSeconds: number): Promise<number> {
  await waitFinished(client, tally, [...workload.accepted], drainSeconds);
  await sleep(SETTLE_MS);
  return residentBytes(target.pid);
}

export async function runLoad(target: LoadTarget, options: LoadOptions): Promise<LoadReport> {
  const log = options.log ?? (() => undefined);
  if (options.photos.length === 0) throw new Error('runLoad needs photos');
  const client = new ApiClient(target.url, target.key);
  const people = [...new Set(options.photos.map((photo) => photo.person))];
  const subjectIds = await mapConcurrent(people, options.clients, (person) => createSubject(client, person));
  const workload = new Workload(options.photos, new Map(people.map((person, i) => [person, subjectIds[i]])), options.seed);
  const tally = new Tally();

  log(`load: ${people.length} subjects; warming up for ${options.warmupSeconds} s with ${options.clients} clients`);
  await runPhase(client, tally, workload, options, options.warmupSeconds, 0);
  const rssAfterWarmupBytes = await quiescentMemory(client, tally, workload, target, options.drainSeconds);

  tally.resetLatencies();
  log(`load: ${workload.accepted.size} photos enrolled in the warm-up; measuring for ${options.durationSeconds} s`);
  const measuredSeconds = await runPhase(client, tally, workload, options, options.durationSeconds, options.clients);
  const operations = Object.fromEntries([...tally.latencies].map(([name, latencies]) => [name, summarise(latencies, measuredSeconds)]));
  const rssAfterRunBytes = await quiescentMemory(client, tally, workload, target, options.drainSeconds);

  const outcomes = [...(await finishedAmong(client, tally, [...workload.accepted])).values()];
  const failures = outcomes.filter((outcome) => outcome.status === 'FAILED');
  return {
    operations,
    measuredSeconds,
    requests: tally.requests,
    serverErrors: tally.serverErrors,
    transportErrors: tally.transportErrors,
    errorCodes: tally.errorCodes,
    errorSamples: tally.errorSamples,
    accepted: workload.accepted.size,
    ready: outcomes.length - failures.length,
    failed: failures.length,
    failureCodes: countBy(failures.flatMap((failure) => (failure.code ? [failure.code] : []))),
    unfinished: workload.accepted.size - outcomes.length,
    failedWithoutCode: failures.filter((failure) => !failure.code).length,
    rssAfterWarmupBytes,
    rssAfterRunBytes,
  };
}

/** What breaks the promises of a load test: 5xx, lost photos, memory growth beyond `memoryTolerance` (0.2: 20 %). */
export function loadFailures(report: LoadReport, memoryTolerance: number): string[] {
  const failures: string[] = [];
  if (report.serverErrors > 0) failures.push(`${report.serverErrors} server errors`);
  if (report.transportErrors > 0) failures.push(`${report.transportErrors} requests without a response`);
  if (report.unfinished > 0) failures.push(`${report.unfinished} photos lost (not READY or FAILED)`);
  if (report.failedWithoutCode > 0) failures.push(`${report.failedWithoutCode} photos FAILED without an error code`);
  const change = Math.abs(report.rssAfterRunBytes / report.rssAfterWarmupBytes - 1);
  if (change > memoryTolerance) failures.push(`server memory changed by ${(change * 100).toFixed(1)} % (tolerance ${(memoryTolerance * 100).toFixed(0)} %)`);
  return failures;
}
