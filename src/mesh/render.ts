/**
 * Small software rasteriser for previews and tests: orthographic view down -z of the model frame
 * (y up, +z towards the viewer), z-buffer, per-pixel Lambert shading of interpolated vertex normals
 * with one directional light. Back faces are lit as if they faced the viewer, so the inside of an
 * open surface still reads as a surface.
 */
import { Face3dError } from '../core/errors.js';
import type { RgbImage } from '../core/image.js';
import { type Mesh, computeBounds, computeVertexNormals, validateMesh, vertexCount } from './mesh.js';
import { rasterizeTriangle, sampleBilinear } from './raster.js';

export type RenderMode = 'shaded' | 'colour' | 'textured';
export type Rgb = readonly [number, number, number];

export interface RenderOptions extends ViewOptions {
  /** 'shaded': uniform grey; 'colour': vertex colours; 'textured': the texture through the UVs. */
  readonly mode: RenderMode;
  /** Direction towards the light, in view space (x right, y up, z towards the viewer). */
  readonly light?: readonly [number, number, number];
  /** Share of the light that reaches every surface regardless of its normal; 1 renders unlit colours. */
  readonly ambient?: number;
  readonly background?: Rgb;
}

const DEFAULT_LIGHT = [0.3, 0.5, 1] as const;
const DEFAULT_AMBIENT = 0.3;
const DEFAULT_BACKGROUND: Rgb = [24, 24, 28];
const SHADED_GREY = 210;
/** Share of the smaller image side the mesh's bounding sphere fills, whatever the rotation. */
const FILL = 0.92;

export interface ViewOptions {
  readonly width: number;
  readonly height: number;
  /** Turn about the vertical axis; positive turns the face towards the image's right. */
  readonly yawDeg?: number;
  /** Turn about the horizontal axis; positive tilts the face up. */
  readonly pitchDeg?: number;
}

type Rotation = (x: number, y: number, z: number, out: Float32Array, at: number) => void;

/** Yaw about y, then pitch about x. */
function viewRotation(yawDeg: number, pitchDeg: number): Rotation {
  const yaw = (yawDeg * Math.PI) / 180;
  const pitch = (pitchDeg * Math.PI) / 180;
  const [cy, sy, cp, sp] = [Math.cos(yaw), Math.sin(yaw), Math.cos(pitch), Math.sin(pitch)];
  return (x, y, z, out, at) => {
    const z1 = -x * sy + z * cy;
    out[at] = x * cy + z * sy;
    out[at + 1] = y * cp + z1 * sp;
    out[at + 2] = -y * sp + z1 * cp;
  };
}

/**
 * Where each vertex lands in the image: x right and y down in pixels, z towards the viewer in the
 * same pixel units. The mesh is turned about its bounding-box centre and scaled so its bounding
 * sphere fills the frame at any angle.
 */
export function projectToScreen(mesh: Mesh, view: ViewOptions): Float32Array {
  const { min, max } = computeBounds(mesh.positions);
  const centre = [0, 1, 2].map((axis) => (min[axis] + max[axis]) / 2);
  const rotate = viewRotation(view.yawDeg ?? 0, view.pitchDeg ?? 0);
  const screen = new Float32Array(mesh.positions.length);
  let radius = 0;
  for (let i = 0; i < screen.length; i += 3) {
    const [x, y, z] = [0, 1, 2].map((axis) => mesh.positions[i + axis] - centre[axis]);
    rotate(x, y, z, screen, i);
    radius = Math.max(radius, Math.hypot(x, y, z));
  }
  const scale = radius > 0 ? (FILL * Math.min(view.width, view.height)) / (2 * radius) : 1;
  for (let i = 0; i < screen.length; i += 3) {
    screen[i] = view.width / 2 + scale * screen[i];
    screen[i + 1] = view.height / 2 - scale * screen[i + 1];
    screen[i + 2] = scale * screen[i + 2];
  }
  return screen;
}

function viewNormals(mesh: Mesh, view: ViewOptions): Float32Array {
  const normals = computeVertexNormals(mesh);
  const rotate = viewRotation(view.yawDeg ?? 0, view.pitchDeg ?? 0);
  for (let i = 0; i < normals.length; i += 3) rotate(normals[i], normals[i + 1], normals[i + 2], normals, i);
  return normals;
}

