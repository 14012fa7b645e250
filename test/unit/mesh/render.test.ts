import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';
import sharp from 'sharp';

import { Face3dError } from '../../../src/core/errors.js';
import type { RgbImage } from '../../../src/core/image.js';
import type { Mesh } from '../../../src/mesh/mesh.js';
import { savePng } from '../../../src/mesh/png.js';
import { type Rgb, projectToScreen, renderMesh } from '../../../src/mesh/render.js';
import { FACEMESH_LANDMARKS, FACEMESH_UVS } from '../../../src/morphable/facemesh-topology.js';
import { pixelAt } from '../../helpers/images.js';
import { cube, facemeshDome, patternImage, sphere, uvGradient } from '../../helpers/mesh-fixtures.js';

const BACKGROUND: Rgb = [0, 0, 0];

function coveredPixels(image: RgbImage): number {
  let covered = 0;
  for (let p = 0; p < image.width * image.height; p++) {
    if (image.data[3 * p] || image.data[3 * p + 1] || image.data[3 * p + 2]) covered++;
  }
  return covered;
}

/** Widest run of covered pixels on the middle row. */
function middleRowWidth(image: RgbImage): number {
  const y = Math.floor(image.height / 2);
  const covered = Array.from({ length: image.width }, (_, x) => pixelAt(image, x, y).some((c) => c > 0));
  return covered.lastIndexOf(true) - covered.indexOf(true) + 1;
}

const brightness = (colour: readonly number[]): number => colour[0] + colour[1] + colour[2];

/** Two overlapping squares facing the viewer: red at z = +1 (near), blue at z = -1 (far, shifted right). */
function overlappingSquares(nearFirst: boolean): Mesh {
  const square = (x0: number, z: number): number[] => [x0, -1, z, x0 + 2, -1, z, x0 + 2, 1, z, x0, 1, z];
  const near = { positions: square(-1.5, 1), colour: [255, 0, 0] };
  const far = { positions: square(-0.5, -1), colour: [0, 0, 255] };
  const [first, second] = nearFirst ? [near, far] : [far, near];
  return {
    positions: Float32Array.from([...first.positions, ...second.positions]),
    indices: Uint32Array.from([0, 1, 2, 0, 2, 3, 4, 5, 6, 4, 6, 7]),
    colors: Uint8Array.from([...Array(4).fill(first.colour).flat(), ...Array(4).fill(second.colour).flat()]),
  };
}

describe('renderMesh', () => {
  it('draws a sphere as a centred disc and leaves the corners as background', () => {
    const image = renderMesh(sphere(), { width: 100, height: 100, mode: 'shaded', background: BACKGROUND });
    expect(pixelAt(image, 50, 50)).not.toEqual(BACKGROUND);
    for (const [x, y] of [[0, 0], [99, 0], [0, 99], [99, 99]]) expect(pixelAt(image, x, y)).toEqual(BACKGROUND);
    const radius = (0.92 * 100) / 2;
    expect(coveredPixels(image) / (Math.PI * radius * radius)).toBeGreaterThan(0.95);
    expect(coveredPixels(image) / (Math.PI * radius * radius)).toBeLessThan(1.02);
  });

  it('lights the side facing the light and darkens the other', () => {
    const image = renderMesh(sphere(), { width: 100, height: 100, mode: 'shaded', light: [1, 0, 0], ambient: 0.1 });
    expect(brightness(pixelAt(image, 80, 50))).toBeGreaterThan(brightness(pixelAt(image, 20, 50)) + 200);
  });

  it('z-buffer: the near square hides the far one whatever the drawing order', () => {
    for (const nearFirst of [true, false]) {
      const image = renderMesh(overlappingSquares(nearFirst), {
        width: 100, height: 100, mode: 'colour', ambient: 1, background: BACKGROUND,
      });
      // Overlap is x in [-0.5, 0.5]: the image centre. Only the far square reaches the right edge.
      expect(pixelAt(image, 50, 50)).toEqual([255, 0, 0]);
      const rightmost = Math.max(...Array.from({ length: 100 }, (_, x) => (brightness(pixelAt(image, x, 50)) > 0 ? x : 0)));
      expect(pixelAt(image, rightmost - 2, 50)).toEqual([0, 0, 255]);
    }
  });

  it('turns the model with yaw: a cube seen on its edge is wider than seen face-on', () => {
    const options = { width: 200, height: 200, mode: 'colour', background: BACKGROUND } as const;
    const faceOn = middleRowWidth(renderMesh(cube(), options));
    const onEdge = middleRowWidth(renderMesh(cube(), { ...options, yawDeg: 45 }));
    expect(onEdge / faceOn).toBeCloseTo(Math.SQRT2, 1);
  });

  it('projects positive yaw to the right and positive pitch upwards', () => {
    const face = facemeshDome(0.5);
    const view = { width: 200, height: 200 };
    const nose = 3 * FACEMESH_LANDMARKS.noseTip;
    const straight = projectToScreen(face, view);
    const yawed = projectToScreen(face, { ...view, yawDeg: 30 });
    const pitched = projectToScreen(face, { ...view, pitchDeg: 30 });
    expect(yawed[nose]).toBeGreaterThan(straight[nose] + 10);
    expect(pitched[nose + 1]).toBeLessThan(straight[nose + 1] - 10);
  });

  it('renders a textured FaceMesh face with the texture’s colours', () => {
    const texture = patternImage(64, uvGradient);
    const face = { ...facemeshDome(), texture };
    const view = { width: 160, height: 160 };
    const image = renderMesh(face, { ...view, mode: 'textured', ambient: 1 });
    const screen = projectToScreen(face, view);
    const cheek = FACEMESH_LANDMARKS.rightCheek;
    const seen = pixelAt(image, Math.floor(screen[3 * cheek]), Math.floor(screen[3 * cheek + 1]));
    uvGradient(FACEMESH_UVS[2 * cheek], FACEMESH_UVS[2 * cheek + 1]).forEach((expected, c) => expect(Math.abs(seen[c] - expected)).toBeLessThan(6));
  });

  it('refuses modes the mesh cannot supply and bad sizes', () => {
    const bare = { positions: cube().positions, indices: cube().indices };
    expect(() => renderMesh(bare, { width: 10, height: 10, mode: 'colour' })).toThrow(Face3dError);
    expect(() => renderMesh(sphere(), { width: 10, height: 10, mode: 'textured' })).toThrow(Face3dError);
    expect(() => renderMesh(bare, { width: 0, height: 10, mode: 'shaded' })).toThrow(Face3dError);
  });
});

describe('savePng', () => {
  it('writes a PNG that decodes to the same pixels', async () => {
    const image = renderMesh(sphere(), { width: 40, height: 30, mode: 'colour' });
    const dir = await mkdtemp(join(tmpdir(), 'face3d-render-'));
    try {
      const path = join(dir, 'sphere.png');
      await savePng(image, path);
      const { data, info } = await sharp(path).raw().toBuffer({ resolveWithObject: true });
      expect([info.width, info.height, info.format]).toEqual([40, 30, 'raw']);
      expect(new Uint8Array(data)).toEqual(image.data);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
