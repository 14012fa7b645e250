/** What every view of the signed-in app shares. */
import type { Api } from './api.js';
import type { PhotoFeed } from './live.js';
import type { Photo, ServerInfo } from './queries.js';

/** One side of a verification: a photo dropped here, or an enrolled photo chosen in the gallery. */
export type VerifySide = { readonly kind: 'upload'; readonly file: File } | { readonly kind: 'photo'; readonly photo: Photo; readonly subjectName: string };

export interface AppContext {
  readonly api: Api;
  readonly feed: PhotoFeed;
  readonly info: ServerInfo;
  /** The two sides of the Verify view, kept while the person browses elsewhere. */
  readonly verifySides: [VerifySide | null, VerifySide | null];
  navigate(hash: string): void;
}

/** A page of the app; `dispose` releases what it holds (WebGL, subscriptions, object URLs). */
export interface View {
  readonly element: HTMLElement;
  dispose(): void;
}
