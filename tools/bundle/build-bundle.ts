/**
 * Builds a face3d morphable model from an extraction of a folder-per-person dataset, and the
 * per-person training labels the regressor learns (Tran et al.'s pooled multi-photo fits).
 *   npm run train:bundle -- --extraction .cache/extract/train --out models/lfw-facemesh-v2
 *                           [--components 99] [--expression 30] [--exclude-people <file>] [--symmetry on|off]
 * Steps: pose removed by Procrustes to the mean shape; expression basis from the within-person
 * residuals; expression removed from every photo; left-right symmetry (shape and texture);
 * robust, confidence-weighted pooling per person;
 * PCA across people for shape and texture; labels = the pooled fits' coefficients.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fitPca, project, type Pca } from '../../src/morphable/pca.js';
import { generalisedProcrustesMean } from '../../src/morphable/procrustes.js';
import { robustPool, splitHalfReliability } from '../../src/morphable/pooling.js';
import { downsampleTexture, poolTextures, type TextureSample } from '../../src/morphable/texture-space.js';
import { symmetriseTexture } from '../../src/morphable/symmetry.js';
import { expressionRemover, fitConfidence, fitPose, SHAPE_FIT_LAMBDA } from '../../src/morphable/fit.js';
import { BUNDLE_FORMAT_VERSION, writeLinearModel, writeManifest, type BundleManifest, type LinearModel } from '../../src/morphable/bundle.js';
import { FACEMESH_LANDMARKS, FACEMESH_VERTEX_COUNT } from '../../src/morphable/facemesh-topology.js';
import { imageToModelSpace } from '../../src/mesh/mesh.js';
import { featureNetworkSpec } from '../../src/inference/feature-networks.js';
import { TEXTURE_SIZE } from '../../src/inference/face-texture.js';
import { loadExtraction, MASK_BYTES, POINT_VALUES, TEXTURE_BYTES } from '../extract/cache.js';
import { readPeopleList, saveLabels, type PersonLabel } from './labels.js';

const { values } = parseArgs({
  options: {
    extraction: { type: 'string', default: '.cache/extract/train' },
    out: { type: 'string', default: 'models/lfw-facemesh-v2' },
    components: { type: 'string', default: '99' },
    expression: { type: 'string', default: '30' },
    'texture-size': { type: 'string', default: '64' },
    'exclude-people': { type: 'string' },
    labels: { type: 'string' },
    symmetry: { type: 'string', default: 'on' },
  },
});
const components = Number(values.components);
const expressionComponents = Number(values.expression);
const textureSize = Number(values['texture-size']);
const symmetric = values.symmetry !== 'off';
const bundleId = values.out!.split('/').filter(Boolean).pop()!;
const labelsPath = values.labels ?? join('.cache', 'labels', `${bundleId}.json`);
const log = (message: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${message}`);

/** Outer eye corners of an adult face are about 90 mm apart: this gives the model millimetres. */
const OUTER_EYE_DISTANCE_MM = 90;
const MIN_PHOTOS_FOR_LABEL = 2;

const excluded = new Set(values['exclude-people'] ? await readPeopleList(values['exclude-people']) : []);
const extraction = await loadExtraction(values.extraction!);
const photoRows = extraction.faces.map((entry, row) => ({ entry, row })).filter(({ entry }) => !excluded.has(entry.person));
log(`${photoRows.length} photos with a face (${excluded.size} people excluded)`);

// 1. Pose: generalised Procrustes mean of every photo, scaled to millimetres.
const modelFrame = photoRows.map(({ row }) => imageToModelSpace(extraction.points.subarray(row * POINT_VALUES, (row + 1) * POINT_VALUES)));
const gpa = generalisedProcrustesMean(modelFrame, { iterations: 10 });
const eyeDistance = (() => {
  const a = FACEMESH_LANDMARKS.rightEyeOuterCorner * 3;
  const b = FACEMESH_LANDMARKS.leftEyeOuterCorner * 3;
  return Math.hypot(gpa.mean[a] - gpa.mean[b], gpa.mean[a + 1] - gpa.mean[b + 1], gpa.mean[a + 2] - gpa.mean[b + 2]);
})();
const meanShape = gpa.mean.map((v) => (v * OUTER_EYE_DISTANCE_MM) / eyeDistance);
const fits = photoRows.map(({ row }) => fitPose(meanShape, extraction.points.subarray(row * POINT_VALUES, (row + 1) * POINT_VALUES)));
const confidences = photoRows.map(({ entry }, i) => fitConfidence(entry.confidence ?? 1, fits[i].pose.yaw));
log(`pose removed (GPA ${gpa.iterations} iterations)`);

