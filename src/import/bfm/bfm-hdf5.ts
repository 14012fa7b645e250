/**
 * The Basel Face Model 2017 / 2019 (and the 2009 model re-released in the same format) from
 * their HDF5 files, written by statismo: per model `<name>/model/{mean, pcaBasis, pcaVariance}`
 * with pcaBasis [3N x K] orthonormal columns and variances (σ²), triangles in
 * `shape/representer/cells` [3 x T], 0-based; shape in mm, colour in 0..1.
 */
import h5wasm from 'h5wasm/node';
import { Face3dError } from '../../core/errors.js';
import type { LinearModel } from '../../morphable/bundle.js';
import { transpose } from '../../core/linear-algebra.js';
import { byteColourPerUnit, linearModel, millimetresPerUnit, scaleModel, zeroBasedTriangles, type ImportedModel } from './imported-model.js';

type Hdf5File = InstanceType<typeof h5wasm.File>;

interface Array2d {
  readonly dims: readonly number[];
  readonly data: Float32Array;
}

function dataset(file: Hdf5File, path: string): Array2d | undefined {
  const entry = file.get(path);
  if (!(entry instanceof h5wasm.Dataset)) return undefined;
  const value = entry.value;
  if (!ArrayBuffer.isView(value) || value instanceof DataView || value instanceof BigInt64Array || value instanceof BigUint64Array) {
    throw new Face3dError('BAD_USER_INPUT', `HDF5 dataset ${path} is not numeric`);
  }
  return { dims: entry.shape ?? [], data: value instanceof Float32Array ? value : Float32Array.from(value as ArrayLike<number>) };
}

function missing(what: string): never {
  throw new Face3dError('BAD_USER_INPUT', what);
}

function required(file: Hdf5File, path: string): Array2d {
  return dataset(file, path) ?? missing(`the HDF5 file has no dataset ${path}`);
}

/** HDF5 stores [rows x columns] row by row; one column (component) per row of ours is a transpose. */
function columnsAsRows(matrix: Array2d): Float32Array {
  const [rows, cols] = matrix.dims;
  return transpose({ rows, cols, data: matrix.data }).data;
}

function pcaModel(file: Hdf5File, name: string): LinearModel | undefined {
  const mean = dataset(file, `${name}/model/mean`);
  if (!mean) return undefined;
  const basis = required(file, `${name}/model/pcaBasis`);
  const variance = required(file, `${name}/model/pcaVariance`);
  if (basis.dims.length !== 2 || basis.dims[0] !== mean.data.length) throw new Face3dError('BAD_USER_INPUT', `${name}/model/pcaBasis is ${basis.dims.join('x')}; expected ${mean.data.length} x K`);
  return linearModel(mean.data, columnsAsRows(basis), variance.data.map(Math.sqrt), `HDF5 ${name}`);
}

export async function bfmFromHdf5(path: string): Promise<ImportedModel> {
  await h5wasm.ready;
  let file: Hdf5File;
  try {
    file = new h5wasm.File(path, 'r');
  } catch (error) {
    throw new Face3dError('BAD_USER_INPUT', `cannot open ${path} as HDF5: ${(error as Error).message}`);
  }
  try {
    const rawShape = pcaModel(file, 'shape') ?? missing(`${path} has no shape/model/mean: not a statismo (Basel Face Model 2017/2019) file`);
    const rawColour = pcaModel(file, 'color') ?? missing(`${path} has no color/model/mean`);
    const toMillimetres = millimetresPerUnit(rawShape.mean);
    const shape = scaleModel(rawShape, toMillimetres);
    const texture = scaleModel(rawColour, byteColourPerUnit(rawColour.mean));
    const rawExpression = pcaModel(file, 'expression');
    const vertexCount = shape.mean.length / 3;
    const cells = dataset(file, 'shape/representer/cells') ?? required(file, 'representer/cells');
    const triangles = zeroBasedTriangles(cells.dims[0] === 3 ? columnsAsRows(cells) : cells.data, 0, vertexCount);
    return {
      vertexCount,
      triangles,
      shape,
      texture,
      expression: rawExpression && scaleModel(rawExpression, toMillimetres),
      source: `${path}: ${vertexCount} vertices, ${triangles.length / 3} triangles${rawExpression ? `, ${rawExpression.basis.rows} expression components` : ''}`,
    };
  } finally {
    file.close();
  }
}
