/**
 * Runs an original TF.js model (tfjs, CPU) and its ONNX conversion (onnxruntime-node) on the same
 * synthetic image and compares every exposed output.
 */
import { expect } from '@jest/globals';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { convertConfiguredModel, locateSourcePackage, modelConfig, sourceJsonPath } from '../../tools/tfjs-to-onnx/models.js';
import { syntheticImages } from '../../tools/tfjs-to-onnx/synthetic-input.js';
import { loadGraphModelFiles } from '../../tools/tfjs-to-onnx/weights.js';
import { maxAbs, maxAbsDiff, runOnnx, runTfjs } from '../helpers/tfjs-graphs.js';

export const BUILD_DIR = path.resolve('models', 'build');
const RELATIVE_TOLERANCE = 1e-4;

export interface OutputParity {
  readonly name: string;
  /** Which ONNX was compared: a stale models/build file fails here until `npm run models:build`. */
  readonly onnx: string;
  readonly maxAbsDiff: number;
  /** max |reference|, or the output's value range when that is wider (probabilities). */
  readonly scale: number;
}

/** The built model from models/build, or a fresh in-memory conversion when it was not built. */
export async function compareWithTfjs(name: string, seed = 7): Promise<OutputParity[]> {
  const pkg = locateSourcePackage();
  const config = modelConfig(name);
  const source = await loadGraphModelFiles(sourceJsonPath(pkg, config));
  const converted = convertConfiguredModel(config, source, pkg);
  const built = path.join(BUILD_DIR, `${name}.onnx`);
  const fromBuild = existsSync(built);
  const onnx = fromBuild ? new Uint8Array(await readFile(built)) : converted.onnx;

  const [input] = converted.inputs;
  // A network converted with its spatial size open is compared at the original's own fixed size.
  const [fixedInput] = config.openSpatialSize ? convertConfiguredModel({ ...config, openSpatialSize: false }, source, pkg).inputs : [input];
  const shape = fixedInput.shape.map((d) => (typeof d === 'number' ? d : 1)) as [number, number, number, number];
  const feeds = { [input.name]: { shape, data: syntheticImages(shape, config.inputRange, seed) } };
  const expected = await runTfjs(source, feeds, config.outputs.map((o) => o.node));
  const actual = await runOnnx(onnx, feeds, config.outputs.map((o) => o.name));

  return config.outputs.map((output, i) => {
    expect(actual[i].shape).toEqual(expected[i].shape);
    const range = output.range ? output.range[1] - output.range[0] : 0;
    return { name: output.name, onnx: fromBuild ? built : 'in-memory conversion', maxAbsDiff: maxAbsDiff(actual[i].data, expected[i].data), scale: Math.max(maxAbs(expected[i].data), range) };
  });
}

export async function expectParity(name: string): Promise<void> {
  const results = await compareWithTfjs(name);
  for (const result of results) {
    expect({ output: result.name, withinTolerance: result.maxAbsDiff <= RELATIVE_TOLERANCE * result.scale, ...result }).toMatchObject({ withinTolerance: true });
  }
}
