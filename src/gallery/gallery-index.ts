/**
 * The in-memory side of the gallery for one 3DMM bundle: every enrolled face's identity vector
 * and every subject's template (the mean of its faces' unit vectors, as in the paper, weighted by
 * each face's quality at enrollment), each in a
 * {@link VectorIndex} (exact while small, HNSW from its threshold on). Vectors of other bundles
 * are refused, never compared.
 */
import { Face3dError } from '../core/errors.js';
import { meanTemplate } from '../core/vector.js';
import { VectorIndex, type VectorIndexOptions } from '../search/vector-index.js';
import type { Candidate, MatchMode } from '../store/records.js';

export interface BundleVector {
  readonly bundleId: string;
  /** [α, β] side by side: the identity vector compared by cosine. */
  readonly vector: Float32Array;
}

export interface IndexedFace extends BundleVector {
  readonly faceId: string;
  readonly subjectId: string;
  /** The face's weight in its subject's template (its quality score at enrollment); 1 when not given. */
  readonly weight?: number;
}

export class GalleryIndex {
  private readonly faces: VectorIndex;
  private readonly templates: VectorIndex;
  private readonly facesOfSubject = new Map<string, Set<string>>();
  private readonly subjectOfFace = new Map<string, string>();
  private readonly weightOfFace = new Map<string, number>();

  constructor(
    readonly bundleId: string,
    readonly dimension: number,
    search: VectorIndexOptions = {},
  ) {
    this.faces = new VectorIndex(dimension, search);
    this.templates = new VectorIndex(dimension, search);
  }

  get faceCount(): number {
    return this.faces.size;
  }

  get subjectCount(): number {
    return this.templates.size;
  }

  addFace(face: IndexedFace): void {
    this.assertBundle(face);
    const previous = this.subjectOfFace.get(face.faceId);
    if (previous !== undefined && previous !== face.subjectId) this.removeFace(face.faceId);
    this.faces.upsert(face.faceId, face.vector);
    this.subjectOfFace.set(face.faceId, face.subjectId);
    this.weightOfFace.set(face.faceId, face.weight ?? 1);
    let faceIds = this.facesOfSubject.get(face.subjectId);
    if (!faceIds) this.facesOfSubject.set(face.subjectId, (faceIds = new Set()));
    faceIds.add(face.faceId);
    this.refreshTemplate(face.subjectId);
  }

  removeFace(faceId: string): void {
    const subjectId = this.subjectOfFace.get(faceId);
    if (subjectId === undefined) return;
    this.faces.remove(faceId);
    this.subjectOfFace.delete(faceId);
    this.weightOfFace.delete(faceId);
    this.facesOfSubject.get(subjectId)?.delete(faceId);
    this.refreshTemplate(subjectId);
  }

  removeSubject(subjectId: string): void {
    for (const faceId of this.facesOfSubject.get(subjectId) ?? []) {
      this.faces.remove(faceId);
      this.subjectOfFace.delete(faceId);
      this.weightOfFace.delete(faceId);
    }
    this.facesOfSubject.delete(subjectId);
    this.templates.remove(subjectId);
  }

  /** The subject's template (unit length), or undefined while it has no enrolled face. */
  template(subjectId: string): Float32Array | undefined {
    return this.templates.get(subjectId);
  }

  /** The face's unit identity vector, or undefined when the face is not enrolled under this bundle. */
  faceVector(faceId: string): Float32Array | undefined {
    return this.faces.get(faceId);
  }

  /** The best `k` candidates for `probe`, most similar first. */
  search(probe: BundleVector, k: number, mode: MatchMode): Candidate[] {
    this.assertBundle(probe);
    if (mode === 'PHOTO') {
      return this.faces.search(probe.vector, k).map(({ id, score }) => ({ subjectId: this.subjectOfFace.get(id)!, faceId: id, similarity: score }));
    }
    return this.templates.search(probe.vector, k).map(({ id, score }) => ({
      subjectId: id,
      faceId: this.closestFace(id, probe.vector),
      similarity: score,
    }));
  }

  private closestFace(subjectId: string, vector: Float32Array): string {
    let best = '';
    let bestScore = -Infinity;
    for (const faceId of this.facesOfSubject.get(subjectId) ?? []) {
      const score = this.faces.score(faceId, vector)!;
      if (score > bestScore) [best, bestScore] = [faceId, score];
    }
    return best;
  }

  private refreshTemplate(subjectId: string): void {
    const faceIds = [...(this.facesOfSubject.get(subjectId) ?? [])];
    if (faceIds.length === 0) {
      this.facesOfSubject.delete(subjectId);
      this.templates.remove(subjectId);
      return;
    }
    this.templates.upsert(subjectId, meanTemplate(faceIds.map((faceId) => this.faces.get(faceId)!), faceIds.map((faceId) => this.weightOfFace.get(faceId)!)));
  }

  private assertBundle(vector: BundleVector): void {
    if (vector.bundleId !== this.bundleId) {
      throw new Face3dError('NOT_READY', `a vector of bundle ${vector.bundleId} cannot be compared with the gallery of bundle ${this.bundleId}`);
    }
  }
}
