/** Gallery photos need the API key, so they are fetched once and shown through object URLs. */
import type { Api } from './api.js';
import { boxedPhoto, type BoxedPhoto } from './dom.js';
import type { Photo } from './queries.js';

const objectUrls = new Map<string, Promise<string>>();

export function authorizedUrl(api: Api, url: string): Promise<string> {
  let objectUrl = objectUrls.get(url);
  if (!objectUrl) {
    objectUrl = api.download(url).then((blob) => URL.createObjectURL(blob));
    objectUrl.catch(() => objectUrls.delete(url));
    objectUrls.set(url, objectUrl);
  }
  return objectUrl;
}

/** An enrolled photo with its face box; the image appears once downloaded. */
export function galleryPhoto(api: Api, photo: Photo, alt: string): BoxedPhoto {
  const shown = boxedPhoto('', alt);
  shown.setBox(photo.face?.box ?? null, photo);
  authorizedUrl(api, photo.url).then(
    (src) => (shown.image.src = src),
    () => (shown.image.alt = `${alt} (could not be downloaded)`),
  );
  return shown;
}
