import type { Box } from '../../core/image.js';
import type { FaceRecord, PhotoRecord } from '../../store/records.js';
import type { PhotoEvents, PhotoFilter } from '../../gallery/photo-events.js';
import type { QualityFilter } from '../../store/enums.js';
import { requireRole } from '../auth.js';
import type { RequestContext } from '../context.js';
import { photoUrl } from '../downloads.js';
import { readUploads } from '../uploads.js';
import { meshField } from './meshes.js';

/**
 * One subscription's photo events, ended at once when its client completes it or goes: the events'
 * generator, waiting for its next event, would take graphql-ws's `return()` only at its next
 * matching event, keeping its listener (and the subscription in the metrics) until then.
 */
function photoStatusEvents(events: PhotoEvents, filter: PhotoFilter): AsyncIterableIterator<PhotoRecord> {
  const stop = new AbortController();
  const source = events.subscribe(filter, stop.signal);
  return {
    next: () => source.next(),
    return: (value?: unknown) => {
      stop.abort();
      return source.return(value);
    },
    throw: (error?: unknown) => {
      stop.abort();
      return source.throw(error);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

export const photoResolvers = {
  Query: {
    photo: (_: unknown, args: { id: string }, ctx: RequestContext) => {
      requireRole(ctx.caller, 'read');
      return ctx.loaders.photo.load(args.id);
    },
    face: (_: unknown, args: { id: string }, ctx: RequestContext) => {
      requireRole(ctx.caller, 'read');
      return ctx.loaders.face.load(args.id);
    },
  },
  Mutation: {
    enrollPhotos: async (_: unknown, args: { subjectId: string; photos: unknown[]; faceBox?: Box | null; qualityFilter: QualityFilter }, ctx: RequestContext) => {
      requireRole(ctx.caller, 'enroll');
      const { gallery, config } = ctx.services;
      const images = await readUploads(args.photos, config.maxImageBytes);
      const results = await gallery.enroll(args.subjectId, images, args.faceBox ?? null, args.qualityFilter);
      return { photos: results.map((result) => result.photo) };
    },
    deletePhoto: async (_: unknown, args: { id: string }, ctx: RequestContext) => {
      requireRole(ctx.caller, 'admin');
      await ctx.services.gallery.deletePhoto(args.id);
      return true;
    },
  },
  Subscription: {
    photoStatus: {
      subscribe: (_: unknown, args: PhotoFilter, ctx: RequestContext) => {
        requireRole(ctx.caller, 'read');
        return photoStatusEvents(ctx.services.events, args);
      },
      resolve: (photo: PhotoRecord) => photo,
    },
  },
  Photo: {
    subject: (parent: PhotoRecord, _: unknown, ctx: RequestContext) => ctx.loaders.subject.load(parent.subjectId),
    face: (parent: PhotoRecord, _: unknown, ctx: RequestContext) => (parent.status === 'READY' ? ctx.loaders.faceOfPhoto.load(parent.id) : null),
    url: (parent: PhotoRecord, _: unknown, ctx: RequestContext) => photoUrl(ctx.baseUrl, parent.id),
  },
  Face: {
    photo: (parent: FaceRecord, _: unknown, ctx: RequestContext) => ctx.loaders.photo.load(parent.photoId),
    expression: (parent: FaceRecord) => Array.from(parent.expression),
    vector: (parent: FaceRecord, _: unknown, ctx: RequestContext) => ctx.loaders.vectorOfFace.load(parent.id),
    mesh: meshField('face'),
  },
};
