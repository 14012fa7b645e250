/**
 * The Subjects page: the list (search, pages loaded as it scrolls into view, or by the "Load more"
 * button), a form to create one, and the selected subject's details.
 */
import { describeError } from './api.js';
import type { AppContext, View } from './context.js';
import { announce, h } from './dom.js';
import { CREATE_SUBJECT, SUBJECTS, type SubjectPage, type SubjectSummary } from './queries.js';
import { SubjectDetailView } from './subject-detail.js';

const PAGE_SIZE = 30;
const SEARCH_DELAY_MS = 250;

export class SubjectsView implements View {
  readonly element: HTMLElement;
  private readonly list = h('ul', { class: 'subject-list', id: 'subject-list', 'aria-label': 'Subjects' });
  private readonly count = h('p', { class: 'muted', 'aria-live': 'polite' });
  private readonly more = h('button', { type: 'button', class: 'load-more', hidden: true }, 'Load more');
  private readonly detailHolder = h('div', { class: 'detail-holder' });
  private readonly observer: IntersectionObserver;
  private detail: SubjectDetailView | null = null;
  private selectedId: string | null = null;
  private search = '';
  private endCursor: string | null = null;
  /** Bumped by every new search, so the answers of older ones are dropped. */
  private generation = 0;
  private loading = false;

  constructor(
    private readonly context: AppContext,
    selectedId: string | null,
  ) {
    const nameInput = h('input', { id: 'new-subject-name', required: true, maxlength: 200, autocomplete: 'off' });
    const createForm = h('form', { class: 'inline-form' }, h('label', { for: 'new-subject-name' }, 'New subject'), nameInput, h('button', { type: 'submit' }, 'Create'));
    createForm.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.create(nameInput.value.trim()).then((created) => created && (nameInput.value = ''));
    });
    const searchInput = h('input', { type: 'search', id: 'subject-search', autocomplete: 'off', placeholder: 'Name or external id' });
    let timer: ReturnType<typeof setTimeout> | undefined;
    searchInput.addEventListener('input', () => {
      clearTimeout(timer);
      timer = setTimeout(() => this.restart(searchInput.value.trim()), SEARCH_DELAY_MS);
    });
    this.more.addEventListener('click', () => void this.loadPage());
    this.element = h(
      'div',
      { class: 'subjects-page' },
      h('aside', { class: 'subjects-aside', 'aria-label': 'Subject list' }, h('h2', {}, 'Subjects'), createForm, h('div', { class: 'field' }, h('label', { for: 'subject-search' }, 'Search'), searchInput), this.count, h('div', { class: 'list-scroller' }, this.list, this.more)),
      this.detailHolder,
    );
    this.observer = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) void this.loadPage();
    });
    this.observer.observe(this.more);
    this.select(selectedId);
    this.restart('');
  }

  dispose(): void {
    this.observer.disconnect();
    this.detail?.dispose();
  }

  select(id: string | null): void {
    if (id === this.selectedId && this.detail) return;
    this.selectedId = id;
    this.detail?.dispose();
    this.detail = null;
    for (const link of this.list.querySelectorAll('a')) {
      if (link.dataset.id === id) link.setAttribute('aria-current', 'true');
      else link.removeAttribute('aria-current');
    }
    if (!id) {
      this.detailHolder.replaceChildren(h('p', { class: 'muted placeholder' }, 'Choose a subject, or create one, to enroll photos and see their face in 3D.'));
      return;
    }
    this.detail = new SubjectDetailView(this.context, id, {
      changed: (subject) => this.replaceItem(subject),
      deleted: (deletedId) => {
        this.list.querySelector(`li[data-id="${CSS.escape(deletedId)}"]`)?.remove();
        this.context.navigate('#/subjects');
      },
    });
    this.detailHolder.replaceChildren(this.detail.element);
  }

  private restart(search: string): void {
    this.search = search;
    this.endCursor = null;
    this.generation++;
    this.loading = false;
    this.list.replaceChildren();
    void this.loadPage();
  }

  private async loadPage(): Promise<void> {
    if (this.loading) return;
    this.loading = true;
    const generation = this.generation;
    try {
      const { subjects } = await this.context.api.query<{ subjects: SubjectPage }>(SUBJECTS, { first: PAGE_SIZE, after: this.endCursor, search: this.search || null });
      if (generation !== this.generation) return;
      this.list.append(...subjects.edges.map(({ node }) => this.item(node)));
      this.endCursor = subjects.pageInfo.endCursor;
      this.more.hidden = !subjects.pageInfo.hasNextPage;
      const shown = this.list.children.length;
      this.count.textContent = `${subjects.totalCount} subject${subjects.totalCount === 1 ? '' : 's'}${this.search ? ` matching “${this.search}”` : ''}${shown < subjects.totalCount ? `, ${shown} shown` : ''}`;
    } catch (error) {
      if (generation === this.generation) announce(`Could not load subjects: ${describeError(error)}`, 'error');
    } finally {
      if (generation === this.generation) this.loading = false;
    }
  }

  private item(subject: SubjectSummary): HTMLLIElement {
    const link = h('a', { href: `#/subjects/${encodeURIComponent(subject.id)}`, 'data-id': subject.id, 'aria-current': subject.id === this.selectedId ? 'true' : undefined }, h('span', { class: 'subject-name' }, subject.name), h('span', { class: 'muted' }, `${subject.photoCount} photo${subject.photoCount === 1 ? '' : 's'}`));
    return h('li', { 'data-id': subject.id }, link);
  }

  private replaceItem(subject: SubjectSummary): void {
    this.list.querySelector(`li[data-id="${CSS.escape(subject.id)}"]`)?.replaceWith(this.item(subject));
  }

  private async create(name: string): Promise<boolean> {
    if (!name) return false;
    try {
      const { createSubject } = await this.context.api.query<{ createSubject: SubjectSummary }>(CREATE_SUBJECT, { name });
      this.list.prepend(this.item(createSubject));
      announce(`Created ${createSubject.name}.`);
      this.context.navigate(`#/subjects/${encodeURIComponent(createSubject.id)}`);
      return true;
    } catch (error) {
      announce(`Could not create the subject: ${describeError(error)}`, 'error');
      return false;
    }
  }
}
