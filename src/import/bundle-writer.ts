/**
 * Imported models as face3d bundles: `writeImportedBundle` writes the morphable model (custom
 * topology, per-vertex texture), `attachSeedRegressor` records a converted CNN3DMM network in the
 * bundle's manifest. Either may come first: each keeps what the other wrote.
 */
import { BUNDLE_FORMAT_VERSION, readBundleManifest, writeLinearModel, writeManifest, writeTriangles, type BundleManifest, type LinearModel } from '../morphable/bundle.js';
import { seedPreprocessing } from '../inference/seed-input.js';
import { firstComponents, type ImportedModel } from './bfm/imported-model.js';

/** The seed's 198 outputs: 99 shape then 99 texture coefficients. */
export const SEED_COMPONENTS = 99;

export interface ImportBundleOptions {
  readonly id: string;
  readonly description?: string;
  /** Shape and texture components kept (default: the seed's 99). */
  readonly components?: number;
}

/** The manifest an earlier import wrote, if any. */
function previousManifest(dir: string): Promise<BundleManifest | undefined> {
  return readBundleManifest(dir).catch(() => undefined);
}

function noExpression(shape: LinearModel): LinearModel {
  return { mean: shape.mean, basis: { rows: 0, cols: shape.mean.length, data: new Float32Array(0) }, sigma: new Float32Array(0) };
}

export async function writeImportedBundle(dir: string, model: ImportedModel, options: ImportBundleOptions): Promise<BundleManifest> {
  const components = options.components ?? SEED_COMPONENTS;
  const previous = await previousManifest(dir);
  const shape = firstComponents(model.shape, components);
  const manifest: BundleManifest = {
    format: BUNDLE_FORMAT_VERSION,
    id: options.id,
    description: options.description ?? `Imported morphable model (${model.source})`,
    vertexCount: model.vertexCount,
    topology: 'custom',
    triangles: await writeTriangles(dir, model.triangles),
    units: 'mm',
    shape: await writeLinearModel(dir, 'shape', shape),
    expression: await writeLinearModel(dir, 'expression', model.expression ?? noExpression(shape)),
    texture: { ...(await writeLinearModel(dir, 'texture', firstComponents(model.texture, components))), kind: 'per-vertex' },
    preprocessing: previous?.preprocessing ?? {},
    ...(previous?.regressor ? { regressor: previous.regressor } : {}),
    ...(previous?.calibration ? { calibration: previous.calibration } : {}),
  };
  await writeManifest(dir, manifest);
  return manifest;
}

export interface SeedRegressor {
  readonly file: string;
  readonly inputDims: readonly number[];
  readonly outputDim: number;
  readonly meanSubtractedInGraph: boolean;
}

/** Records the regressor and the seed's preprocessing in `dir`'s manifest; false when the bundle has none yet. */
export async function attachSeedRegressor(dir: string, regressor: SeedRegressor): Promise<boolean> {
  const manifest = await previousManifest(dir);
  if (!manifest) return false;
  await writeManifest(dir, {
    ...manifest,
    preprocessing: { ...seedPreprocessing(regressor.meanSubtractedInGraph) },
    regressor: { file: regressor.file, inputDim: regressor.inputDims.reduce((a, b) => a * b, 1), outputDim: regressor.outputDim, featureNetwork: 'none (image input)' },
  });
  return true;
}
