import sharp, { type Metadata, type OutputInfo } from 'sharp';
import { DEFAULT_CONFIG } from '../core/config.js';
import { Face3dError } from '../core/errors.js';
import type { RgbImage } from '../core/image.js';
import { timeStage } from '../core/events.js';
import { jpegProblem, pngProblem, webpProblem } from './image-structure.js';

/** The photo formats we decode. HEIC (HEVC in HEIF) is refused: sharp's prebuilt libvips has no HEVC decoder. */
export type ImageFormat = 'jpeg' | 'png' | 'webp' | 'gif' | 'tiff' | 'avif';

export interface DecodeLimits {
  /** Refused before any parsing. */
  readonly maxBytes: number;
  /** width × height as the header declares it, refused before any pixel is decoded. */
  readonly maxPixels: number;
}

const FORMAT_NAMES: Readonly<Record<ImageFormat, string>> = {
  jpeg: 'JPEG',
  png: 'PNG',
  webp: 'WebP',
  gif: 'GIF',
  tiff: 'TIFF',
  avif: 'AVIF',
};

/** libvips' loader name for each format; AVIF is read by the HEIF loader. */
const SHARP_FORMATS: Readonly<Record<ImageFormat, string>> = {
  jpeg: 'jpeg',
  png: 'png',
  webp: 'webp',
  gif: 'gif',
  tiff: 'tiff',
  avif: 'heif',
};

/** The formats whose truncation (or damaged chunks) their container shows without decoding. */
const STRUCTURE_CHECKS: Partial<Record<ImageFormat, (bytes: Uint8Array) => string | undefined>> = { jpeg: jpegProblem, png: pngProblem, webp: webpProblem };

/** Transparent pixels become white: what an image viewer shows, and neutral for a face crop. */
const FLATTEN_BACKGROUND = '#ffffff';

function startsWith(bytes: Uint8Array, prefix: readonly number[], offset = 0): boolean {
  return bytes.length >= offset + prefix.length && prefix.every((byte, i) => bytes[offset + i] === byte);
}

function ascii(text: string): number[] {
  return [...text].map((ch) => ch.charCodeAt(0));
}

function fourCc(bytes: Uint8Array, offset: number): string {
  return String.fromCharCode(...bytes.subarray(offset, offset + 4));
}

/** An ISO-BMFF `ftyp` box whose major or compatible brands say AV1 image (AVIF), not HEVC (HEIC). */
function isAvif(bytes: Uint8Array): boolean {
  if (bytes.length < 16 || fourCc(bytes, 4) !== 'ftyp') return false;
  const boxSize = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0);
  const end = Math.min(boxSize, bytes.length);
  const brands = [fourCc(bytes, 8)];
  for (let offset = 16; offset + 4 <= end; offset += 4) brands.push(fourCc(bytes, offset));
  return brands.includes('avif') || brands.includes('avis');
}

/**
 * The format the leading bytes announce, or undefined for anything we do not accept. Sniffing
 * ourselves means SVG/PDF never reach a parser, and a truncated file of a known format is
 * reported as corrupt even when libvips can no longer tell what it was.
 */
export function detectImageFormat(bytes: Uint8Array): ImageFormat | undefined {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (startsWith(bytes, ascii('GIF87a')) || startsWith(bytes, ascii('GIF89a'))) return 'gif';
  if (startsWith(bytes, ascii('RIFF')) && startsWith(bytes, ascii('WEBP'), 8)) return 'webp';
  const tiffMagics = [ascii('II*\0'), ascii('MM\0*'), ascii('II+\0'), ascii('MM\0+')];
  if (tiffMagics.some((magic) => startsWith(bytes, magic))) return 'tiff';
  if (isAvif(bytes)) return 'avif';
  return undefined;
}

function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

function megapixels(pixels: number): string {
  return `${(pixels / 1e6).toFixed(1)} megapixels`;
}

function resolveLimits(limits: Partial<DecodeLimits>): DecodeLimits {
  return {
    maxBytes: limits.maxBytes ?? DEFAULT_CONFIG.maxImageBytes,
    maxPixels: limits.maxPixels ?? DEFAULT_CONFIG.maxImagePixels,
  };
}

function corrupt(format: ImageFormat, cause: unknown): Face3dError {
  return new Face3dError('CORRUPT_IMAGE', `the ${FORMAT_NAMES[format]} image is truncated or corrupt`, { cause });
}

