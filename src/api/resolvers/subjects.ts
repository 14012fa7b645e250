import type { PhotoStatus } from '../../store/enums.js';
import type { SubjectRecord } from '../../store/records.js';
import type { SubjectInput, SubjectListArgs } from '../../store/subject-repository.js';
import { requireRole } from '../auth.js';
import { toConnection } from '../connection.js';
import type { RequestContext } from '../context.js';
import { meshField } from './meshes.js';

export const subjectResolvers = {
  Query: {
    subject: (_: unknown, args: { id: string }, ctx: RequestContext) => {
      requireRole(ctx.caller, 'read');
      return ctx.loaders.subject.load(args.id);
    },
    subjects: async (_: unknown, args: SubjectListArgs, ctx: RequestContext) => {
      requireRole(ctx.caller, 'read');
      const { subjects } = ctx.services.gallery;
      const page = await subjects.list(args);
      for (const subject of page.items) ctx.loaders.subject.prime(subject.id, subject);
      return { ...toConnection(page), totalCount: () => subjects.count(args.search) };
    },
  },
  Mutation: {
    createSubject: (_: unknown, args: { input: SubjectInput & { name: string } }, ctx: RequestContext) => {
      requireRole(ctx.caller, 'enroll');
      return ctx.services.gallery.subjects.create(args.input);
    },
    updateSubject: (_: unknown, args: { id: string; input: SubjectInput }, ctx: RequestContext) => {
      requireRole(ctx.caller, 'enroll');
      return ctx.services.gallery.subjects.update(args.id, args.input);
    },
    deleteSubject: async (_: unknown, args: { id: string }, ctx: RequestContext) => {
      requireRole(ctx.caller, 'admin');
      await ctx.services.gallery.deleteSubject(args.id);
      return true;
    },
  },
  Subject: {
    photos: async (parent: SubjectRecord, args: { first?: number | null; after?: string | null; status?: PhotoStatus | null }, ctx: RequestContext) =>
      toConnection(await ctx.loaders.photoPage.load({ subjectId: parent.id, ...args })),
    photoCount: (parent: SubjectRecord, _: unknown, ctx: RequestContext) => ctx.loaders.photoCount.load(parent.id),
    template: (parent: SubjectRecord, _: unknown, ctx: RequestContext) => ctx.loaders.subjectTemplate.load(parent.id),
    mesh: meshField('subject'),
  },
};
