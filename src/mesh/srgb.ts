/**
 * sRGB <-> linear transfer functions (IEC 61966-2-1). glTF stores vertex colours linearly while our
 * colours, like photos and textures, are sRGB bytes.
 */

export function srgbByteToLinear(byte: number): number {
  const c = byte / 255;
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
}

export function linearToSrgbByte(linear: number): number {
  const l = Math.min(1, Math.max(0, linear));
  const c = l <= 0.0031308 ? l * 12.92 : 1.055 * l ** (1 / 2.4) - 0.055;
  return Math.round(c * 255);
}
