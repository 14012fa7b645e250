import type { Box } from '../../core/image.js';
import type { FaceRecord, PhotoRecord } from '../../store/records.js';
import type { PhotoFilter } from '../../gallery/photo-events.js';
import type { QualityFilter } from '../../store/enums.js';
import { requireRole } from '../auth.js';
import type { RequestContext } from '../context.js';
import { photoUrl } from '../downloads.js';
import { readUploads } from '../uploads.js';
import { meshField } from './meshes.js';

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
        return ctx.services.events.subscribe(args);
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