// Photos grouped by person, in dataset order.
const people = new Map<string, number[]>();
photoRows.forEach(({ entry }, i) => people.set(entry.person, [...(people.get(entry.person) ?? []), i]));
const labelled = [...people.entries()].filter(([, photos]) => photos.length >= MIN_PHOTOS_FOR_LABEL);
log(`${people.size} people, ${labelled.length} with at least ${MIN_PHOTOS_FOR_LABEL} photos (labelled)`);

function toMatrix(rows: readonly ArrayLike<number>[]) {
  const cols = rows[0].length;
  const data = new Float64Array(rows.length * cols);
  rows.forEach((r, i) => data.set(r as ArrayLike<number>, i * cols));
  return { rows: rows.length, cols, data };
}

function asLinearModel(pca: Pca): LinearModel {
  return { mean: Float32Array.from(pca.mean), basis: { rows: pca.basis.rows, cols: pca.basis.cols, data: Float32Array.from(pca.basis.data) }, sigma: Float32Array.from(pca.sigma) };
}

// 2. Expression: PCA of within-person residuals (photo minus the person's weighted mean shape).
const residuals: Float64Array[] = [];
const residualWeights: number[] = [];
const personMeans = new Map<string, Float64Array>();
for (const [person, photos] of labelled) {
  const mean = new Float64Array(POINT_VALUES);
  const total = photos.reduce((s, i) => s + confidences[i], 0);
  for (const i of photos) for (let c = 0; c < POINT_VALUES; c++) mean[c] += (confidences[i] / total) * fits[i].aligned[c];
  personMeans.set(person, mean);
  for (const i of photos) {
    residuals.push(fits[i].aligned.map((v, c) => v - mean[c] + meanShape[c]));
    residualWeights.push(confidences[i]);
  }
}
const expressionPca = fitPca(toMatrix(residuals), { maxComponents: expressionComponents, weights: residualWeights });
const preliminaryIdentity = fitPca(toMatrix([...personMeans.values()]), { maxComponents: components });
log(`expression basis: ${expressionPca.basis.rows} components, ${(100 * expressionPca.explainedVarianceRatio.reduce((a, b) => a + b, 0)).toFixed(1)}% of within-person variance`);

// 3. Expression removed from every photo, by a joint identity + expression fit.
const expressionModel = asLinearModel(expressionPca);
const identityModel = asLinearModel(preliminaryIdentity);
expressionModel.mean.set(meanShape);
const removePreliminary = expressionRemover(meanShape, identityModel, expressionModel, SHAPE_FIT_LAMBDA, symmetric);
let neutral = fits.map((fit) => removePreliminary(fit.aligned).neutral);
log(`expression removed from every photo${symmetric ? ', shapes symmetrised' : ''}`);

// 4. Shape: robust pooling per person, PCA across people.
const poolShapes = () => labelled.map(([, photos]) => robustPool(photos.map((i) => neutral[i]), photos.map((i) => confidences[i])).pooled);
let pooledShapes = poolShapes();
let shapePca = fitPca(toMatrix(pooledShapes), { maxComponents: components });
// Second pass: expression removed again against the final identity basis, exactly as fitShape does
// at run time, so one photo's fit and a person's label are built the same way.
const removeFinal = expressionRemover(meanShape, asLinearModel(shapePca), expressionModel, SHAPE_FIT_LAMBDA, symmetric);
neutral = fits.map((fit) => removeFinal(fit.aligned).neutral);
pooledShapes = poolShapes();
shapePca = fitPca(toMatrix(pooledShapes), { maxComponents: components });
log(`shape basis: ${shapePca.basis.rows} components, ${(100 * shapePca.explainedVarianceRatio.reduce((a, b) => a + b, 0)).toFixed(1)}% of between-person variance`);

