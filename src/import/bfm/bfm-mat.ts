/**
 * The Basel Face Model from MATLAB files: BFM 2009's 01_MorphableModel.mat (top-level shapeMU,
 * shapePC, shapeEV, texMU, texPC, texEV, tl; µm), the seed's trimmed BaselFaceModel_mod.mat (one
 * struct with the same fields plus faces and expMU/expPC/expEV; mm), and the seed's trimming of
 * the 2009 model done here (3DMM_model/trimBaselFace.py): mod_struct_expr.mat's vertex subset,
 * faces and x shift, and optionally 3DDFA's Model_Expression.mat for the expression basis.
 */
import { Face3dError } from '../../core/errors.js';
import type { LinearModel } from '../../morphable/bundle.js';
import { rowMajor, type MatNumeric, type MatValue } from '../matlab/mat-reader.js';
import { byteColourPerUnit, linearModel, millimetresPerUnit, scaleModel, selectVertices, zeroBasedTriangles, type ImportedModel } from './imported-model.js';

type Fields = ReadonlyMap<string, MatValue>;

function numeric(fields: Fields, name: string, where: string): MatNumeric {
  const value = fields.get(name);
  if (!value) throw new Face3dError('BAD_USER_INPUT', `${where} has no ${name}`);
  if (value.kind !== 'numeric') throw new Face3dError('BAD_USER_INPUT', `${where}: ${name} is a ${value.kind}, expected numbers`);
  return value;
}

/** The variables themselves when they hold `field`, else the first 1x1 struct variable that does. */
function modelFields(variables: Fields, field: string, what: string): { fields: Fields; where: string } {
  if (variables.has(field)) return { fields: variables, where: what };
  for (const [name, value] of variables) {
    if (value.kind === 'struct' && value.elements.length === 1 && value.elements[0].has(field)) return { fields: value.elements[0], where: `${what} (struct ${name})` };
  }
  throw new Face3dError('BAD_USER_INPUT', `${what} holds no ${field}, neither as a variable nor in a struct`);
}

/** A [T x 3] (or [3 x T]) 1-based index matrix as 0-based triangles, row by row. */
function trianglesOf(matrix: MatNumeric, vertexCount: number): Uint32Array {
  const [rows, columns] = matrix.dims;
  if (columns !== 3 && rows !== 3) throw new Face3dError('BAD_USER_INPUT', `triangle list is ${matrix.dims.join('x')}, expected T x 3`);
  // Column-major 3 x T is already one triangle after another.
  return zeroBasedTriangles(columns === 3 && rows !== 3 ? rowMajor(matrix) : matrix.data, 1, vertexCount);
}

function pcaModel(fields: Fields, prefix: 'shape' | 'tex' | 'exp', where: string): LinearModel {
  const mean = numeric(fields, `${prefix}MU`, where).data;
  return linearModel(mean, numeric(fields, `${prefix}PC`, where).data, numeric(fields, `${prefix}EV`, where).data, `${where} ${prefix}`);
}

/** BFM 2009 or the seed's trimmed model, converted to mm and 0..255. */
export function bfmFromMat(variables: Fields, what: string): ImportedModel {
  const { fields, where } = modelFields(variables, 'shapeMU', what);
  const rawShape = pcaModel(fields, 'shape', where);
  const toMillimetres = millimetresPerUnit(rawShape.mean);
  const shape = scaleModel(rawShape, toMillimetres);
  const rawTexture = pcaModel(fields, 'tex', where);
  const texture = scaleModel(rawTexture, byteColourPerUnit(rawTexture.mean));
  const vertexCount = shape.mean.length / 3;
  const triangleField = fields.has('tl') ? 'tl' : 'faces';
  const triangles = trianglesOf(numeric(fields, triangleField, where), vertexCount);
  const expression = fields.has('expPC') ? scaleModel(pcaModel(fields, 'exp', where), toMillimetres) : undefined;
  return { vertexCount, triangles, shape, texture, expression, source: `${where}: ${vertexCount} vertices, ${triangles.length / 3} triangles` };
}

/**
 * The seed's trimming of BFM 2009 (trimBaselFace.py, without forehead): keep mod_struct's
 * vertex_indices, shift x by mod_struct.tx (mm), take mod_struct.faces as the triangles, and,
 * given 3DDFA's Model_Expression.mat, the expression basis through vertex_expr_ref with expEV.
 */
export function trimLikeSeed(model: ImportedModel, modStructFile: Fields, expressionFile?: Fields): ImportedModel {
  const { fields: trim, where } = modelFields(modStructFile, 'vertex_indices', 'trim file');
  const vertices = Array.from(numeric(trim, 'vertex_indices', where).data, (v) => v - 1);
  const outside = vertices.find((v) => !Number.isInteger(v) || v < 0 || v >= model.vertexCount);
  if (outside !== undefined) throw new Face3dError('BAD_USER_INPUT', `${where}: vertex index ${outside + 1} is outside the model's ${model.vertexCount} vertices`);
  const shape = selectVertices(model.shape, vertices);
  const tx = numeric(trim, 'tx', where).data[0];
  for (let i = 0; i < shape.mean.length; i += 3) shape.mean[i] += tx;
  const triangles = trianglesOf(numeric(trim, 'faces', where), vertices.length);
  let expression: LinearModel | undefined;
  if (expressionFile) {
    const reference = numeric(trim, 'vertex_expr_ref', where).data;
    const expressionVertices = vertices.map((v) => reference[v] - 1);
    const mean = numeric(expressionFile, 'mu_exp', 'expression file').data;
    const full = linearModel(mean, numeric(expressionFile, 'w_exp', 'expression file').data, numeric(trim, 'expEV', where).data, 'expression file');
    // 3DDFA's expression basis is in the 2009 model's µm; the seed divides mean and basis (not expEV) by 1000.
    const selected = selectVertices(full, expressionVertices);
    expression = { mean: selected.mean.map((v) => v / 1000), basis: { ...selected.basis, data: selected.basis.data.map((v) => v / 1000) }, sigma: selected.sigma };
  }
  return {
    vertexCount: vertices.length,
    triangles,
    shape,
    texture: selectVertices(model.texture, vertices),
    expression,
    source: `${model.source}, trimmed as the CNN3DMM release does to ${vertices.length} vertices`,
  };
}
