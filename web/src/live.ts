/** Photo status pushed by the server over graphql-ws (the `photoStatus` subscription at /graphql). */
import { createClient, type Client } from 'graphql-ws';
import { PHOTO_STATUS, type Photo } from './queries.js';

export class PhotoFeed {
  private readonly client: Client;

  constructor(key: string) {
    const url = new URL('/graphql', window.location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    this.client = createClient({ url: url.href, connectionParams: { authorization: `Bearer ${key}` }, lazy: true, retryAttempts: 5 });
  }

  /** Calls `onPhoto` for every status change of these photos until the returned function is called. */
  watch(photoIds: readonly string[], onPhoto: (photo: Photo) => void, onError: (error: unknown) => void): () => void {
    return this.client.subscribe<{ photoStatus: Photo }>(
      { query: PHOTO_STATUS, variables: { photoIds } },
      {
        next: (result) => {
          if (result.data) onPhoto(result.data.photoStatus);
          else if (result.errors) onError(new Error(result.errors.map((error) => error.message).join('; ')));
        },
        error: onError,
        complete: () => undefined,
      },
    );
  }

  close(): void {
    void this.client.dispose();
  }
}
