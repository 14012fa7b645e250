import { Face3dError } from '../../core/errors.js';
import type { Probe, RankedCandidate } from '../../gallery/gallery.js';
import type { Threshold } from '../../gallery/decision.js';
import type { MatchMode } from '../../store/records.js';
import type { Box } from '../../core/image.js';
import { requireRole } from '../auth.js';
import type { RequestContext } from '../context.js';
import { readUpload } from '../uploads.js';

interface FaceRefInput {
  readonly image?: unknown;
  readonly photoId?: string | null;
  readonly subjectId?: string | null;
  readonly faceBox?: Box | null;
}

interface IdentifyArgs {
  readonly image?: unknown;
  readonly photoId?: string | null;
  readonly faceBox?: Box | null;
  readonly topK: number;
  readonly threshold?: number | null;
  readonly mode: MatchMode;
  readonly bundle?: string | null;
}

function thresholdFields(threshold: Threshold) {
  return { threshold: threshold.value, falseAcceptRate: threshold.falseAcceptRate, fpir: threshold.fpir, templates: threshold.templates, thresholdSource: threshold.source };
}

function given(value: unknown): boolean {
  return value !== undefined && value !== null;
}

/** Exactly one of image, photoId and (verify only) subjectId, encoded under `bundle` (default: the server's). */
async function resolveProbe(ref: FaceRefInput, bundle: string | null | undefined, ctx: RequestContext, where: string): Promise<Probe> {
  const { gallery, config } = ctx.services;
  const sources = [ref.image, ref.photoId, ref.subjectId].filter(given).length;
  if (sources !== 1) throw new Face3dError('BAD_USER_INPUT', `${where}: give exactly one of ${where === 'identify' ? 'image, photoId' : 'image, photoId, subjectId'}`);
  if (given(ref.faceBox) && !given(ref.image)) throw new Face3dError('BAD_USER_INPUT', `${where}: faceBox applies to image only`);
  gallery.served(bundle);
  if (given(ref.image)) return gallery.probeImage(await readUpload(ref.image, config.maxImageBytes), ref.faceBox ?? null, bundle);
  if (ref.photoId) return gallery.probePhoto(ref.photoId, bundle);
  return gallery.probeSubject(ref.subjectId!, bundle);
}

export const searchResolvers = {
  Query: {
    serverInfo: (_: unknown, __: unknown, ctx: RequestContext) => {
      requireRole(ctx.caller, 'read');
      const { gallery, config } = ctx.services;
      const threshold = gallery.defaultThreshold();
      return {
        bundle: gallery.bundleId,
        bundles: gallery.bundleIds,
        defaultThreshold: threshold.value,
        falseAcceptRate: threshold.falseAcceptRate,
        thresholdSource: threshold.source,
        targetFpir: gallery.decision.knowsGallery ? gallery.decision.targetFpir : null,
        fpir: threshold.fpir,
        fpirConfidence: gallery.decision.fpirConfidence,
        templates: threshold.templates,
        // Counted when asked for: the index knows only the subjects that have a face.
        subjects: () => gallery.subjects.count(undefined),
        enrolledFaces: gallery.index.faceCount,
        maxUploadBytes: config.maxImageBytes,
        maxUploadFiles: config.maxUploadFiles,
      };
    },
    identify: async (_: unknown, args: IdentifyArgs, ctx: RequestContext) => {
      requireRole(ctx.caller, 'read');
      const probe = await resolveProbe({ image: args.image, photoId: args.photoId, faceBox: args.faceBox }, args.bundle, ctx, 'identify');
      const outcome = await ctx.services.gallery.identify(probe, { topK: args.topK, threshold: args.threshold, mode: args.mode });
      return {
        probe,
        matches: outcome.candidates.map((candidate, i) => ({ ...candidate, rank: i + 1 })),
        unknown: outcome.unknown,
        ...thresholdFields(outcome.threshold),
      };
    },
    verify: async (_: unknown, args: { a: FaceRefInput; b: FaceRefInput; threshold?: number | null; bundle?: string | null }, ctx: RequestContext) => {
      requireRole(ctx.caller, 'read');
      const [a, b] = await Promise.all([resolveProbe(args.a, args.bundle, ctx, 'a'), resolveProbe(args.b, args.bundle, ctx, 'b')]);
      const outcome = ctx.services.gallery.verify(a, b, args.threshold);
      return { similarity: outcome.similarity, match: outcome.match, strangerChance: outcome.strangerChance, ...thresholdFields(outcome.threshold), a, b };
    },
  },
  Match: {
    subject: (parent: RankedCandidate, _: unknown, ctx: RequestContext) => ctx.loaders.subject.load(parent.subjectId),
    face: (parent: RankedCandidate, _: unknown, ctx: RequestContext) => ctx.loaders.face.load(parent.faceId),
  },
  Probe: {
    vector: (parent: Probe) => parent,
    box: (parent: Probe) => parent.face?.box ?? null,
    score: (parent: Probe) => parent.face?.score ?? null,
    pose: (parent: Probe) => parent.face?.pose ?? null,
    expression: (parent: Probe) => (parent.face ? Array.from(parent.face.expression) : null),
    photo: (parent: Probe, _: unknown, ctx: RequestContext) => (parent.photoId ? ctx.loaders.photo.load(parent.photoId) : null),
    face: (parent: Probe, _: unknown, ctx: RequestContext) => (parent.faceId ? ctx.loaders.face.load(parent.faceId) : null),
    subject: (parent: Probe, _: unknown, ctx: RequestContext) => (parent.subjectId && !parent.photoId ? ctx.loaders.subject.load(parent.subjectId) : null),
  },
};
