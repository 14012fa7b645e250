import type { Mesh } from '../mesh/mesh.js';
import type { RgbImage } from '../core/image.js';
import { FACEMESH_UVS } from './facemesh-topology.js';
import { neutralShape, synthesise, type Bundle } from './bundle.js';
import { sampleBilinear } from '../mesh/raster.js';
import { closeMouth } from './mouth-closure.js';

/** The 3DMM coefficients of one face: identity (α shape, β texture) and optional expression e (without one, the neutral face: mouth closed). */
export interface Coefficients {
  readonly shape: ArrayLike<number>;
  readonly texture: ArrayLike<number>;
  readonly expression?: ArrayLike<number>;
}

function clampByte(value: number): number {
  return Math.max(0, Math.min(255, Math.round(value)));
}

/**
 * The face as a mesh: vertices S = μ_S + U_S(σ_S ⊙ α) [+ the bundle's depth offset] [+ E(σ_E ⊙ e)]
 * in millimetres and the texture T = μ_T + U_T(σ_T ⊙ β), clamped to 0..255. A per-vertex texture is
 * the vertex colours themselves (the Basel Face Model's convention); a UV texture is an image in FaceMesh's UV layout, with
 * per-vertex colours sampled from it for formats and viewers without textures. Without an expression
 * the face is neutral, and a FaceMesh face's mouth is closed (mouth-closure.ts).
 */
export function reconstructMesh(bundle: Bundle, coefficients: Coefficients): Mesh {
  const identity = neutralShape(bundle, coefficients.shape);
  const positions = coefficients.expression || bundle.manifest.topology !== 'mediapipe-facemesh-468' ? identity : closeMouth(identity);
  if (coefficients.expression) {
    const offsets = synthesise(bundle.expression, coefficients.expression, new Float32Array(positions.length));
    for (let c = 0; c < positions.length; c++) positions[c] += offsets[c];
  }
  const texels = synthesise(bundle.texture, coefficients.texture);
  const textureFiles = bundle.manifest.texture;
  if (textureFiles.kind === 'per-vertex') return { positions, indices: bundle.triangles, colors: Uint8Array.from(texels, clampByte) };
  const { size } = textureFiles;
  const texture = { width: size, height: size, data: Uint8Array.from(texels, clampByte) };
  return { positions, indices: bundle.triangles, colors: colorsFromTexture(texture, FACEMESH_UVS), uvs: FACEMESH_UVS, texture };
}

/** Per-vertex colours sampled from a UV texture, for formats and viewers without textures. */
export function colorsFromTexture(texture: RgbImage, uvs: Float32Array): Uint8Array {
  const sampled = new Float32Array((uvs.length / 2) * 3);
  for (let v = 0; v < uvs.length / 2; v++) sampleBilinear(texture, uvs[v * 2] * texture.width, uvs[v * 2 + 1] * texture.height, sampled, v * 3);
  return Uint8Array.from(sampled, clampByte);
}
