/**
 * One subject: rename, delete, enroll photos by drag-and-drop (with live status from the
 * photoStatus subscription), its photos, and its face in 3D.
 */
import { describeError } from './api.js';
import type { AppContext, View } from './context.js';
import { announce, dropZone, h } from './dom.js';
import { PhotoCard } from './photo-card.js';
import { DELETE_SUBJECT, ENROLL, PHOTO_QUERY, RENAME_SUBJECT, SUBJECT, type Photo, type SubjectDetail, type SubjectSummary } from './queries.js';
import { MeshViewer } from './viewer3d.js';

/** How often photos still in progress are read again beside their live status. */
const RECHECK_MS = 2_000;

export interface SubjectListener {
  changed(subject: SubjectSummary): void;
  deleted(id: string): void;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  return Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));
}

export class SubjectDetailView implements View {
  readonly element = h('section', { class: 'subject-detail', 'aria-labelledby': 'subject-name' });
  private readonly cards = new Map<string, PhotoCard>();
  private readonly grid = h('ul', { class: 'photo-grid', 'aria-label': 'Photos', 'aria-live': 'polite' });
  private readonly viewer: MeshViewer;
  private readonly unsubscribes: (() => void)[] = [];
  private readonly localUrls: string[] = [];
  private subject: SubjectDetail | null = null;

  constructor(
    private readonly context: AppContext,
    private readonly id: string,
    private readonly listener: SubjectListener,
  ) {
    this.viewer = new MeshViewer(context.api, 'subject-3d');
    this.element.append(h('p', {}, 'Loading…'));
    void this.load();
  }

  dispose(): void {
    for (const unsubscribe of this.unsubscribes) unsubscribe();
    for (const url of this.localUrls) URL.revokeObjectURL(url);
    this.viewer.dispose();
  }

  private async load(): Promise<void> {
    try {
      const { subject } = await this.context.api.query<{ subject: SubjectDetail | null }>(SUBJECT, { id: this.id });
      if (!subject) {
        this.element.replaceChildren(h('p', { class: 'error', role: 'alert' }, 'This subject does not exist (any more).'));
        return;
      }
      this.subject = subject;
      this.render(subject);
    } catch (error) {
      this.element.replaceChildren(h('p', { class: 'error', role: 'alert' }, describeError(error)));
    }
  }

