/**
 * Caffe files → ONNX: a deploy .prototxt (the structure), a .caffemodel (the weights, matched to
 * layers by name) and optionally a mean .binaryproto (subtracted inside the graph).
 */
import { Face3dError } from '../../core/errors.js';
import { blobDims, blobValues, decodeBlob, decodeNet, parseNetText } from './caffe-proto.js';
import { foldAffines } from './fold.js';
import { buildCaffeGraph } from './net-graph.js';
import { caffeGraphToOnnx, type ConvertedCaffeModel, type MeanImage } from './to-onnx.js';

export interface CaffeFiles {
  readonly prototxt: string;
  readonly caffemodel: Uint8Array;
  readonly mean?: Uint8Array;
}

/** A mean .binaryproto as [C, H, W] (a leading batch of 1 dropped). */
export function readMeanImage(bytes: Uint8Array): MeanImage {
  const blob = decodeBlob(bytes);
  const dims = blobDims(blob);
  const chw = dims.length === 4 && dims[0] === 1 ? dims.slice(1) : dims;
  const data = blobValues(blob);
  if (chw.length !== 3 || data.length !== chw[0] * chw[1] * chw[2]) {
    throw new Face3dError('BAD_USER_INPUT', `the mean file holds ${data.length} values with dims [${dims.join(', ')}]; expected one C x H x W image`);
  }
  return { dims: chw, data };
}

export function convertCaffeModel(files: CaffeFiles): ConvertedCaffeModel {
  const graph = foldAffines(buildCaffeGraph(parseNetText(files.prototxt), decodeNet(files.caffemodel)));
  const mean = files.mean ? readMeanImage(files.mean) : undefined;
  const channelNote = mean ? 'raw pixels in the training channel order (BGR 0..255 for Caffe image nets); the mean image is subtracted inside the graph' : 'pixels exactly as the Caffe input blob took them';
  return caffeGraphToOnnx(graph, {
    mean,
    docString: `Converted from Caffe by face3d. Input ${graph.input.name}: NCHW, ${channelNote}.`,
    metadata: { 'face3d.source': 'caffe', 'face3d.input.layout': 'NCHW', 'face3d.input.meanSubtractedInGraph': String(mean !== undefined) },
  });
}
