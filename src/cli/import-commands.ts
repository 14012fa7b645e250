/**
 * `face3d import caffe` and `face3d import bfm`: the CNN3DMM release (Tran et al.) and the Basel
 * Face Model as a face3d bundle, with no Python. The two commands may run in either order on the
 * same bundle folder; see the README section "Serving the original CNN3DMM model".
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { Command } from 'commander';
import { Face3dError } from '../core/errors.js';
import { convertCaffeModel } from '../import/caffe/convert.js';
import { readMat } from '../import/matlab/mat-reader.js';
import { bfmFromMat, trimLikeSeed } from '../import/bfm/bfm-mat.js';
import { bfmFromHdf5 } from '../import/bfm/bfm-hdf5.js';
import { attachSeedRegressor, SEED_COMPONENTS, writeImportedBundle } from '../import/bundle-writer.js';
import { printJsonLine } from './output.js';

async function readInput(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new Face3dError('NOT_FOUND', `cannot read ${path}: ${(error as Error).message}`);
  }
}

interface CaffeOptions {
  readonly prototxt: string;
  readonly caffemodel: string;
  readonly mean?: string;
  readonly output: string;
}

interface BfmOptions {
  readonly mat?: string;
  readonly h5?: string;
  readonly trim?: string;
  readonly expression?: string;
  readonly components: string;
  readonly id?: string;
  readonly output: string;
}

async function importCaffe(options: CaffeOptions): Promise<void> {
  const [prototxt, caffemodel, mean] = await Promise.all([readInput(options.prototxt), readInput(options.caffemodel), options.mean ? readInput(options.mean) : undefined]);
  const converted = convertCaffeModel({ prototxt: prototxt.toString('utf8'), caffemodel, mean });
  await mkdir(dirname(options.output), { recursive: true });
  await writeFile(options.output, converted.onnx);
  const [output] = converted.outputs;
  const attached = converted.outputs.length === 1 && (await attachSeedRegressor(dirname(options.output), {
    file: basename(options.output),
    inputDims: converted.input.dims,
    outputDim: output.dims.reduce((a, b) => a * b, 1),
    meanSubtractedInGraph: mean !== undefined,
  }));
  printJsonLine({ onnx: options.output, input: converted.input, outputs: converted.outputs, nodes: converted.nodes, bundleManifestUpdated: attached });
}

async function importBfm(options: BfmOptions): Promise<void> {
  if ((options.mat === undefined) === (options.h5 === undefined)) throw new Face3dError('BAD_USER_INPUT', 'give exactly one of --mat and --h5');
  if (options.trim && !options.mat) throw new Face3dError('BAD_USER_INPUT', '--trim applies to the 2009 model read with --mat');
  if (options.expression && !options.trim) throw new Face3dError('BAD_USER_INPUT', '--expression needs --trim (it maps vertices through mod_struct.vertex_expr_ref)');
  const components = Number(options.components);
  if (!Number.isInteger(components) || components < 1) throw new Face3dError('BAD_USER_INPUT', `--components must be a positive integer, got ${options.components}`);
  let model = options.h5 ? await bfmFromHdf5(options.h5) : bfmFromMat(readMat(await readInput(options.mat!)), basename(options.mat!));
  if (options.trim) {
    const expression = options.expression ? readMat(await readInput(options.expression)) : undefined;
    model = trimLikeSeed(model, readMat(await readInput(options.trim)), expression);
  }
  const manifest = await writeImportedBundle(options.output, model, { id: options.id ?? basename(options.output), components });
  printJsonLine({
    bundle: options.output,
    id: manifest.id,
    vertices: manifest.vertexCount,
    triangles: manifest.triangles?.count,
    shapeComponents: manifest.shape.components,
    textureComponents: manifest.texture.components,
    expressionComponents: manifest.expression.components,
    regressor: manifest.regressor?.file ?? null,
  });
}

export function registerImportCommands(program: Command): void {
  const command = program.command('import').description('import models from other tools as face3d bundles');

  command
    .command('caffe')
    .description('convert a Caffe network (e.g. the CNN3DMM ResNet-101) to ONNX; records it in the bundle manifest next to the output, if any')
    .requiredOption('--prototxt <file>', 'deploy network definition (deploy_network.prototxt)')
    .requiredOption('--caffemodel <file>', 'weights (3dmm_cnn_resnet_101.caffemodel)')
    .option('--mean <file>', 'mean image (mean.binaryproto), subtracted inside the ONNX graph so it takes raw BGR 0..255')
    .requiredOption('-o, --output <file>', 'ONNX file to write, e.g. models/cnn3dmm/regressor.onnx')
    .action(importCaffe);

  command
    .command('bfm')
    .description('write a Basel Face Model as a bundle (custom topology, per-vertex colours)')
    .option('--mat <file>', 'MATLAB v5 file: 01_MorphableModel.mat (BFM 2009) or the seed\'s BaselFaceModel_mod.mat')
    .option('--h5 <file>', 'Basel Face Model 2017/2019 HDF5 file')
    .option('--trim <file>', 'the seed\'s mod_struct_expr.mat: trim the 2009 model as the CNN3DMM release does')
    .option('--expression <file>', 'with --trim: 3DDFA\'s Model_Expression.mat for the expression basis')
    .option('--components <n>', 'shape and texture components to keep', String(SEED_COMPONENTS))
    .option('--id <id>', 'bundle id (default: the output folder name)')
    .requiredOption('-o, --output <dir>', 'bundle folder, e.g. models/cnn3dmm')
    .addHelpText('after', '\nExample:\n  face3d import bfm --mat 01_MorphableModel.mat --trim mod_struct_expr.mat -o models/cnn3dmm\n  face3d import caffe --prototxt deploy_network.prototxt --caffemodel 3dmm_cnn_resnet_101.caffemodel --mean mean.binaryproto -o models/cnn3dmm/regressor.onnx')
    .action(importBfm);
}