  private render(subject: SubjectDetail): void {
    const nameInput = h('input', { id: 'rename-input', value: subject.name, required: true, maxlength: 200, autocomplete: 'off' });
    const renameForm = h('form', { class: 'inline-form' }, h('label', { for: 'rename-input' }, 'Name'), nameInput, h('button', { type: 'submit' }, 'Rename'));
    renameForm.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.rename(nameInput.value.trim());
    });
    for (const { node } of subject.photos.edges) this.addCard(node);
    this.element.replaceChildren(
      h(
        'div',
        { class: 'detail-columns' },
        h(
          'div',
          { class: 'detail-main' },
          h('h2', { id: 'subject-name', tabindex: -1 }, subject.name),
          h('p', { class: 'muted' }, subject.externalId ? `External id: ${subject.externalId}` : `Id: ${subject.id}`),
          h('div', { class: 'subject-actions' }, renameForm, h('button', { type: 'button', class: 'danger', onclick: () => void this.remove() }, 'Delete subject')),
          h('h3', {}, 'Enroll photos'),
          dropZone(`Add photos of ${subject.name}`, (files) => void this.enroll(files), { multiple: true, id: 'enroll-input' }),
          this.grid,
        ),
        h('div', { class: 'detail-side' }, h('h3', {}, '3D face'), h('button', { type: 'button', onclick: () => this.showTemplate() }, 'Show the template'), this.viewer.element),
      ),
    );
    this.showTemplate();
  }

  private showTemplate(): void {
    if (this.subject) void this.viewer.show({ kind: 'subject', id: this.subject.id, label: `${this.subject.name}'s template (mean of the enrolled faces)` });
  }

  private addCard(photo: Photo, localUrl?: string): PhotoCard {
    const existing = this.cards.get(photo.id);
    if (existing) {
      existing.update(photo);
      return existing;
    }
    const card = new PhotoCard(this.context, photo, this.subject?.name ?? '', { show3d: (shown) => void this.viewer.show({ kind: 'face', id: shown.face!.id, label: `${this.subject?.name ?? ''}: one photo's face` }) }, localUrl);
    this.cards.set(photo.id, card);
    this.grid.prepend(card.element);
    return card;
  }

  private async rename(name: string): Promise<void> {
    if (!this.subject || !name) return;
    try {
      const { updateSubject } = await this.context.api.query<{ updateSubject: SubjectSummary }>(RENAME_SUBJECT, { id: this.subject.id, name });
      this.subject = { ...this.subject, ...updateSubject };
      this.element.querySelector('#subject-name')!.textContent = updateSubject.name;
      this.listener.changed(updateSubject);
      announce(`Renamed to ${updateSubject.name}.`);
    } catch (error) {
      announce(`Could not rename: ${describeError(error)}`, 'error');
    }
  }

  private async remove(): Promise<void> {
    if (!this.subject || !window.confirm(`Delete ${this.subject.name} with all their photos and faces? This cannot be undone.`)) return;
    try {
      await this.context.api.query(DELETE_SUBJECT, { id: this.subject.id });
      announce(`Deleted ${this.subject.name}.`);
      this.listener.deleted(this.subject.id);
    } catch (error) {
      announce(`Could not delete: ${describeError(error)}`, 'error');
    }
  }

  /** Uploads in batches the server accepts; each photo's card then follows its status live. */
  private async enroll(files: File[]): Promise<void> {
    if (!this.subject) return;
    const subjectId = this.subject.id;
    announce(`Uploading ${files.length} photo${files.length === 1 ? '' : 's'}…`);
    let uploaded = 0;
    for (const batch of chunks(files, this.context.info.maxUploadFiles)) {
      try {
        const variables = { subjectId, photos: batch.map(() => null) };
        const { enrollPhotos } = await this.context.api.upload<{ enrollPhotos: { photos: Photo[] } }>(ENROLL, variables, new Map(batch.map((file, i) => [`photos.${i}`, file])));
        const cards = enrollPhotos.photos.map((photo, i) => {
          const localUrl = URL.createObjectURL(batch[i]);
          this.localUrls.push(localUrl);
          return this.addCard(photo, localUrl);
        });
        uploaded += cards.length;
        this.follow(cards);
      } catch (error) {
        announce(`Could not upload ${batch.map((file) => file.name).join(', ')}: ${describeError(error)}`, 'error');
        return;
      }
    }
    announce(`Uploaded ${uploaded} photo${uploaded === 1 ? '' : 's'}; enrolling…`);
  }

  /**
   * Subscribes, then reads each unsettled photo now and every RECHECK_MS: the subscription starts on
   * the server some time after `watch` returns, and a photo that settles in between sends it no event.
   */
  private follow(cards: PhotoCard[]): void {
    const pending = new Map(cards.filter((card) => !card.settled).map((card) => [card.id, card]));
    if (pending.size === 0) return this.enrolled();
    const settle = (photo: Photo): void => {
      const card = pending.get(photo.id);
      if (!card) return;
      card.update(photo);
      if (!card.settled) return;
      pending.delete(photo.id);
      if (pending.size === 0) {
        stop();
        this.enrolled();
      }
    };
    const unsubscribe = this.context.feed.watch([...pending.keys()], settle, (error) => announce(`Live status lost: ${describeError(error)}`, 'error'));
    const readPending = (): void => {
      for (const id of pending.keys()) {
        this.context.api.query<{ photo: Photo | null }>(PHOTO_QUERY, { id }).then(({ photo }) => photo && settle(photo), () => undefined);
      }
    };
    const recheck = setInterval(readPending, RECHECK_MS);
    const stop = (): void => {
      clearInterval(recheck);
      unsubscribe();
    };
    this.unsubscribes.push(stop);
    readPending();
  }

  private enrolled(): void {
    const cards = [...this.cards.values()];
    const ready = cards.filter((card) => card.element.dataset.status === 'READY').length;
    const failed = cards.filter((card) => card.element.dataset.status === 'FAILED').length;
    announce(`Enrollment finished: ${ready} photo${ready === 1 ? '' : 's'} enrolled${failed > 0 ? `, ${failed} failed (see each photo)` : ''}.`);
    if (this.subject) this.listener.changed({ id: this.subject.id, name: this.subject.name, photoCount: cards.length });
    this.showTemplate();
  }
}
