/**
 * Verify: two faces side by side, each a dropped photo or an enrolled photo chosen in a subject's
 * gallery ("Verify A" / "Verify B"), each with its 3D face (a dropped photo's is made from it
 * without storing it). Compared once both are set.
 */
import { describeError } from './api.js';
import type { AppContext, VerifySide, View } from './context.js';
import { boxedPhoto, dropZone, formatSimilarity, h, type BoxedPhoto } from './dom.js';
import { galleryPhoto } from './photos.js';
import { VERIFY, type VerifyResult } from './queries.js';
import { similarityBar, thresholdText } from './results.js';
import { MeshViewer } from './viewer3d.js';

const SIDE_NAMES = ['A', 'B'] as const;

export class VerifyView implements View {
  readonly element: HTMLElement;
  private readonly sides: HTMLElement[];
  private readonly shown: (BoxedPhoto | null)[] = [null, null];
  private readonly viewers: (MeshViewer | null)[] = [null, null];
  private readonly localUrls: (string | null)[] = [null, null];
  private readonly result = h('section', { class: 'verify-result', 'aria-live': 'polite', 'aria-label': 'Verification result' });
  private generation = 0;

  constructor(private readonly context: AppContext) {
    this.sides = SIDE_NAMES.map((name) => h('section', { class: 'verify-side', 'aria-label': `Photo ${name}` }));
    this.element = h(
      'div',
      { class: 'verify-page' },
      h('h2', {}, 'Verify'),
      h('p', { class: 'muted' }, 'Are these the same person? Drop a photo on each side, or choose enrolled photos with “Verify A” and “Verify B” in a subject’s gallery.'),
      this.result,
      h('div', { class: 'verify-columns' }, ...this.sides),
    );
    for (const side of [0, 1] as const) this.renderSide(side);
    void this.compare();
  }

  dispose(): void {
    this.generation++;
    for (const viewer of this.viewers) viewer?.dispose();
    for (const url of this.localUrls) if (url) URL.revokeObjectURL(url);
  }

  private renderSide(side: 0 | 1): void {
    const name = SIDE_NAMES[side];
    const chosen = this.context.verifySides[side];
    this.viewers[side]?.dispose();
    this.viewers[side] = null;
    if (this.localUrls[side]) URL.revokeObjectURL(this.localUrls[side]!);
    this.localUrls[side] = null;
    const zone = dropZone(`Choose photo ${name}`, (files) => {
      this.context.verifySides[side] = { kind: 'upload', file: files[0] };
      this.renderSide(side);
      void this.compare();
    }, { id: `verify-input-${name.toLowerCase()}` });
    const parts: HTMLElement[] = [h('h3', {}, `Photo ${name}`), zone];
    if (chosen) {
      const viewer = new MeshViewer(this.context.api, `verify-3d-${name.toLowerCase()}`);
      this.viewers[side] = viewer;
      if (chosen.kind === 'upload') {
        this.localUrls[side] = URL.createObjectURL(chosen.file);
        this.shown[side] = boxedPhoto(this.localUrls[side]!, `Photo ${name}: ${chosen.file.name}`);
        void viewer.show({ kind: 'probe', image: chosen.file, label: `Photo ${name}'s face (${chosen.file.name}, not stored)` });
      } else {
        this.shown[side] = galleryPhoto(this.context.api, chosen.photo, `Photo ${name}: ${chosen.subjectName}`);
        void viewer.show({ kind: 'face', id: chosen.photo.face!.id, label: `Photo ${name}'s face (${chosen.subjectName})` });
      }
      parts.push(this.shown[side]!.element, viewer.element);
    } else {
      this.shown[side] = null;
    }
    this.sides[side].replaceChildren(...parts);
  }

  private faceRef(side: VerifySide): Record<string, unknown> {
    return side.kind === 'upload' ? { image: null } : { photoId: side.photo.id };
  }

  private async compare(): Promise<void> {
    const [a, b] = this.context.verifySides;
    const generation = ++this.generation;
    if (!a || !b) {
      this.result.replaceChildren(h('p', { class: 'muted' }, `Choose photo ${a ? 'B' : 'A'} to compare.`));
      return;
    }
    this.result.replaceChildren(h('p', {}, 'Comparing…'));
    const files = new Map<string, File>();
    if (a.kind === 'upload') files.set('a.image', a.file);
    if (b.kind === 'upload') files.set('b.image', b.file);
    const variables = { a: this.faceRef(a), b: this.faceRef(b) };
    try {
      const { verify } = files.size > 0
        ? await this.context.api.upload<{ verify: VerifyResult }>(VERIFY, variables, files)
        : await this.context.api.query<{ verify: VerifyResult }>(VERIFY, variables);
      if (generation !== this.generation) return;
      this.shown[0]?.setBox(verify.a.box, a.kind === 'photo' ? a.photo : undefined);
      this.shown[1]?.setBox(verify.b.box, b.kind === 'photo' ? b.photo : undefined);
      this.result.replaceChildren(
        h('div', { class: `verdict ${verify.match ? 'known' : 'unknown'}`, 'data-verdict': verify.match ? 'same' : 'different' }, h('strong', {}, verify.match ? 'Same person' : 'Different people'), h('span', {}, ` — similarity ${formatSimilarity(verify.similarity)}`)),
        similarityBar(verify.similarity, verify.threshold),
        h('p', { class: 'threshold' }, `Threshold ${thresholdText(verify)}`),
      );
    } catch (error) {
      if (generation === this.generation) this.result.replaceChildren(h('p', { class: 'error', role: 'alert' }, `Could not compare: ${describeError(error)}`));
    }
  }
}
