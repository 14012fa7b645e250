/**
 * MediaPipe FaceMesh topology: the fixed vertex order, triangle list and UV layout every face of ours
 * shares, plus named landmark groups and the left/right mirror map used for symmetry.
 *
 * Conventions (checked by test/unit/morphable/facemesh-topology.test.ts):
 * - UV: u grows to the right, v grows downwards; the layout looks like a frontal photo of the face,
 *   so the subject's right eye (`rightEye*`, vertex 33) has u < 0.5.
 * - Winding: seen from the camera every triangle is counter-clockwise (the OpenGL/glTF front face).
 *   In image coordinates (x right, y down, MediaPipe z growing away from the camera) the normal
 *   (b - a) x (c - a) therefore points to -z, towards the camera; in a right-handed y-up model frame
 *   (see `imageToModelSpace` in src/mesh/mesh.ts) it points to +z.
 * - Surface: one connected, consistently wound 2-manifold with two boundary loops, the face oval
 *   and the inner lip line (the mouth is open, the eyes are closed).
 *
 * Region index lists come from `MESH_ANNOTATIONS` of npm `@tensorflow-models/facemesh@0.0.5`
 * (dist/keypoints.js, Copyright 2020 Google LLC, Apache License 2.0); see facemesh-topology-data.ts
 * for where the UVs and triangles come from.
 */
import { FACEMESH_TRIANGLES_FLAT, FACEMESH_UV_FLAT } from './facemesh-topology-data.js';

export const FACEMESH_VERTEX_COUNT = 468;
export const FACEMESH_TRIANGLE_COUNT = 880;

/** u0, v0, u1, v1, ... in [0, 1]; shared, do not mutate. */
export const FACEMESH_UVS: Float32Array = Float32Array.from(FACEMESH_UV_FLAT);

/** a0, b0, c0, a1, ... vertex indices, counter-clockwise as seen from the camera; do not mutate. */
export const FACEMESH_TRIANGLES: Uint32Array = Uint32Array.from(FACEMESH_TRIANGLES_FLAT);

/** Single vertices worth naming. Left and right are the subject's own (right = photo's left). */
export const FACEMESH_LANDMARKS = {
  foreheadTop: 10,
  midwayBetweenEyes: 168,
  noseTip: 1,
  noseBottom: 2,
  noseRightCorner: 98,
  noseLeftCorner: 327,
  rightEyeOuterCorner: 33,
  rightEyeInnerCorner: 133,
  leftEyeOuterCorner: 263,
  leftEyeInnerCorner: 362,
  mouthRightCorner: 61,
  mouthLeftCorner: 291,
  upperLipCentre: 13,
  lowerLipCentre: 14,
  rightCheek: 205,
  leftCheek: 425,
  rightFaceEdge: 234,
  leftFaceEdge: 454,
  chin: 152,
} as const;

export type FaceRegion =
  | 'faceOval'
  | 'lipsUpperOuter'
  | 'lipsLowerOuter'
  | 'lipsUpperInner'
  | 'lipsLowerInner'
  | 'rightEyeUpper0'
  | 'rightEyeLower0'
  | 'rightEyeUpper1'
  | 'rightEyeLower1'
  | 'rightEyeUpper2'
  | 'rightEyeLower2'
  | 'rightEyeLower3'
  | 'rightEyebrowUpper'
  | 'rightEyebrowLower'
  | 'leftEyeUpper0'
  | 'leftEyeLower0'
  | 'leftEyeUpper1'
  | 'leftEyeLower1'
  | 'leftEyeUpper2'
  | 'leftEyeLower2'
  | 'leftEyeLower3'
  | 'leftEyebrowUpper'
  | 'leftEyebrowLower';

/**
 * Ordered vertex chains. `faceOval` is a closed loop starting at the forehead and running clockwise in
 * the photo; the `right*` and `left*` chains of the same name are mirror images index by index.
 */
export const FACEMESH_REGIONS: Readonly<Record<FaceRegion, readonly number[]>> = {
  faceOval: [
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152, 148,
    176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
  ],
  lipsUpperOuter: [61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291],
  lipsLowerOuter: [146, 91, 181, 84, 17, 314, 405, 321, 375, 291],
  lipsUpperInner: [78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308],
  lipsLowerInner: [78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308],
  rightEyeUpper0: [246, 161, 160, 159, 158, 157, 173],
  rightEyeLower0: [33, 7, 163, 144, 145, 153, 154, 155, 133],
  rightEyeUpper1: [247, 30, 29, 27, 28, 56, 190],
  rightEyeLower1: [130, 25, 110, 24, 23, 22, 26, 112, 243],
  rightEyeUpper2: [113, 225, 224, 223, 222, 221, 189],
  rightEyeLower2: [226, 31, 228, 229, 230, 231, 232, 233, 244],
  rightEyeLower3: [143, 111, 117, 118, 119, 120, 121, 128, 245],
  rightEyebrowUpper: [156, 70, 63, 105, 66, 107, 55, 193],
  rightEyebrowLower: [35, 124, 46, 53, 52, 65],
  leftEyeUpper0: [466, 388, 387, 386, 385, 384, 398],
  leftEyeLower0: [263, 249, 390, 373, 374, 380, 381, 382, 362],
  leftEyeUpper1: [467, 260, 259, 257, 258, 286, 414],
  leftEyeLower1: [359, 255, 339, 254, 253, 252, 256, 341, 463],
  leftEyeUpper2: [342, 445, 444, 443, 442, 441, 413],
  leftEyeLower2: [446, 261, 448, 449, 450, 451, 452, 453, 464],
  leftEyeLower3: [372, 340, 346, 347, 348, 349, 350, 357, 465],
  leftEyebrowUpper: [383, 300, 293, 334, 296, 336, 285, 417],
  leftEyebrowLower: [265, 353, 276, 283, 282, 295],
};

/**
 * For each vertex, the vertex whose UV is nearest to its own mirrored about u = 0.5. The FaceMesh
 * layout is symmetric to about 1e-3 in UV, so this recovers the left/right pairs without a table.
 */
export function mirrorIndexFromUvs(uvs: Float32Array): Uint16Array {
  const count = uvs.length / 2;
  const mirror = new Uint16Array(count);
  for (let i = 0; i < count; i++) {
    const targetU = 1 - uvs[2 * i];
    const targetV = uvs[2 * i + 1];
    let best = i;
    let bestDistance = Infinity;
    for (let j = 0; j < count; j++) {
      const du = uvs[2 * j] - targetU;
      const dv = uvs[2 * j + 1] - targetV;
      const distance = du * du + dv * dv;
      if (distance < bestDistance) {
        bestDistance = distance;
        best = j;
      }
    }
    mirror[i] = best;
  }
  return mirror;
}

/** FACEMESH_MIRROR[i] is the left/right counterpart of vertex i (itself on the midline); an involution. */
export const FACEMESH_MIRROR: Uint16Array = mirrorIndexFromUvs(FACEMESH_UVS);

/** Vertices on the symmetry plane (their own mirror), in ascending index order. */
export const FACEMESH_MIDLINE: readonly number[] = Array.from(FACEMESH_MIRROR.keys()).filter(
  (i) => FACEMESH_MIRROR[i] === i,
);
