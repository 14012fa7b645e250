/** One photo in a subject's gallery: the image, its face box, its status in words, its actions. */
import { describeError, ApiError } from './api.js';
import type { AppContext } from './context.js';
import { boxedPhoto, h, type BoxedPhoto } from './dom.js';
import { authorizedUrl } from './photos.js';
import type { Photo } from './queries.js';

const STATUS_WORDS: Readonly<Record<Photo['status'], string>> = {
  PENDING: 'Waiting to be processed',
  PROCESSING: 'Finding the face…',
  READY: 'Enrolled',
  FAILED: 'Not enrolled',
};

export interface PhotoActions {
  show3d(photo: Photo): void;
}

export class PhotoCard {
  readonly element: HTMLElement;
  private readonly shown: BoxedPhoto;
  private readonly status = h('p', { class: 'photo-status' });
  private readonly actions = h('div', { class: 'photo-actions' });
  private photo: Photo;

  /** `localUrl`: the dropped file itself, shown before (and instead of) downloading it back. */
  constructor(
    private readonly context: AppContext,
    photo: Photo,
    private readonly name: string,
    private readonly handlers: PhotoActions,
    localUrl?: string,
  ) {
    this.photo = photo;
    this.shown = boxedPhoto(localUrl ?? '', `${name}: ${photo.width}×${photo.height} photo`);
    if (!localUrl) authorizedUrl(context.api, photo.url).then((src) => (this.shown.image.src = src), () => undefined);
    this.element = h('li', { class: 'photo-card', 'data-photo-id': photo.id }, this.shown.element, this.status, this.actions);
    this.update(photo);
  }

  get id(): string {
    return this.photo.id;
  }

  get settled(): boolean {
    return this.photo.status === 'READY' || this.photo.status === 'FAILED';
  }

  update(photo: Photo): void {
    this.photo = photo;
    this.element.dataset.status = photo.status;
    this.shown.setBox(photo.face?.box ?? null, photo);
    const error = photo.error ? ` — ${describeError(new ApiError(photo.error.code, photo.error.message))}` : '';
    this.status.textContent = `${STATUS_WORDS[photo.status]}${error}`;
    this.actions.replaceChildren();
    if (photo.status !== 'READY') return;
    const toVerify = (side: 0 | 1) => () => {
      this.context.verifySides[side] = { kind: 'photo', photo: this.photo, subjectName: this.name };
      this.context.navigate('#/verify');
    };
    this.actions.append(
      h('button', { type: 'button', onclick: () => this.handlers.show3d(this.photo), 'aria-label': `Show this photo's face of ${this.name} in 3D` }, '3D'),
      h('button', { type: 'button', onclick: toVerify(0), 'aria-label': `Verify: use this photo of ${this.name} as photo A` }, 'Verify A'),
      h('button', { type: 'button', onclick: toVerify(1), 'aria-label': `Verify: use this photo of ${this.name} as photo B` }, 'Verify B'),
    );
  }
}