function checkMode(mesh: Mesh, mode: RenderMode): void {
  if (mode === 'colour' && !mesh.colors) throw new Face3dError('BAD_USER_INPUT', "mode 'colour' needs vertex colours");
  if (mode === 'textured' && !(mesh.texture && mesh.uvs)) {
    throw new Face3dError('BAD_USER_INPUT', "mode 'textured' needs uvs and a texture");
  }
}

/** Base colour at a pixel, before lighting, written into out[0..2]. */
type Albedo = (a: number, b: number, c: number, wa: number, wb: number, wc: number, out: Float32Array) => void;

function albedoFor(mesh: Mesh, mode: RenderMode): Albedo {
  const { colors, uvs, texture } = mesh;
  if (mode === 'colour' && colors) {
    return (a, b, c, wa, wb, wc, out) => {
      for (let k = 0; k < 3; k++) out[k] = wa * colors[3 * a + k] + wb * colors[3 * b + k] + wc * colors[3 * c + k];
    };
  }
  if (mode === 'textured' && uvs && texture) {
    return (a, b, c, wa, wb, wc, out) => {
      const u = wa * uvs[2 * a] + wb * uvs[2 * b] + wc * uvs[2 * c];
      const v = wa * uvs[2 * a + 1] + wb * uvs[2 * b + 1] + wc * uvs[2 * c + 1];
      sampleBilinear(texture, u * texture.width, v * texture.height, out);
    };
  }
  return (_a, _b, _c, _wa, _wb, _wc, out) => out.fill(SHADED_GREY);
}

export function renderMesh(mesh: Mesh, options: RenderOptions): RgbImage {
  validateMesh(mesh);
  checkMode(mesh, options.mode);
  const { width, height } = options;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Face3dError('BAD_USER_INPUT', `bad render size ${width}x${height}`);
  }
  const background = options.background ?? DEFAULT_BACKGROUND;
  const ambient = options.ambient ?? DEFAULT_AMBIENT;
  const lightInput = options.light ?? DEFAULT_LIGHT;
  const lightLength = Math.hypot(...lightInput) || 1;
  const light = lightInput.map((component) => component / lightLength);

  const data = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) data.set(background, 3 * p);
  const image: RgbImage = { data, width, height };
  if (vertexCount(mesh) === 0) return image;

  const screen = projectToScreen(mesh, options);
  const normals = viewNormals(mesh, options);
  const depth = new Float32Array(width * height).fill(-Infinity);
  const albedo = albedoFor(mesh, options.mode);
  const base = new Float32Array(3);

  for (let t = 0; t < mesh.indices.length; t += 3) {
    const a = mesh.indices[t];
    const b = mesh.indices[t + 1];
    const c = mesh.indices[t + 2];
    rasterizeTriangle(
      screen[3 * a], screen[3 * a + 1], screen[3 * b], screen[3 * b + 1], screen[3 * c], screen[3 * c + 1],
      width, height,
      (px, py, wa, wb, wc) => {
        const z = wa * screen[3 * a + 2] + wb * screen[3 * b + 2] + wc * screen[3 * c + 2];
        const pixel = py * width + px;
        if (z <= depth[pixel]) return;
        depth[pixel] = z;
        let nx = wa * normals[3 * a] + wb * normals[3 * b] + wc * normals[3 * c];
        let ny = wa * normals[3 * a + 1] + wb * normals[3 * b + 1] + wc * normals[3 * c + 1];
        let nz = wa * normals[3 * a + 2] + wb * normals[3 * b + 2] + wc * normals[3 * c + 2];
        if (nz < 0) [nx, ny, nz] = [-nx, -ny, -nz];
        const length = Math.hypot(nx, ny, nz) || 1;
        const diffuse = Math.max(0, (nx * light[0] + ny * light[1] + nz * light[2]) / length);
        const intensity = ambient + (1 - ambient) * diffuse;
        albedo(a, b, c, wa, wb, wc, base);
        for (let k = 0; k < 3; k++) data[3 * pixel + k] = Math.min(255, Math.round(base[k] * intensity));
      },
    );
  }
  return image;
}
