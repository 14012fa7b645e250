/** Small DOM helpers: an element builder, the status announcer, drop zones and boxed photos. */
import type { Box } from './queries.js';

type Child = Node | string | null | undefined | false;
type Attributes = Record<string, string | number | boolean | EventListener | undefined>;

/** `h('button', { type: 'button', onclick: ... }, 'Save')`: `on*` keys are listeners, others attributes. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Attributes = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  element.append(...children.filter((child): child is Node | string => child !== null && child !== undefined && child !== false));
  return element;
}

/** Polite status messages for screen readers and sighted users alike (the #status region). */
export function announce(message: string, kind: 'info' | 'error' = 'info'): void {
  const region = document.getElementById('status');
  if (!region) return;
  region.textContent = message;
  region.dataset.kind = kind;
}

export function formatSimilarity(value: number): string {
  return value.toFixed(3);
}

/**
 * A drop target that is also a labelled file input, so it works by mouse, keyboard and touch:
 * dropping files or choosing them both call `onFiles`.
 */
export function dropZone(label: string, onFiles: (files: File[]) => void, options: { multiple?: boolean; id: string }): HTMLElement {
  const input = h('input', { type: 'file', id: options.id, accept: 'image/jpeg,image/png,image/webp', multiple: options.multiple === true, class: 'visually-hidden' });
  input.addEventListener('change', () => {
    if (input.files && input.files.length > 0) onFiles([...input.files]);
    input.value = '';
  });
  const zone = h('div', { class: 'drop-zone' }, input, h('label', { for: options.id }, h('span', { class: 'drop-title' }, label), h('span', { class: 'drop-hint' }, options.multiple ? 'Drop photos here, or choose files' : 'Drop a photo here, or choose a file')));
  zone.addEventListener('dragover', (event) => {
    event.preventDefault();
    zone.classList.add('dragging');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('dragging'));
  zone.addEventListener('drop', (event) => {
    event.preventDefault();
    zone.classList.remove('dragging');
    const files = [...(event.dataTransfer?.files ?? [])].filter((file) => file.type.startsWith('image/') || file.type === '');
    if (files.length > 0) onFiles(options.multiple ? files : files.slice(0, 1));
  });
  return zone;
}

export interface BoxedPhoto {
  readonly element: HTMLElement;
  readonly image: HTMLImageElement;
  /** Draws (or, with null, hides) the face box; `size` is the photo's size in pixels, default its natural size. */
  setBox(box: Box | null, size?: { width: number; height: number }): void;
}

/**
 * A photo with its face box drawn over it. The box is in the photo's pixels and is placed in
 * percentages of the photo's size, so it follows any scaling of the image.
 */
export function boxedPhoto(src: string, alt: string): BoxedPhoto {
  const image = h('img', { src, alt });
  const overlay = h('div', { class: 'face-box', 'aria-hidden': 'true', hidden: true });
  const element = h('div', { class: 'boxed-photo' }, image, overlay);
  const place = (box: Box, width: number, height: number): void => {
    overlay.style.left = `${(100 * box.x) / width}%`;
    overlay.style.top = `${(100 * box.y) / height}%`;
    overlay.style.width = `${(100 * box.width) / width}%`;
    overlay.style.height = `${(100 * box.height) / height}%`;
    overlay.hidden = false;
  };
  return {
    element,
    image,
    setBox(box, size) {
      overlay.hidden = true;
      if (!box) return;
      if (size) place(box, size.width, size.height);
      else if (image.complete && image.naturalWidth > 0) place(box, image.naturalWidth, image.naturalHeight);
      else image.addEventListener('load', () => place(box, image.naturalWidth, image.naturalHeight), { once: true });
    },
  };
}
