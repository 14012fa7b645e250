/**
 * Issue 14, idea 2(b), measured by `fidelity3d`'s yardstick before any retraining: would the
 * ICT-FaceKit identity modes (shapes from real scans) carry a person's depth where our bundle's
 * FaceMesh-derived modes do not? On the 68-point markup (the only points the two topologies share),
 * per Yale B photo, with the real depth of `../shared/datasets/yaleb3d/dev`:
 *   - regressed: the service's neutral mesh, its 68 markup points (as fidelity3d measures it);
 *   - ict-2d: ICT identity + expression fitted to the photo's 68 points from x, y only (scaled
 *     orthographic; FaceMesh's depth unused), the neutral identity shape kept;
 *   - ict-3d: the same fit using FaceMesh's depth too;
 *   - ict-mean: ICT's neutral face (the prior's mean, no fit).
 *   npx tsc -p tsconfig.build.json && node dist/tools/ict/ict-fidelity3d.js \
 *     [--root ../shared/datasets/yaleb3d/dev] [--ict ../shared/models3d/ict-facekit] [--modes 40] [--lambda 4] [--photos all]
 */
import { parseArgs } from 'node:util';
import { readDepthDataset, type DepthMap } from '../../src/dataset/depth-dataset.js';
import { depthFidelity, type DepthPhoto } from '../../src/eval/depth-fidelity.js';
import { encodeDepthPhotos } from '../../src/eval/depth-photos.js';
import { FaceEncoder } from '../../src/inference/face-encoder.js';
import { inferenceSettings } from '../../src/inference/inference-settings.js';
import { config } from '../../src/core/config.js';
import { loadIctFaceKit } from '../../src/morphable/ict-facekit.js';
import { facemeshToDlib68 } from '../../src/morphable/facemesh-dlib68.js';
import { fitLandmarks2d, fitLandmarks3d, modelShape } from '../../src/morphable/landmark-fit.js';
import { imageToModelSpace } from '../../src/mesh/mesh.js';

const { values } = parseArgs({
  options: {
    root: { type: 'string', default: '../shared/datasets/yaleb3d/dev' },
    ict: { type: 'string', default: '../shared/models3d/ict-facekit' },
    modes: { type: 'string', default: '40' },
    lambda: { type: 'string', default: '4' },
    photos: { type: 'string', default: 'P00A+000E+00,P00A+025E+00,P00A-025E+00,P00A+000E+20,P00A+000E-20' },
    bundle: { type: 'string' },
  },
});

const ict = await loadIctFaceKit(values.ict!, { identityModes: Number(values.modes) });
const people = await readDepthDataset(values.root!, values.photos === 'all' ? undefined : values.photos!.split(','));
const encoder = await FaceEncoder.open(inferenceSettings(config()), values.bundle);
const { photos, failed } = await encodeDepthPhotos(encoder, values.root!, people);
await encoder.close();
const truths = new Map<string, DepthMap>(people.map((p) => [p.name, p.depth]));
const options = { lambda: Number(values.lambda) };
const zeros = new Float64Array(ict.expression.basis.rows);

const estimates: Record<string, (photo: (typeof photos)[number], markup: Float64Array) => Float64Array> = {
  regressed: (photo) => facemeshToDlib68(photo.mesh),
  'ict-2d': (_, markup) => {
    const xyUp = Float64Array.from({ length: 136 }, (__, k) => (k % 2 === 0 ? markup[3 * (k >> 1)] : -markup[3 * (k >> 1) + 1]));
    return modelShape(ict, fitLandmarks2d(ict, xyUp, options).identity, zeros);
  },
  'ict-3d': (_, markup) => modelShape(ict, fitLandmarks3d(ict, imageToModelSpace(Float32Array.from(markup)), options).identity, zeros),
  'ict-mean': () => Float64Array.from(ict.identity.mean),
};

const report: Record<string, unknown> = { people: people.length, photos: photos.length, failed, modes: Number(values.modes), lambda: options.lambda, bundle: encoder.bundleId };
for (const [name, estimate] of Object.entries(estimates)) {
  const cases: DepthPhoto[] = photos.map((photo) => {
    const markup = facemeshToDlib68(photo.landmarks);
    return { person: photo.person, landmarks: Float32Array.from(markup), mesh: Float32Array.from(estimate(photo, markup)) };
  });
  const { mesh, meanOfOthersMeshes, meanOfOthersRealFaces, truthDeviationRmsPx } = depthFidelity(cases, truths, { bootstrap: 1000 });
  report[name] = { mesh, meanOfOthersMeshes: meanOfOthersMeshes.rmsePx, meanOfOthersRealFaces: meanOfOthersRealFaces.rmsePx, truthDeviationRmsPx };
}
console.log(JSON.stringify(report));
