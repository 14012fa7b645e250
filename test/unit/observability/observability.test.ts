/**
 * The metrics port asks for no key, so by default it listens on this host's loopback only, whatever
 * HOST says: checked over real HTTP, from 127.0.0.1 and from this host's own network address.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { networkInterfaces } from 'node:os';
import { loadConfig, type Env } from '../../../src/core/config.js';
import { openObservability, type Observability } from '../../../src/observability/observability.js';

/** An IPv4 address of this host other than loopback, if it has one. */
const networkAddress = Object.values(networkInterfaces())
  .flat()
  .find((address) => address && address.family === 'IPv4' && !address.internal)?.address;
if (!networkAddress) console.warn('observability.test.ts: this host has no network address besides loopback: the port is only checked to listen on 127.0.0.1');

let opened: Observability | undefined;

afterEach(async () => {
  await opened?.close();
  opened = undefined;
});

async function openMetricsPort(env: Env): Promise<{ port: string; url: string }> {
  opened = await openObservability({ component: 'worker', config: loadConfig({ FACE3D_METRICS_PORT: '0', ...env }), steps: [], sink: () => undefined });
  const url = opened.operationsUrl!;
  return { port: new URL(url).port, url };
}

/** The status of GET /healthz at `host`:`port`, or the error code of a connection that failed. */
async function healthz(host: string, port: string): Promise<number | string> {
  try {
    return (await fetch(`http://${host}:${port}/healthz`)).status;
  } catch (error) {
    return String(((error as { cause?: { code?: string } }).cause ?? {}).code);
  }
}

describe('the metrics port', () => {
  it('listens on 127.0.0.1 when FACE3D_METRICS_HOST is unset, though the API listens on every interface (HOST=0.0.0.0)', async () => {
    const { port, url } = await openMetricsPort({ HOST: '0.0.0.0' });
    expect(url).toBe(`http://127.0.0.1:${port}`);
    expect(await healthz('127.0.0.1', port)).toBe(200);
    if (networkAddress) expect(await healthz(networkAddress, port)).toBe('ECONNREFUSED');
  });

  it('listens where FACE3D_METRICS_HOST says: 0.0.0.0 reaches it from the network too', async () => {
    const { port } = await openMetricsPort({ HOST: '127.0.0.1', FACE3D_METRICS_HOST: '0.0.0.0' });
    expect(await healthz('127.0.0.1', port)).toBe(200);
    if (networkAddress) expect(await healthz(networkAddress, port)).toBe(200);
  });
});