// 5. Texture: per-photo UV textures (downsampled), per-person visibility-weighted pooling, PCA.
const factor = TEXTURE_SIZE / textureSize;
const textureOf = (i: number): TextureSample => {
  const row = photoRows[i].row;
  const sample = downsampleTexture(
    extraction.textures.subarray(row * TEXTURE_BYTES, (row + 1) * TEXTURE_BYTES),
    extraction.masks.subarray(row * MASK_BYTES, (row + 1) * MASK_BYTES),
    TEXTURE_SIZE,
    factor,
  );
  return symmetric ? symmetriseTexture(sample, textureSize) : sample;
};
const textureDims = textureSize * textureSize * 3;
const allTextures = photoRows.map((_, i) => textureOf(i));
const populationTexture = poolTextures(allTextures, confidences, new Float32Array(textureDims).fill(128));
const pooledTextures = labelled.map(([, photos]) => poolTextures(photos.map((i) => allTextures[i]), photos.map((i) => confidences[i]), populationTexture));
const texturePca = fitPca(toMatrix(pooledTextures), { maxComponents: components });
log(`texture basis: ${texturePca.basis.rows} components, ${(100 * texturePca.explainedVarianceRatio.reduce((a, b) => a + b, 0)).toFixed(1)}% of between-person variance`);

// 6. Labels and their split-half reliability (people with >= 6 photos, coefficients of each half's pool).
const labels: PersonLabel[] = labelled.map(([person, photos], p) => ({
  person,
  photos: photos.map((i) => photoRows[i].entry.path),
  shape: Array.from(project(shapePca, pooledShapes[p])),
  texture: Array.from(project(texturePca, pooledTextures[p])),
}));
const shapeReliability = splitHalfReliability(
  labelled.map(([, photos]) => ({ vectors: photos.map((i) => project(shapePca, neutral[i])), confidences: photos.map((i) => confidences[i]) })),
);
const textureCoefficients = allTextures.map((t) => project(texturePca, t.texture.map((v, c) => (t.visibility[c] > 0 ? v : populationTexture[c]))));
const textureReliability = splitHalfReliability(
  labelled.map(([, photos]) => ({ vectors: photos.map((i) => textureCoefficients[i]), confidences: photos.map((i) => confidences[i]) })),
);
log(`label split-half reliability R²: shape ${shapeReliability.r2.toFixed(3)}, texture ${textureReliability.r2.toFixed(3)} (${shapeReliability.peopleUsed} people)`);

// 7. Write the bundle.
const shapeModel = asLinearModel(shapePca);
const previous = await readFile(join(values.out!, 'manifest.json'), 'utf8').then((t) => JSON.parse(t) as BundleManifest, () => undefined);
const featureSpec = featureNetworkSpec(extraction.featureNetwork);
const identityCrop = featureSpec.crop.kind === 'landmark-framing' ? { identityFraming: featureSpec.crop.framing } : {};
const manifest: BundleManifest = {
  format: BUNDLE_FORMAT_VERSION,
  id: bundleId,
  description: 'Morphable model of FaceMesh shape and UV texture built from LFW View 1 training people',
  vertexCount: FACEMESH_VERTEX_COUNT,
  topology: 'mediapipe-facemesh-468',
  units: 'mm',
  shape: await writeLinearModel(values.out!, 'shape', shapeModel),
  expression: await writeLinearModel(values.out!, 'expression', { ...expressionModel, mean: Float32Array.from(meanShape) }),
  texture: { ...(await writeLinearModel(values.out!, 'texture', asLinearModel(texturePca))), size: textureSize },
  // The identity network the extraction used: the regressor is trained on its features.
  preprocessing: { ...identityCrop, featureNetwork: extraction.featureNetwork, uvTextureSize: TEXTURE_SIZE, symmetric },
  regressor: previous?.regressor,
  calibration: previous?.calibration,
  training: {
    extraction: values.extraction,
    photos: photoRows.length,
    people: people.size,
    labelledPeople: labelled.length,
    excludedPeople: excluded.size,
    symmetric,
    shapeVarianceExplained: shapePca.explainedVarianceRatio.reduce((a, b) => a + b, 0),
    textureVarianceExplained: texturePca.explainedVarianceRatio.reduce((a, b) => a + b, 0),
    expressionVarianceExplained: expressionPca.explainedVarianceRatio.reduce((a, b) => a + b, 0),
    labelReliability: { shape: shapeReliability.r2, texture: textureReliability.r2, people: shapeReliability.peopleUsed },
  },
};
await writeManifest(values.out!, manifest);
await saveLabels(labelsPath, { bundle: bundleId, labels });
log(`bundle written to ${values.out}, labels to ${labelsPath}`);
