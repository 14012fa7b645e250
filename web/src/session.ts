/** The API key lives in sessionStorage: it survives reloads of the tab, not the closing of it. */
const KEY = 'face3d.apiKey';

export function storedKey(): string | null {
  return sessionStorage.getItem(KEY);
}

export function storeKey(key: string): void {
  sessionStorage.setItem(KEY, key);
}

export function forgetKey(): void {
  sessionStorage.removeItem(KEY);
}
