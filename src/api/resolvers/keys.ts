import type { ApiKeyRole } from '../../store/enums.js';
import { requireRole } from '../auth.js';
import type { RequestContext } from '../context.js';

export const keyResolvers = {
  /** GraphQL enum names in capitals; the stored roles are the lower-case names the CLI uses. */
  ApiKeyRole: { ADMIN: 'admin', ENROLL: 'enroll', READ: 'read' },
  Query: {
    apiKeys: (_: unknown, __: unknown, ctx: RequestContext) => {
      requireRole(ctx.caller, 'admin');
      return ctx.services.keys.list();
    },
  },
  Mutation: {
    createApiKey: async (_: unknown, args: { role: ApiKeyRole; label: string }, ctx: RequestContext) => {
      requireRole(ctx.caller, 'admin');
      const { key, record } = await ctx.services.keys.create(args.role, args.label);
      return { key, apiKey: record };
    },
    revokeApiKey: (_: unknown, args: { id: string }, ctx: RequestContext) => {
      requireRole(ctx.caller, 'admin');
      return ctx.services.keys.revoke(args.id);
    },
  },
};
