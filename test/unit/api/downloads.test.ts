/** Where photo and mesh URLs start: FACE3D_PUBLIC_URL, else a Host header only when it is a plain host[:port]. */
import { describe, expect, it } from '@jest/globals';
import type { IncomingMessage } from 'node:http';
import { requestBaseUrl } from '../../../src/api/downloads.js';

function requestWith(host: string | undefined, socket: { encrypted?: boolean; localAddress?: string; localPort?: number } = {}): IncomingMessage {
  return { headers: host === undefined ? {} : { host }, socket: { localAddress: '10.0.0.5', localPort: 4000, ...socket } } as unknown as IncomingMessage;
}

describe('requestBaseUrl', () => {
  it('is FACE3D_PUBLIC_URL whenever it is set', () => {
    expect(requestBaseUrl(requestWith('evil.example'), 'https://faces.example.com')).toBe('https://faces.example.com');
  });

  it('takes a Host header of a name or address and a port, over TLS as https', () => {
    expect(requestBaseUrl(requestWith('faces.example.com:8443'), undefined)).toBe('http://faces.example.com:8443');
    expect(requestBaseUrl(requestWith('[::1]:4000', { encrypted: true }), undefined)).toBe('https://[::1]:4000');
    expect(requestBaseUrl(requestWith('127.0.0.1'), undefined)).toBe('http://127.0.0.1');
  });

  it.each(['evil.example/x?y=', 'evil.example@other', 'a b', 'evil.example:80#', '', 'x'.repeat(300)])('uses the address the request reached for Host %j', (host) => {
    expect(requestBaseUrl(requestWith(host), undefined)).toBe('http://10.0.0.5:4000');
  });

  it('brackets an IPv6 local address', () => {
    expect(requestBaseUrl(requestWith(undefined, { localAddress: '::1' }), undefined)).toBe('http://[::1]:4000');
  });
});
