import { writeFile } from 'node:fs/promises';

import sharp from 'sharp';

import type { RgbImage } from '../core/image.js';

export async function encodePng(image: RgbImage): Promise<Buffer> {
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .png()
    .toBuffer();
}

export async function savePng(image: RgbImage, path: string): Promise<void> {
  await writeFile(path, await encodePng(image));
}
