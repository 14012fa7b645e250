/** Identify: drop a photo, see the face that was searched for and who it is, ranked, or "unknown person". */
import { describeError } from './api.js';
import type { AppContext, View } from './context.js';
import { boxedPhoto, dropZone, formatSimilarity, h } from './dom.js';
import { galleryPhoto } from './photos.js';
import { IDENTIFY, type IdentifyResult, type Match } from './queries.js';
import { percent, similarityBar, thresholdText } from './results.js';

export class IdentifyView implements View {
  readonly element: HTMLElement;
  private readonly probe = h('div', { class: 'probe' });
  private readonly results = h('section', { class: 'identify-results', 'aria-live': 'polite', 'aria-labelledby': 'identify-results-title' });
  private localUrl: string | null = null;
  private generation = 0;

  constructor(private readonly context: AppContext) {
    this.element = h(
      'div',
      { class: 'identify-page' },
      h('h2', {}, 'Identify'),
      h('p', { class: 'muted' }, 'Who is this? The largest face in the photo is compared with every subject’s template.'),
      h('div', { class: 'identify-columns' }, h('div', {}, dropZone('Photo to identify', (files) => void this.identify(files[0]), { id: 'identify-input' }), this.probe), this.results),
    );
  }

  dispose(): void {
    this.generation++;
    if (this.localUrl) URL.revokeObjectURL(this.localUrl);
  }

  private async identify(file: File): Promise<void> {
    const generation = ++this.generation;
    if (this.localUrl) URL.revokeObjectURL(this.localUrl);
    this.localUrl = URL.createObjectURL(file);
    const shown = boxedPhoto(this.localUrl, `The photo to identify: ${file.name}`);
    this.probe.replaceChildren(shown.element);
    this.results.replaceChildren(h('h3', { id: 'identify-results-title' }, 'Searching…'));
    this.results.setAttribute('aria-busy', 'true');
    try {
      const { identify } = await this.context.api.upload<{ identify: IdentifyResult }>(IDENTIFY, { image: null }, new Map([['image', file]]));
      if (generation !== this.generation) return;
      shown.setBox(identify.probe.box);
      this.showResult(identify);
    } catch (error) {
      if (generation !== this.generation) return;
      this.results.replaceChildren(h('h3', { id: 'identify-results-title' }, 'Could not identify'), h('p', { class: 'error', role: 'alert' }, describeError(error)));
    } finally {
      if (generation === this.generation) this.results.removeAttribute('aria-busy');
    }
  }

  private showResult(result: IdentifyResult): void {
    const best = result.matches[0];
    const verdict = result.unknown
      ? h('div', { class: 'verdict unknown', 'data-verdict': 'unknown' }, h('strong', {}, 'Unknown person'), h('span', {}, ` — nobody in the gallery reaches the threshold${best ? ` (best: ${best.subject.name}, ${formatSimilarity(best.similarity)})` : ''}.`))
      : h('div', { class: 'verdict known', 'data-verdict': 'known' }, h('strong', {}, best.subject.name), h('span', {}, ` — similarity ${formatSimilarity(best.similarity)}`));
    this.results.replaceChildren(
      h('h3', { id: 'identify-results-title' }, 'Result'),
      verdict,
      h('p', { class: 'threshold' }, `Threshold ${thresholdText(result)}`),
      result.matches.length === 0 ? h('p', { class: 'muted' }, 'The gallery has no enrolled faces yet.') : h('ol', { class: 'matches', 'aria-label': 'Ranked candidates' }, ...result.matches.map((match) => this.matchItem(match, result.threshold))),
    );
  }

  private matchItem(match: Match, threshold: number): HTMLLIElement {
    const photo = match.face ? galleryPhoto(this.context.api, match.face.photo, `${match.subject.name}'s closest photo`).element : h('div', { class: 'boxed-photo empty' });
    return h(
      'li',
      { class: `match${match.aboveThreshold ? ' above' : ''}`, 'data-subject-id': match.subject.id },
      photo,
      h(
        'div',
        { class: 'match-text' },
        h('a', { href: `#/subjects/${encodeURIComponent(match.subject.id)}` }, `${match.rank}. ${match.subject.name}`),
        h('span', { class: 'similarity' }, `similarity ${formatSimilarity(match.similarity)}${match.aboveThreshold ? ', above the threshold' : ', below the threshold'}`),
        match.strangerChance === null ? null : h('span', { class: 'stranger-chance' }, `a stranger scores this high ${percent(match.strangerChance)} of the time`),
        similarityBar(match.similarity, threshold),
      ),
    );
  }
}
