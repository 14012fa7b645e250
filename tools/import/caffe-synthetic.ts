/**
 * Synthetic Caffe models written with face3d's own caffe.proto subset, for tests and benchmarks
 * that must not need the licensed CNN3DMM files: a layer list becomes a .prototxt text and a
 * .caffemodel binary, and `resnetLayers` makes a ResNet-101-shaped network with random weights
 * (the CNN3DMM regressor's architecture: Kaiming He's ResNet-101 with a 198-way last layer).
 */
import { encodeBlob, encodeNet, floatBytes } from '../../src/import/caffe/caffe-proto.js';
import { mulberry32, type Random } from '../../src/training/random.js';

export interface SyntheticBlob {
  readonly dims: readonly number[];
  readonly data: Float32Array;
}

export interface SyntheticLayer {
  readonly name: string;
  readonly type: string;
  readonly bottom: readonly string[];
  readonly top: readonly string[];
  /** Text-format parameters inside the layer block, e.g. `convolution_param { num_output: 8 kernel_size: 3 }`. */
  readonly params?: string;
  readonly blobs?: readonly SyntheticBlob[];
}

/** How the input is declared: the three forms deploy files use. */
export type InputStyle = 'input_dim' | 'input_shape' | 'input_layer';

export interface SyntheticNet {
  readonly name: string;
  readonly input: { readonly name: string; readonly dims: readonly [number, number, number] };
  readonly inputStyle?: InputStyle;
  readonly layers: readonly SyntheticLayer[];
}

function quoted(values: readonly string[], field: string): string {
  return values.map((v) => `${field}: "${v}"`).join(' ');
}

export function writePrototxt(net: SyntheticNet): string {
  const [c, h, w] = net.input.dims;
  const dims = [1, c, h, w];
  const header = [`name: "${net.name}"`];
  const style = net.inputStyle ?? 'input_dim';
  if (style === 'input_dim') header.push(`input: "${net.input.name}"`, ...dims.map((d) => `input_dim: ${d}`));
  if (style === 'input_shape') header.push(`input: "${net.input.name}"`, `input_shape { ${dims.map((d) => `dim: ${d}`).join(' ')} }`);
  if (style === 'input_layer') header.push(`layer { name: "input" type: "Input" top: "${net.input.name}" input_param { shape { ${dims.map((d) => `dim: ${d}`).join(' ')} } } }`);
  const layers = net.layers.map((l) => `layer {\n  name: "${l.name}"\n  type: "${l.type}"\n  ${quoted(l.bottom, 'bottom')}\n  ${quoted(l.top, 'top')}\n  ${l.params ?? ''}\n}`);
  return `${[...header, ...layers].join('\n')}\n`;
}

function blobMessage(blob: SyntheticBlob): Record<string, unknown> {
  return { shape: { dim: [...blob.dims] }, data: floatBytes(blob.data) };
}

/** The weights file; `legacy` writes pre-2015 `layers` (V1) entries instead of `layer`. */
export function writeCaffemodel(net: SyntheticNet, legacy = false): Uint8Array {
  const withBlobs = net.layers.filter((l) => (l.blobs?.length ?? 0) > 0).map((l) => ({ name: l.name, type: l.type, blobs: l.blobs!.map(blobMessage) }));
  return encodeNet(legacy ? { name: net.name, layers: withBlobs.map(({ name, blobs }) => ({ name, blobs })) } : { name: net.name, layer: withBlobs });
}

export function writeMeanBinaryproto(mean: SyntheticBlob): Uint8Array {
  const [num, channels, height, width] = mean.dims;
  return encodeBlob({ num, channels, height, width, data: floatBytes(mean.data) });
}

