import type { ApiKeys } from '../auth/api-keys.js';
import type { Config } from '../core/config.js';
import type { Gallery } from '../gallery/gallery.js';
import type { PhotoEvents } from '../gallery/photo-events.js';
import { identifyCaller, type Caller } from './auth.js';
import { createLoaders, type Loaders } from './loaders.js';

/** What resolvers reach, shared by every request. */
export interface ApiServices {
  readonly gallery: Gallery;
  readonly keys: ApiKeys;
  readonly events: PhotoEvents;
  readonly config: Config;
}

export interface RequestContext {
  readonly services: ApiServices;
  readonly caller: Caller;
  readonly loaders: Loaders;
  /** Scheme, host and port the client reached us by: download URLs start with it. */
  readonly baseUrl: string;
}

export async function createContext(services: ApiServices, authorization: string | undefined, baseUrl: string): Promise<RequestContext> {
  return { services, caller: await identifyCaller(authorization, services.keys), loaders: createLoaders(services.gallery), baseUrl };
}
