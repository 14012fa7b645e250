/**
 * The int8 part of `npm run models:build`: every network models/int8-calibration.json calibrates is
 * quantised from its float file (models/build/<name>.onnx) into <name>.int8.onnx, in QDQ form
 * (tools/quantize/qdq.ts), and recorded in models/build/manifest.json as `<name>.int8`. Offline and
 * quick: the ranges were measured once on train photos by tools/quantize/calibrate.ts. Skipped when
 * the float file, its ranges, this code and the output are unchanged.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import onnxPkg from 'onnx-proto';
import type { BuildOptions, BuildResult } from '../tfjs-to-onnx/build-models.js';
import { folderCodeHash, sha256 } from '../tfjs-to-onnx/fingerprint.js';
import { isBuilt, readManifest, withEntry, writeFileAtomic, writeManifest, type ManifestEntry } from '../tfjs-to-onnx/manifest.js';
import { defaultCalibrationPath, readCalibration, type CalibrationFile } from './calibration.js';
import { quantiseQdq } from './qdq.js';
import { INT8_NETWORKS, type NetworkName } from '../../src/inference/networks.js';

const { onnx } = onnxPkg;

const QUANTISER_VERSION = '1';

export function int8ModelName(name: string): string {
  return `${name}.int8`;
}

/** The float network `floatBytes` with int8 weights and activations (the calibrated `name`). */
export function quantiseNetwork(floatBytes: Uint8Array, calibration: CalibrationFile, name: string): Uint8Array {
  const model = onnx.ModelProto.decode(floatBytes);
  const { ranges, keepFloat } = calibration.networks[name];
  quantiseQdq(model, ranges, new Set(keepFloat));
  model.docString = `${model.docString ?? ''} | int8 QDQ: weights per channel, activations calibrated on LFW train photos (face3d tools/quantize)`.trim();
  return onnx.ModelProto.encode(model).finish();
}

function int8Entry(floatEntry: ManifestEntry, sourceHash: string, converterHash: string, bytes: Uint8Array): ManifestEntry {
  return {
    ...floatEntry,
    name: int8ModelName(floatEntry.name),
    file: `${int8ModelName(floatEntry.name)}.onnx`,
    description: `${floatEntry.description}; int8 (QDQ: per-channel int8 weights, uint8 activations calibrated on LFW train)`,
    opset: Math.max(floatEntry.opset, 13),
    source: { package: floatEntry.source.package, version: floatEntry.source.version, files: [floatEntry.file, 'models/int8-calibration.json'], sha256: sourceHash },
    converter: { version: QUANTISER_VERSION, sha256: converterHash },
    onnxSha256: sha256([bytes]),
  };
}

export interface Int8BuildOptions extends Omit<BuildOptions, 'configs'> {
  readonly calibrationFile?: string;
}

export async function buildInt8Models(options: Int8BuildOptions): Promise<BuildResult[]> {
  const { outDir, force = false, log = () => undefined, calibrationFile = defaultCalibrationPath() } = options;
  if (!existsSync(calibrationFile)) {
    log(`int8: no calibration at ${calibrationFile}; int8 networks not built`);
    return [];
  }
  const calibration = await readCalibration(calibrationFile);
  const converterHash = await folderCodeHash(path.dirname(fileURLToPath(import.meta.url)), QUANTISER_VERSION);
  const results: BuildResult[] = [];
  for (const [name, ranges] of Object.entries(calibration.networks)) {
    const started = performance.now();
    const floatEntry = (await readManifest(outDir)).models.find((entry) => entry.name === name);
    if (!floatEntry) throw new Error(`int8: ${name} is calibrated but was not built`);
    const floatBytes = await readFile(path.join(outDir, floatEntry.file));
    const floatHash = sha256([floatBytes]);
    if (floatHash !== ranges.floatSha256) log(`int8: ${name}'s float file changed since its calibration; quantising with the recorded ranges (run tools/quantize/calibrate.js to measure them again)`);
    const sourceHash = sha256([Buffer.from(floatHash), Buffer.from(JSON.stringify(ranges))]);
    const file = path.join(outDir, `${int8ModelName(name)}.onnx`);
    const shown = path.relative(process.cwd(), file);
    const previous = (await readManifest(outDir)).models.find((entry) => entry.name === int8ModelName(name));
    if (!force && (await isBuilt(previous, sourceHash, converterHash, file))) {
      log(`${int8ModelName(name)}: up to date (${shown})`);
      results.push({ name: int8ModelName(name), status: 'up to date', file });
      continue;
    }
    let bytes: Uint8Array;
    try {
      bytes = quantiseNetwork(floatBytes, calibration, name);
    } catch (error) {
      // Only the networks the service runs int8 must build; the others are measured, not served.
      if (INT8_NETWORKS.has(name as NetworkName)) throw error;
      log(`${int8ModelName(name)}: not built (${error instanceof Error ? error.message : String(error)}); the service runs ${name} float`);
      continue;
    }
    await writeFileAtomic(file, bytes);
    const { models } = await readManifest(outDir);
    await writeManifest(outDir, { formatVersion: 1, models: withEntry(models, int8Entry(floatEntry, sourceHash, converterHash, bytes)) });
    log(`${int8ModelName(name)}: quantised in ${((performance.now() - started) / 1000).toFixed(2)} s -> ${shown} (${(bytes.byteLength / 1e6).toFixed(1)} MB)`);
    results.push({ name: int8ModelName(name), status: 'converted', file });
  }
  return results;
}
