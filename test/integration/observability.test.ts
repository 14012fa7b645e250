/**
 * Metrics, logs and readiness of a real server (real models, SQLite file, HTTP): a scripted
 * session moves the counters by exactly what it did, the exposition passes `promtool check
 * metrics` and a real Prometheus (Debian's) scrapes it, every request and job leaves one JSON
 * line with its request id, graphql-ws operations are counted over a real WebSocket, /readyz turns false
 * the moment a drain starts while an in-flight request still finishes, and a worker reports too.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { ApiClient, dataOf } from '../../src/api/http-client.js';
import { FaceEncoder } from '../../src/inference/face-encoder.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { startWorker } from '../../src/service/worker-process.js';
import { exited, freePort } from '../../bench/child-server.js';
import { ADMIN_KEY, testConfig } from '../helpers/api-server.js';
import { makePeopleFolder } from '../helpers/cli.js';
import { holdUpload, jsonLogLines, parseSamples, promtoolProblems, sample, type Samples } from '../helpers/metrics-text.js';

const ENROLL = 'mutation($s: ID!, $p: [Upload!]!) { enrollPhotos(subjectId: $s, photos: $p) { photos { id } } }';
const IDENTIFY = 'query($image: Upload) { identify(image: $image) { unknown threshold thresholdSource matches { subject { id } } } }';

let dir: string;
let encoder: FaceEncoder;
let server: RunningServer;
let photos: Buffer[];
const lines: string[] = [];

async function scrape(url: string, headers: Record<string, string> = {}): Promise<{ text: string; samples: Samples }> {
  const response = await fetch(`${url}/metrics`, { headers });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const text = await response.text();
  return { text, samples: parseSamples(text) };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'face3d-observability-'));
  encoder = await FaceEncoder.open();
  const people = await makePeopleFolder(join(dir, 'people'), 1, 2);
  const [[name, files]] = [...people.people];
  photos = await Promise.all(files.map((file) => readFile(join(dir, 'people', name, file))));
  server = await startServer({ config: testConfig(dir, { FACE3D_METRICS_PORT: '0', LOG_LEVEL: 'info' }), encoder, log: (line) => lines.push(line) });
}, 300_000);

afterAll(async () => {
  await server?.close();
  await encoder?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('observability', () => {
  let bundle: string;
  let session: { enrollId: string; identify: { threshold: number; thresholdSource: string } };

  it('counts a scripted session exactly: one subject, one enrollment and its job, one identify', async () => {
    bundle = server.gallery.bundleId;
    const ops = server.operationsUrl!;
    const before = (await scrape(ops)).samples;
    const admin = new ApiClient(server.url, ADMIN_KEY);
    const subject = dataOf(await admin.query<{ createSubject: { id: string } }>('mutation { createSubject(input: { name: "Metered" }) { id } }')).createSubject.id;
    const enrollId = 'enroll-request-1';
    dataOf(await admin.upload(ENROLL, { s: subject, p: [null] }, { 'variables.p.0': { bytes: photos[0], name: 'a.jpg' } }, { 'apollo-require-preflight': 'true', 'x-request-id': enrollId }));
    await server.worker.idle();
    const identify = dataOf(await admin.upload<{ identify: { threshold: number; thresholdSource: string; matches: { subject: { id: string } }[] } }>(IDENTIFY, { image: null }, { 'variables.image': { bytes: photos[1], name: 'b.jpg' } })).identify;
    expect(identify.matches[0].subject.id).toBe(subject);
    session = { enrollId, identify };
    const after = (await scrape(ops)).samples;
    const moved = (key: string): number => sample(after, key) - sample(before, key);

    expect(moved('face3d_requests_total{operation="createSubject",outcome="OK"}')).toBe(1);
    expect(moved('face3d_requests_total{operation="enrollPhotos",outcome="OK"}')).toBe(1);
    expect(moved('face3d_requests_total{operation="identify",outcome="OK"}')).toBe(1);
    expect(moved('face3d_request_duration_seconds_count{operation="identify",outcome="OK"}')).toBe(1);
    expect(moved('face3d_jobs_processed_total{outcome="DONE",code="OK"}')).toBe(1);
    expect(moved('face3d_job_duration_seconds_count{outcome="DONE"}')).toBe(1);
    expect(moved(`face3d_search_duration_seconds_count{bundle="${bundle}"}`)).toBe(1);
    // Enrollment decodes once, in the job (the upload's header only is read); identify once. One face each.
    expect(moved('face3d_inference_stage_duration_seconds_count{stage="decode"}')).toBe(2);
    for (const stage of ['detect', 'landmarks', 'features', 'regress']) expect(moved(`face3d_inference_stage_duration_seconds_count{stage="${stage}"}`)).toBe(2);
    expect(moved('face3d_inference_batch_size_count{network="blazeface"}')).toBeGreaterThanOrEqual(1);

    expect(sample(after, 'face3d_jobs{status="DONE"}')).toBe(1);
    expect(sample(after, 'face3d_jobs{status="QUEUED"}')).toBe(0);
    expect(sample(after, 'face3d_job_queue_oldest_age_seconds')).toBe(0);
    expect(sample(after, 'face3d_gallery_photos{status="READY"}')).toBe(1);
    expect(sample(after, 'face3d_gallery_subjects')).toBe(1);
    expect(sample(after, `face3d_gallery_faces{bundle="${bundle}"}`)).toBe(1);
    expect(sample(after, `face3d_index_faces{bundle="${bundle}"}`)).toBe(1);
    expect(sample(after, `face3d_index_subjects{bundle="${bundle}"}`)).toBe(1);
    expect(sample(after, `face3d_open_set_threshold{bundle="${bundle}",source="${identify.thresholdSource}"}`)).toBeCloseTo(identify.threshold, 12);
    expect(sample(after, 'face3d_ready')).toBe(1);
    expect(sample(after, 'face3d_database_up')).toBe(1);
    expect(after.has('process_cpu_seconds_total')).toBe(true);
  }, 120_000);

  it('exposes metrics that pass promtool check metrics, with no ids in any label', async () => {
    const { text, samples } = await scrape(server.operationsUrl!);
    expect(promtoolProblems(text)).toBe('');
    const subjectIds = (await server.gallery.subjects.list({ first: 10 })).items.map((subject) => subject.id);
    for (const key of samples.keys()) for (const id of subjectIds) expect(key).not.toContain(id);
  });

  it('says where the metrics are when the API port is asked for them, with a metrics port set', async () => {
    const misdirected = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}`, accept: 'text/plain;version=0.0.4;q=0.3,*/*;q=0.2' } });
    expect(misdirected.status).toBe(404);
    const { errors } = (await misdirected.json()) as { errors: { message: string; extensions: { code: string } }[] };
    expect(errors[0]).toEqual({ message: expect.stringContaining('FACE3D_METRICS_PORT'), extensions: { code: 'NOT_FOUND' } });
  });

  it('writes one JSON line per request and per job, joined by the request id the client sent or got', async () => {
    const response = await fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' });
    const givenId = response.headers.get('x-request-id')!;
    expect(givenId).toMatch(/^[0-9a-f-]{36}$/);
    const logged = jsonLogLines(lines);
    const requestLines = logged.filter((line) => line.msg === 'request');
    expect(requestLines.filter((line) => line.requestId === givenId)).toEqual([expect.objectContaining({ path: '/graphql', operation: '__typename', outcome: 'OK', status: 200, level: 'info' })]);
    const download = await fetch(`${server.url}/photos/nobody/original?ascii=1`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    await download.text();
    expect(jsonLogLines(lines).filter((line) => line.requestId === download.headers.get('x-request-id'))).toEqual([expect.objectContaining({ path: '/photos/nobody/original', outcome: 'NOT_FOUND' })]);
    expect(requestLines.filter((line) => line.requestId === session.enrollId)).toEqual([expect.objectContaining({ operation: 'enrollPhotos', outcome: 'OK' })]);
    expect(logged.filter((line) => line.msg === 'job')).toEqual([expect.objectContaining({ requestId: session.enrollId, outcome: 'DONE', code: 'OK', attempt: 1 })]);
    const ids = requestLines.map((line) => line.requestId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const line of logged) {
      expect(typeof line.time).toBe('string');
      expect(JSON.stringify(line)).not.toContain(ADMIN_KEY);
    }
  });

  it('logs a typed error with its code and counts it by that code', async () => {
    const response = await new ApiClient(server.url, ADMIN_KEY).query('mutation { deleteSubject(id: "nobody") }');
    expect(response.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(jsonLogLines(lines).filter((line) => line.msg === 'request' && line.operation === 'deleteSubject')).toEqual([expect.objectContaining({ outcome: 'NOT_FOUND' })]);
    expect(sample((await scrape(server.operationsUrl!)).samples, 'face3d_requests_total{operation="deleteSubject",outcome="NOT_FOUND"}')).toBe(1);
  });

  it('counts graphql-ws operations as it counts HTTP ones: by root field and outcome, running subscriptions, connections by outcome, one JSON line each', async () => {
    const ops = server.operationsUrl!;
    const scrapeSamples = async (): Promise<Samples> => (await scrape(ops)).samples;
    const until = async (condition: (samples: Samples) => boolean): Promise<void> => {
      while (!condition(await scrapeSamples())) await new Promise((resolve) => setTimeout(resolve, 20));
    };
    const before = await scrapeSamples();
    const socket = (connectionParams: Record<string, string>) =>
      createClient({ url: `${server.url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, connectionParams, lazy: false, retryAttempts: 0, shouldRetry: () => false });
    const client = socket({ authorization: `Bearer ${ADMIN_KEY}` });
    try {
      const complete = client.subscribe({ query: 'subscription { photoStatus { id status } }' }, { next: () => undefined, error: () => undefined, complete: () => undefined });
      await until((samples) => sample(samples, 'face3d_subscriptions_active') === 1);
      complete();
      await until((samples) => sample(samples, 'face3d_subscriptions_active') === 0);
      const refusal = (query: string) =>
        new Promise<unknown>((resolve) => {
          client.subscribe({ query }, { next: resolve, complete: () => resolve('complete'), error: (error) => resolve((error as { extensions?: { code?: string } }[])[0]?.extensions?.code) });
        });
      expect(await refusal('{ serverInfo { bundle } }')).toBe('BAD_REQUEST');
      expect(await refusal('subscription { noSuchField }')).toBe('GRAPHQL_VALIDATION_FAILED');
    } finally {
      await client.dispose();
    }
    const anonymous = socket({});
    await new Promise((resolve) => anonymous.on('closed', resolve));
    await anonymous.dispose();

    const after = await scrapeSamples();
    const moved = (key: string): number => sample(after, key) - sample(before, key);
    expect(moved('face3d_subscriptions_total{operation="photoStatus",outcome="OK"}')).toBe(1);
    expect(moved('face3d_subscriptions_total{operation="graphql",outcome="BAD_REQUEST"}')).toBe(1);
    expect(moved('face3d_subscriptions_total{operation="graphql",outcome="GRAPHQL_VALIDATION_FAILED"}')).toBe(1);
    expect(moved('face3d_websocket_connections_total{outcome="OK"}')).toBe(1);
    expect(moved('face3d_websocket_connections_total{outcome="UNAUTHENTICATED"}')).toBe(1);
    expect(sample(after, 'face3d_subscriptions_active')).toBe(0);
    expect(jsonLogLines(lines).filter((line) => line.msg === 'subscription')).toEqual([
      expect.objectContaining({ transport: 'graphql-ws', operation: 'photoStatus', outcome: 'OK', level: 'info' }),
      expect.objectContaining({ transport: 'graphql-ws', operation: 'graphql', outcome: 'BAD_REQUEST' }),
      expect.objectContaining({ transport: 'graphql-ws', operation: 'graphql', outcome: 'GRAPHQL_VALIDATION_FAILED' }),
    ]);
  });

  const prometheus = existsSync('/usr/bin/prometheus') ? it : it.skip;
  if (!existsSync('/usr/bin/prometheus')) console.warn('observability.test.ts: no real Prometheus scrape: /usr/bin/prometheus is missing (apt-get install prometheus)');
  prometheus('is scraped by a real Prometheus, which reads the gallery figures', async () => {
    const port = await freePort();
    const target = new URL(server.operationsUrl!).host;
    const config = join(dir, 'prometheus.yml');
    writeFileSync(config, `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: face3d\n    static_configs:\n      - targets: ['${target}']\n`);
    const child = spawn('prometheus', [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: 'ignore' });
    const query = async (expression: string): Promise<string | undefined> => {
      try {
        const body = (await (await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(expression)}`)).json()) as { data: { result: { value: [number, string] }[] } };
        return body.data.result[0]?.value[1];
      } catch {
        return undefined;
      }
    };
    try {
      while ((await query('up{job="face3d"}')) !== '1') await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await query('face3d_gallery_subjects')).toBe('1');
      expect(await query(`face3d_index_faces{bundle="${bundle}"}`)).toBe('1');
      expect(await query('scrape_samples_scraped{job="face3d"} > 50')).toBeDefined();
    } finally {
      child.kill('SIGTERM');
      await exited(child);
    }
  }, 60_000);

  it('turns /readyz false as the drain starts, lets the in-flight request finish, then closes', async () => {
    const ops = server.operationsUrl!;
    expect(await (await fetch(`${ops}/readyz`)).json()).toEqual({ ready: true, draining: false, checks: { migrations: true, models: true, index: true, api: true, database: true } });
    const held = await holdUpload(server.url, ADMIN_KEY, IDENTIFY, photos[1], 'held-during-drain');
    while (sample((await scrape(ops)).samples, 'face3d_requests_in_flight') !== 1) await new Promise((resolve) => setTimeout(resolve, 20));
    const closing = server.close();
    const readyz = await fetch(`${ops}/readyz`);
    expect(readyz.status).toBe(503);
    expect(await readyz.json()).toMatchObject({ ready: false, draining: true });
    const answer = await held.finish();
    expect(answer.status).toBe(200);
    expect(answer.requestId).toBe('held-during-drain');
    expect(JSON.parse(answer.body).data.identify.matches.length).toBeGreaterThan(0);
    await closing;
    const order = jsonLogLines(lines).map((line) => (line.msg === 'request' ? line.requestId : line.msg));
    expect(order.indexOf('held-during-drain')).toBeGreaterThan(order.findIndex((msg) => String(msg).startsWith('draining')));
    await expect(fetch(`${ops}/readyz`)).rejects.toThrow();
  }, 60_000);

  it('guards /metrics on the API port with an API key when no metrics port is set', async () => {
    server = await startServer({ config: testConfig(dir), encoder, log: () => undefined });
    expect(server.operationsUrl).toBeUndefined();
    const refused = await fetch(`${server.url}/metrics`);
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { errors: { extensions: { code: string } }[] }).errors[0].extensions.code).toBe('UNAUTHENTICATED');
    const { samples } = await scrape(server.url, { authorization: `Bearer ${ADMIN_KEY}` });
    expect(sample(samples, 'face3d_gallery_photos{status="READY"}')).toBe(1);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    await server.close();
  }, 60_000);

  it('has a worker report readiness and job metrics on its metrics port', async () => {
    const worker = await startWorker({ config: testConfig(dir, { FACE3D_METRICS_PORT: '0' }), encoder, log: () => undefined });
    try {
      const report = await (await fetch(`${worker.operationsUrl}/readyz`)).json();
      expect(report).toEqual({ ready: true, draining: false, checks: { migrations: true, models: true, database: true } });
      const { text, samples } = await scrape(worker.operationsUrl!);
      expect(sample(samples, 'face3d_jobs{status="DONE"}')).toBe(1);
      expect(promtoolProblems(text)).toBe('');
    } finally {
      await worker.close();
    }
  }, 60_000);
});
