/** Synthetic test images: every input a test needs is made here, never read from a dataset. */
import { deflateSync } from 'node:zlib';
import sharp, { type Sharp } from 'sharp';
import type { RgbImage } from '../../src/core/image.js';
import type { ImageFormat } from '../../src/inference/decode.js';

export type Rgb = readonly [number, number, number];

export const RED: Rgb = [255, 0, 0];
export const GREEN: Rgb = [0, 255, 0];
export const BLUE: Rgb = [0, 0, 255];

/** Raw RGB pixels filled with `background`, with a `markSize` square of `mark` at the top-left. */
export function rawWithTopLeftMark(width: number, height: number, background: Rgb, mark: Rgb, markSize: number): Buffer {
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      pixels.set(x < markSize && y < markSize ? mark : background, (y * width + x) * 3);
    }
  }
  return pixels;
}

/** A sharp pipeline over raw RGB pixels, ready for `.jpeg()`, `.png()` and so on. */
export function fromRaw(pixels: Buffer, width: number, height: number, channels: 1 | 2 | 3 | 4 = 3): Sharp {
  return sharp(pixels, { raw: { width, height, channels } });
}

export function solid(width: number, height: number, colour: Rgb): Sharp {
  const [r, g, b] = colour;
  return sharp({ create: { width, height, channels: 3, background: { r, g, b } } });
}

export function pixelAt(image: RgbImage, x: number, y: number): Rgb {
  const i = (y * image.width + x) * 3;
  return [image.data[i], image.data[i + 1], image.data[i + 2]];
}

/** Largest per-channel difference: lossy codecs are compared with a tolerance. */
export function colourDistance(a: Rgb, b: Rgb): number {
  return Math.max(Math.abs(a[0] - b[0]), Math.abs(a[1] - b[1]), Math.abs(a[2] - b[2]));
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

/** CRC-32 as PNG chunks use it (zlib.crc32 needs Node 20.15; engines allow 20.9). */
export function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = CRC_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Uint8Array): Buffer {
  const typeAndData = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typeAndData));
  return Buffer.concat([length, typeAndData, crc]);
}

/**
 * A valid, tiny PNG whose IHDR declares `width`×`height` 8-bit RGB: a decompression bomb when
 * the size is huge, since only the header has to be read to learn it.
 */
export function pngDeclaringSize(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // bit depth 8, colour type RGB, deflate, no filter, no interlace
  const firstRow = deflateSync(Buffer.alloc(1 + 3 * Math.min(width, 1024)));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', firstRow),
    pngChunk('IEND', new Uint8Array(0)),
  ]);
}

/** Deterministic noise, so lossy encoders produce large files with real entropy to truncate. */
export function noise(width: number, height: number): Buffer {
  const pixels = Buffer.alloc(width * height * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 7919 + (i >> 7) * 31) % 251;
  return pixels;
}

/** An encoder for every format decode.ts accepts. */
export const IMAGE_ENCODERS: Readonly<Record<ImageFormat, (image: Sharp) => Sharp>> = {
  jpeg: (image) => image.jpeg({ quality: 95 }),
  png: (image) => image.png(),
  webp: (image) => image.webp({ quality: 95 }),
  gif: (image) => image.gif(),
  tiff: (image) => image.tiff(),
  avif: (image) => image.avif({ quality: 90 }),
};
export const IMAGE_FORMATS = Object.keys(IMAGE_ENCODERS) as ImageFormat[];
