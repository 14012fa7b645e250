/**
 * Import of the ICT-FaceKit light face model (USC ICT, MIT licence): a scan-based linear shape
 * model with 100 identity modes (weights ~ N(0, 1)) and 53 ARKit-style expression shapes (weights
 * 0..1) on one topology, plus the vertices of the Multi-PIE 68-point markup. The model is someone
 * else's data, read from a directory at run time and never copied into the project.
 *
 * Directory layout (the "import format"): `model.json` (counts, `expressionNames`, `landmarks68`),
 * `neutral.f32` (vertices x 3), `identity.f32` (modes x vertices x 3 offsets from neutral),
 * `expression.f32` (shapes x vertices x 3 offsets), float32 little-endian, centimetres, y up,
 * +z towards the viewer. Only the chosen vertices are kept (by default the 68 landmarks), so the
 * loaded model is small however large the mesh is.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Face3dError } from '../core/errors.js';
import type { LinearModel } from './bundle.js';

/** The kit's centimetres to this project's millimetres. */
export const ICT_CM_TO_MM = 10;

export interface IctManifest {
  readonly vertices: number;
  readonly identityModes: number;
  readonly expressionShapes: number;
  readonly expressionNames: readonly string[];
  readonly landmarks68: readonly number[];
}

/**
 * The model restricted to `vertices`, in millimetres. `identity` and `expression` share the
 * neutral face as mean; their basis rows are the kit's offsets (not orthonormal) and sigma is 1,
 * so coefficients are the kit's own weights and `fitJointCoefficients` fits them directly.
 */
export interface IctFaceModel {
  /** Indices into the full mesh of the kept vertices, in the order of every array below. */
  readonly vertices: Uint32Array;
  readonly identity: LinearModel;
  readonly expression: LinearModel;
  readonly expressionNames: readonly string[];
  /** Full-mesh vertex indices of the Multi-PIE / dlib 68-point markup. */
  readonly landmarks68: Uint32Array;
}

export interface IctLoadOptions {
  /** Full-mesh vertex indices to keep; default the 68 landmark vertices, in markup order. */
  readonly vertices?: readonly number[];
  /** Leading identity modes to keep; default all. */
  readonly identityModes?: number;
}

export async function loadIctFaceKit(dir: string, options: IctLoadOptions = {}): Promise<IctFaceModel> {
  const manifest = parseManifest(await readModelFile(join(dir, 'model.json')), dir);
  const vertices = Uint32Array.from(options.vertices ?? manifest.landmarks68);
  for (const v of vertices) {
    if (!Number.isInteger(v) || v >= manifest.vertices) throw new RangeError(`ICT vertex ${v} is outside 0..${manifest.vertices - 1}`);
  }
  const identityModes = options.identityModes ?? manifest.identityModes;
  if (!(Number.isInteger(identityModes) && identityModes >= 1 && identityModes <= manifest.identityModes)) {
    throw new RangeError(`identityModes must be 1..${manifest.identityModes}`);
  }
  const stride = manifest.vertices * 3;
  const [neutral, identity, expression] = await Promise.all([
    readFloats(join(dir, 'neutral.f32'), stride),
    readFloats(join(dir, 'identity.f32'), manifest.identityModes * stride),
    readFloats(join(dir, 'expression.f32'), manifest.expressionShapes * stride),
  ]);
  const mean = pickVertices(neutral, 0, vertices);
  const linearModel = (all: Float32Array, rows: number): LinearModel => {
    const cols = vertices.length * 3;
    const data = new Float32Array(rows * cols);
    for (let r = 0; r < rows; r++) data.set(pickVertices(all, r * stride, vertices), r * cols);
    return { mean, basis: { rows, cols, data }, sigma: new Float32Array(rows).fill(1) };
  };
  return {
    vertices,
    identity: linearModel(identity, identityModes),
    expression: linearModel(expression, manifest.expressionShapes),
    expressionNames: manifest.expressionNames,
    landmarks68: Uint32Array.from(manifest.landmarks68),
  };
}

/** xyz of `vertices` from the block of `all` starting at `offset`, converted to millimetres. */
function pickVertices(all: Float32Array, offset: number, vertices: Uint32Array): Float32Array {
  const out = new Float32Array(vertices.length * 3);
  vertices.forEach((v, i) => {
    for (let a = 0; a < 3; a++) out[3 * i + a] = all[offset + 3 * v + a] * ICT_CM_TO_MM;
  });
  return out;
}

function parseManifest(text: Buffer, dir: string): IctManifest {
  let json: Partial<IctManifest>;
  try {
    json = JSON.parse(text.toString('utf8')) as Partial<IctManifest>;
  } catch {
    throw new Face3dError('MODEL_UNAVAILABLE', `${dir}/model.json is not JSON`);
  }
  const count = (value: unknown): value is number => Number.isInteger(value) && (value as number) > 0;
  const { vertices, identityModes, expressionShapes, expressionNames, landmarks68 } = json;
  if (!count(vertices) || !count(identityModes) || !count(expressionShapes) || !Array.isArray(landmarks68) || landmarks68.length !== 68) {
    throw new Face3dError('MODEL_UNAVAILABLE', `${dir}/model.json lacks vertices, identityModes, expressionShapes or 68 landmarks68`);
  }
  const names = Array.isArray(expressionNames) && expressionNames.length === expressionShapes ? expressionNames : Array.from({ length: expressionShapes }, (_, i) => `expression${i}`);
  return { vertices, identityModes, expressionShapes, expressionNames: names, landmarks68 };
}

async function readModelFile(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new Face3dError('MODEL_UNAVAILABLE', `cannot read ${path}: ${(error as Error).message}`);
  }
}

/** Float32 little-endian values, copied so the array is aligned whatever the buffer's offset. */
async function readFloats(path: string, expected: number): Promise<Float32Array> {
  const bytes = await readModelFile(path);
  if (bytes.byteLength !== expected * 4) throw new Face3dError('MODEL_UNAVAILABLE', `${path} holds ${bytes.byteLength / 4} values, expected ${expected}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Float32Array.from({ length: expected }, (_, i) => view.getFloat32(4 * i, true));
}
