/** The Prometheus text format read back, strictly enough to find one sample by name and labels. */
import { spawnSync } from 'node:child_process';
import { request as httpRequest } from 'node:http';

export type Samples = ReadonlyMap<string, number>;

/** `name{a="x",b="y"}` → value; labels kept in the order the exposition writes them. */
export function parseSamples(text: string): Samples {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (!match) throw new Error(`not an exposition sample line: ${line}`);
    samples.set(match[1], Number(match[2]));
  }
  return samples;
}

/** 0 for a sample not exposed yet (a counter before its first increment). */
export function sample(samples: Samples, key: string): number {
  return samples.get(key) ?? 0;
}

/** `promtool check metrics` (Debian package prometheus) on the text: its complaints, empty when none. */
export function promtoolProblems(text: string): string {
  const result = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (result.error) throw new Error(`promtool is needed (apt-get install prometheus): ${result.error.message}`);
  return result.status === 0 ? '' : `${result.stdout}${result.stderr}`;
}

/** Lines that are JSON objects, parsed; the human start-up lines are skipped. */
export function jsonLogLines(lines: readonly string[]): Record<string, unknown>[] {
  return lines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
}

export interface HeldRequest {
  /** Sends the rest of the body; resolves with the answer. */
  finish(): Promise<{ status: number; requestId: string | undefined; body: string }>;
}

/**
 * A GraphQL multipart request (`image` as the `$image` upload) sent all but its last bytes, so it
 * stays in flight, deterministically, until `finish()`.
 */
export function holdUpload(url: string, key: string, query: string, image: Uint8Array, requestId: string): Promise<HeldRequest> {
  const boundary = 'face3dheldrequest';
  const part = (name: string, value: string, extra = ''): string => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"${extra}\r\n\r\n${value}\r\n`;
  const head = part('operations', JSON.stringify({ query, variables: { image: null } })) + part('map', JSON.stringify({ 0: ['variables.image'] }));
  const fileHead = `--${boundary}\r\nContent-Disposition: form-data; name="0"; filename="probe.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`;
  const body = Buffer.concat([Buffer.from(head + fileHead), image, Buffer.from(`\r\n--${boundary}--\r\n`)]);
  const held = body.length - 16;
  return new Promise((resolveHeld, rejectHeld) => {
    const answer = new Promise<{ status: number; requestId: string | undefined; body: string }>((resolve, reject) => {
      const request = httpRequest(
        `${url}/graphql`,
        {
          method: 'POST',
          agent: false,
          headers: {
            authorization: `Bearer ${key}`,
            'apollo-require-preflight': 'true',
            'x-request-id': requestId,
            'content-type': `multipart/form-data; boundary=${boundary}`,
            'content-length': body.length,
          },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, requestId: response.headers['x-request-id'] as string | undefined, body: Buffer.concat(chunks).toString('utf8') }));
        },
      );
      request.on('error', (error) => {
        reject(error);
        rejectHeld(error);
      });
      request.write(body.subarray(0, held), () => resolveHeld({ finish: () => new Promise((done) => request.end(body.subarray(held), () => done(answer))) }));
    });
    answer.catch(() => undefined);
  });
}
