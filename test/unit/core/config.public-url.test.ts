/** FACE3D_PUBLIC_URL, where photo and mesh URLs start when it is set (api/downloads.ts's requestBaseUrl). */
import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig } from '../../../src/core/config.js';

describe('FACE3D_PUBLIC_URL', () => {
  it('is an http(s) URL, kept without its trailing slash', () => {
    expect(loadConfig({ FACE3D_PUBLIC_URL: 'https://faces.example.com/' }).publicUrl).toBe('https://faces.example.com');
    expect(loadConfig({ FACE3D_PUBLIC_URL: 'http://10.1.2.3:8080/face3d//' }).publicUrl).toBe('http://10.1.2.3:8080/face3d');
    expect(loadConfig({}).publicUrl).toBeUndefined();
  });

  it.each(['faces.example.com', 'ftp://faces.example.com', 'https://user:pw@faces.example.com', 'https://faces.example.com/?a=1', 'https://faces.example.com/#x', 'https://'])('refuses %s', (value) => {
    expect(() => loadConfig({ FACE3D_PUBLIC_URL: value })).toThrow(ConfigError);
  });
});