export function uniformBlob(random: Random, dims: readonly number[], low: number, high: number): SyntheticBlob {
  const data = new Float32Array(dims.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = low + (high - low) * random();
  return { dims, data };
}

/** A conv → BatchNorm → Scale (→ ReLU) unit in Kaiming He's naming, in place after the conv. */
function convUnit(random: Random, name: string, bnName: string, bottom: string, inChannels: number, outChannels: number, kernel: number, stride: number, relu: boolean): SyntheticLayer[] {
  // He-uniform filters and BatchNorm statistics near the ones they would see keep activations O(1) through 100 layers.
  const bound = Math.sqrt(6 / (inChannels * kernel * kernel));
  const layers: SyntheticLayer[] = [
    {
      name, type: 'Convolution', bottom: [bottom], top: [name],
      params: `convolution_param { num_output: ${outChannels} kernel_size: ${kernel} pad: ${(kernel - 1) / 2} stride: ${stride} bias_term: false }`,
      blobs: [uniformBlob(random, [outChannels, inChannels, kernel, kernel], -bound, bound)],
    },
    {
      name: `bn${bnName}`, type: 'BatchNorm', bottom: [name], top: [name], params: 'batch_norm_param { use_global_stats: true }',
      // Running sums scaled by a moving-average factor of 2, as Caffe stores them.
      blobs: [uniformBlob(random, [outChannels], -0.2, 0.2), uniformBlob(random, [outChannels], 1, 3), { dims: [1], data: Float32Array.of(2) }],
    },
    {
      name: `scale${bnName}`, type: 'Scale', bottom: [name], top: [name], params: 'scale_param { bias_term: true }',
      blobs: [uniformBlob(random, [outChannels], 0.2, 0.6), uniformBlob(random, [outChannels], -0.1, 0.1)],
    },
  ];
  if (relu) layers.push({ name: `${name}_relu`, type: 'ReLU', bottom: [name], top: [name] });
  return layers;
}

export interface ResnetOptions {
  /** Bottleneck blocks per stage; ResNet-101 has [3, 4, 23, 3]. */
  readonly blocks: readonly number[];
  /** conv1's channels (64 in ResNet-101); stage k's bottleneck has width · 2^k, its output 4× that. */
  readonly width: number;
  readonly inputSize: number;
  readonly outputs: number;
  readonly seed: number;
}

export const RESNET_101: Omit<ResnetOptions, 'seed'> = { blocks: [3, 4, 23, 3], width: 64, inputSize: 224, outputs: 198 };

/** Kaiming He's ResNet deploy layout (stride on the first 1x1, ceil-mode 3x3/2 max pool) ending in `fc_ftnew`. */
export function resnetNet(options: ResnetOptions): SyntheticNet {
  const random = mulberry32(options.seed);
  const layers: SyntheticLayer[] = [...convUnit(random, 'conv1', '_conv1', 'data', 3, options.width, 7, 2, true)];
  layers.push({ name: 'pool1', type: 'Pooling', bottom: ['conv1'], top: ['pool1'], params: 'pooling_param { kernel_size: 3 stride: 2 pool: MAX }' });
  let bottom = 'pool1';
  let channels = options.width;
  let size = Math.ceil((Math.floor((options.inputSize - 1) / 2) + 1 - 3) / 2) + 1;
  options.blocks.forEach((count, stage) => {
    const mid = options.width * 2 ** stage;
    const out = mid * 4;
    for (let b = 0; b < count; b++) {
      const id = `${stage + 2}${b === 0 ? 'a' : count > 3 ? `b${b}` : String.fromCharCode(97 + b)}`;
      const stride = b === 0 && stage > 0 ? 2 : 1;
      let shortcut = bottom;
      if (b === 0) {
        layers.push(...convUnit(random, `res${id}_branch1`, `${id}_branch1`, bottom, channels, out, 1, stride, false));
        shortcut = `res${id}_branch1`;
      }
      layers.push(...convUnit(random, `res${id}_branch2a`, `${id}_branch2a`, bottom, channels, mid, 1, stride, true));
      layers.push(...convUnit(random, `res${id}_branch2b`, `${id}_branch2b`, `res${id}_branch2a`, mid, mid, 3, 1, true));
      layers.push(...convUnit(random, `res${id}_branch2c`, `${id}_branch2c`, `res${id}_branch2b`, mid, out, 1, 1, false));
      layers.push({ name: `res${id}`, type: 'Eltwise', bottom: [shortcut, `res${id}_branch2c`], top: [`res${id}`] });
      layers.push({ name: `res${id}_relu`, type: 'ReLU', bottom: [`res${id}`], top: [`res${id}`] });
      bottom = `res${id}`;
      channels = out;
    }
    if (stage > 0) size = Math.floor((size - 1) / 2) + 1;
  });
  layers.push({ name: 'pool5', type: 'Pooling', bottom: [bottom], top: ['pool5'], params: `pooling_param { kernel_size: ${size} stride: 1 pool: AVE }` });
  const bound = Math.sqrt(3 / channels);
  layers.push({
    name: 'fc_ftnew', type: 'InnerProduct', bottom: ['pool5'], top: ['fc_ftnew'], params: `inner_product_param { num_output: ${options.outputs} }`,
    blobs: [uniformBlob(random, [options.outputs, channels], -bound, bound), uniformBlob(random, [options.outputs], -0.1, 0.1)],
  });
  return { name: 'ResNet-101-synthetic', input: { name: 'data', dims: [3, options.inputSize, options.inputSize] }, layers };
}
