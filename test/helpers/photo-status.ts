/** A `photoStatus` subscription over graphql-ws, as a browser or an app holds one. */
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

/**
 * Collects `photoStatus` pushes for one subject over graphql-ws, once connected: `statuses(count)`
 * all of them once `count` were READY; `ofPhoto(id)` those of one photo so far, in order.
 */
export async function subscribePhotoStatus(
  url: string,
  key: string,
  subjectId: string,
): Promise<{ statuses(count: number): Promise<string[]>; ofPhoto(photoId: string): string[]; close(): Promise<void> }> {
  const client: Client = createClient({ url: `${url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${key}` }, lazy: false });
  await new Promise<void>((resolve) => client.on('connected', () => resolve()));
  const statuses: string[] = [];
  const photoIds: string[] = [];
  let ready = 0;
  let notify = (): void => undefined;
  const unsubscribe = client.subscribe<{ photoStatus: { id: string; status: string } }>(
    { query: 'subscription($s: ID) { photoStatus(subjectId: $s) { id status } }', variables: { s: subjectId } },
    {
      next: (message) => {
        const pushed = message.data?.photoStatus;
        if (pushed) {
          statuses.push(pushed.status);
          photoIds.push(pushed.id);
        }
        const status = pushed?.status;
        if (status === 'READY') ready++;
        notify();
      },
      error: (error) => statuses.push(`error: ${JSON.stringify(error)}`),
      complete: () => undefined,
    },
  );
  return {
    statuses: (count) =>
      new Promise((resolve) => {
        notify = () => {
          if (ready >= count) resolve(statuses);
        };
        notify();
      }),
    ofPhoto: (photoId) => statuses.filter((_, i) => photoIds[i] === photoId),
    close: async () => {
      unsubscribe();
      await client.dispose();
    },
  };
}
