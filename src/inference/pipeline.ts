import type { Box, Point2, RgbImage } from '../core/image.js';
import { decodeImage } from './decode.js';
import type { SquareRegion } from './crop.js';
import { centralDetection, detectFaces, detectionOver, DETECTOR_INPUT_SIZE, largestDetection, type DetectOptions } from './detector.js';
import type { Detection } from './detect-decode.js';
import { detectLandmarks, LANDMARK_INPUT_SIZE, regionFromDetection, type FaceLandmarks } from './landmarks.js';
import { openNetwork, type ImageNetwork } from './networks.js';
import { DEFAULT_FEATURE_NETWORK, FEATURE_NETWORKS, featureRegion, featureVector, openFeatureNetwork, type FeatureNetwork, type FeatureNetworkSpec } from './feature-networks.js';
import { timeStage } from '../core/events.js';
import { DEFAULT_INFERENCE_SETTINGS, type InferenceSettings } from './inference-settings.js';

/** Everything the face stages learn about one face. */
export interface AnalysedFace {
  readonly box: Box;
  readonly score: number;
  readonly keypoints: readonly Point2[];
  readonly landmarks: FaceLandmarks;
  /** The identity network's embedding (not normalised). */
  readonly features: Float32Array;
  readonly identityRegion: SquareRegion;
  /** The other faces the detector found when one face was analysed (enrollment's "several faces" check). */
  readonly otherFaces?: readonly Box[];
}

export interface FaceNetworks {
  readonly detector: ImageNetwork;
  readonly landmarks: ImageNetwork;
  /** The bundle's identity network with its crop and normalisation (feature-networks.ts). */
  readonly identity: FeatureNetwork;
}

/** `identity`: the bundle's network (manifest `preprocessing.featureNetwork`). */
export async function openFaceNetworks(settings: InferenceSettings = DEFAULT_INFERENCE_SETTINGS, identity: FeatureNetworkSpec = FEATURE_NETWORKS[DEFAULT_FEATURE_NETWORK]): Promise<FaceNetworks> {
  const [detector, landmarks, features] = await Promise.all([
    openNetwork('blazeface', DETECTOR_INPUT_SIZE, settings),
    openNetwork('facemesh', LANDMARK_INPUT_SIZE, settings),
    openFeatureNetwork(identity, settings),
  ]);
  return { detector, landmarks, identity: features };
}

export async function closeFaceNetworks(networks: FaceNetworks): Promise<void> {
  await Promise.all([networks.detector.close(), networks.landmarks.close(), networks.identity.network.close()]);
}

/** A caller-given face box stands in for a detection (the seed used datasets' boxes this way). */
export function detectionFromBox(box: Box): Detection {
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  // Level eyes assumed: the landmark stage's second pass corrects any tilt.
  const keypoints = [{ x: cx - box.width / 4, y: cy }, { x: cx + box.width / 4, y: cy }];
  return { box, score: 1, keypoints };
}

export interface AnalyseOptions extends DetectOptions {
  /** Skip detection and use this box as the face. */
  readonly faceBox?: Box;
  /** Analyse every detected face instead of only one. */
  readonly allFaces?: boolean;
  /** Which face is "the" face: the largest (default), or the one nearest the centre (centred portraits). */
  readonly select?: 'largest' | 'central';
  /**
   * Instead, the face found before at this box (a stored face found again, with the detector's
   * keypoints its landmarks start from): the detected face over it, none when no face is.
   */
  readonly over?: Box;
}

export async function analyseDetection(networks: FaceNetworks, image: RgbImage, detection: Detection): Promise<AnalysedFace> {
  const landmarks = await timeStage('landmarks', () => detectLandmarks(networks.landmarks, image, regionFromDetection(detection)));
  const region = featureRegion(networks.identity.spec, landmarks.points);
  const features = await timeStage('features', () => featureVector(networks.identity, image, region));
  return { box: detection.box, score: detection.score, keypoints: detection.keypoints, landmarks, features, identityRegion: region };
}

/** decode → detect → landmarks → identity features, for the chosen face (or every face): one pass of each network per face analysed. */
export async function analyseImage(networks: FaceNetworks, image: RgbImage, options: AnalyseOptions = {}): Promise<AnalysedFace[]> {
  let detections: Detection[];
  let otherFaces: Box[] = [];
  if (options.faceBox) {
    detections = [detectionFromBox(options.faceBox)];
  } else {
    const found = await timeStage('detect', () => detectFaces(networks.detector, image, options));
    const chosen = options.over ? detectionOver(found, options.over) : options.select === 'central' ? centralDetection(found, image.width, image.height) : largestDetection(found);
    detections = options.allFaces ? found : chosen ? [chosen] : [];
    if (!options.allFaces) otherFaces = found.filter((d) => d !== chosen).map((d) => d.box);
  }
  const faces = await Promise.all(detections.map((d) => analyseDetection(networks, image, d)));
  return otherFaces.length > 0 ? faces.map((face) => ({ ...face, otherFaces })) : faces;
}

export async function analysePhoto(networks: FaceNetworks, bytes: Uint8Array, options: AnalyseOptions = {}): Promise<{ image: RgbImage; faces: AnalysedFace[] }> {
  const image = await decodeImage(bytes);
  return { image, faces: await analyseImage(networks, image, options) };
}
