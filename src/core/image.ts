/** A decoded photo: 8-bit RGB, row-major, 3 bytes per pixel, orientation already applied. */
export interface RgbImage {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
}

/** Axis-aligned rectangle in image pixels (x, y = top-left corner). */
export interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface Point2 {
  readonly x: number;
  readonly y: number;
}