/** Reads only the header: size and codec, so limits are enforced before decoding pixels. */
async function checkHeader(input: Buffer, format: ImageFormat, maxPixels: number): Promise<Metadata> {
  let metadata: Metadata;
  try {
    metadata = await sharp(input, { failOn: 'error', limitInputPixels: false }).metadata();
  } catch (error) {
    throw corrupt(format, error);
  }
  if (metadata.format !== SHARP_FORMATS[format] || !metadata.width || !metadata.height) {
    throw corrupt(format, new Error(`libvips read it as ${metadata.format} ${metadata.width}x${metadata.height}`));
  }
  if (format === 'avif' && metadata.compression !== 'av1') {
    throw new Face3dError('UNSUPPORTED_IMAGE', `unsupported image: AVIF container holds ${metadata.compression ?? 'unknown'} data, not AV1`);
  }
  const pixels = metadata.width * metadata.height;
  if (pixels > maxPixels) {
    throw new Face3dError(
      'IMAGE_TOO_LARGE',
      `image is ${metadata.width}x${metadata.height} (${megapixels(pixels)}); the limit is ${megapixels(maxPixels)}`,
    );
  }
  return metadata;
}

/** The byte limit and the format the leading bytes announce, checked before any parser sees them. */
function checkBytes(bytes: Uint8Array, maxBytes: number): { input: Buffer; format: ImageFormat } {
  if (bytes.byteLength > maxBytes) {
    throw new Face3dError('IMAGE_TOO_LARGE', `image is ${mib(bytes.byteLength)}; the limit is ${mib(maxBytes)}`);
  }
  const format = detectImageFormat(bytes);
  if (format === undefined) {
    throw new Face3dError(
      'UNSUPPORTED_IMAGE',
      `${bytes.byteLength === 0 ? 'the file is empty (0 bytes)' : 'unsupported image format'}: expected ${Object.values(FORMAT_NAMES).join(', ')}`,
    );
  }
  return { input: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), format };
}

/** What enrollment records of a photo it accepts without decoding it. */
export interface ImageHeader {
  readonly format: ImageFormat;
  /** Upright, with the EXIF orientation applied: the size {@link decodeImage} will give. */
  readonly width: number;
  readonly height: number;
}

/**
 * Checks a photo as {@link decodeImage} would, from its header and container structure only (no
 * pixel is decoded): the same limits and codes, CORRUPT_IMAGE also for a truncated JPEG, PNG or
 * WebP and a PNG chunk that fails its CRC. Damage inside compressed data is found by the one
 * decode, in the enrollment worker, which fails the photo with the same code.
 */
export async function readImageHeader(bytes: Uint8Array, limits: DecodeLimits): Promise<ImageHeader> {
  const { input, format } = checkBytes(bytes, limits.maxBytes);
  const metadata = await checkHeader(input, format, limits.maxPixels);
  const problem = STRUCTURE_CHECKS[format]?.(bytes);
  if (problem) throw corrupt(format, new Error(problem));
  return { format, width: metadata.autoOrient.width, height: metadata.autoOrient.height };
}

/**
 * Decodes a photo into 8-bit sRGB RGB with its EXIF orientation applied. Grayscale, CMYK and
 * 16-bit inputs are converted; alpha is flattened onto white; only the first frame of an
 * animated GIF or multi-page TIFF is read. Every failure is a Face3dError:
 * IMAGE_TOO_LARGE (bytes or declared pixels over the limits), UNSUPPORTED_IMAGE (not one of
 * {@link ImageFormat}), CORRUPT_IMAGE (a supported format whose data cannot be decoded).
 * A limit not given is the default one; the configured ones are the caller's (InferenceSettings.decodeLimits).
 */
export function decodeImage(bytes: Uint8Array, limits: Partial<DecodeLimits> = {}): Promise<RgbImage> {
  return timeStage('decode', () => decodeBytes(bytes, limits));
}

/**
 * The header is read on its own only where the decode cannot tell: whether an AVIF holds AV1, and
 * why a decode failed (too large, or not the format its bytes announce, before "corrupt"). libvips
 * picks its loader by the same leading bytes we sniff and checks the pixel limit from the header
 * before decoding, so a photo that decodes needs no second pass over its header (a fifth of the
 * decode's CPU on a 250² JPEG, docs/BENCHMARKS.md §53).
 */
async function decodeBytes(bytes: Uint8Array, limits: Partial<DecodeLimits>): Promise<RgbImage> {
  const { maxBytes, maxPixels } = resolveLimits(limits);
  const { input, format } = checkBytes(bytes, maxBytes);
  if (format === 'avif') await checkHeader(input, format, maxPixels);
  let decoded: { data: Buffer; info: OutputInfo };
  try {
    decoded = await sharp(input, { failOn: 'error', limitInputPixels: maxPixels })
      .autoOrient()
      .flatten({ background: FLATTEN_BACKGROUND })
      .toColourspace('srgb')
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
  } catch (error) {
    await checkHeader(input, format, maxPixels);
    throw corrupt(format, error);
  }
  const { data, info } = decoded;
  if (info.channels !== 3) throw new Face3dError('INTERNAL', `decoder produced ${info.channels} channels, expected 3`);
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height };
}
