/**
 * Caffe's forward pass written out loop by loop in float64 from the parsed files, layer by layer as
 * Caffe's CPU kernels compute it (no folding, no ONNX): the reference converted models are checked
 * against. One item (batch 1), NCHW.
 */
import { blobValues, type LayerParameter, type NetParameter } from '../../src/import/caffe/caffe-proto.js';

export interface Blob {
  readonly dims: readonly number[];
  readonly data: Float64Array;
}

function pair(h: number, w: number, values: readonly number[] | number, fallback: number): [number, number] {
  if (h || w) return [h, w];
  const list = typeof values === 'number' ? (values ? [values] : []) : values;
  return list.length === 0 ? [fallback, fallback] : [list[0], list[list.length > 1 ? 1 : 0]];
}

function convolution(x: Blob, layer: LayerParameter, blobs: Float32Array[]): Blob {
  const p = layer.convolution_param!;
  const [kh, kw] = pair(p.kernel_h, p.kernel_w, p.kernel_size, 0);
  const [sh, sw] = pair(p.stride_h, p.stride_w, p.stride, 1);
  const [ph, pw] = pair(p.pad_h, p.pad_w, p.pad, 0);
  const [dh, dw] = pair(0, 0, p.dilation, 1);
  const [c, h, w] = x.dims;
  const o = p.num_output;
  const oh = Math.floor((h + 2 * ph - (dh * (kh - 1) + 1)) / sh) + 1;
  const ow = Math.floor((w + 2 * pw - (dw * (kw - 1) + 1)) / sw) + 1;
  const cg = c / p.group;
  const og = o / p.group;
  const out = new Float64Array(o * oh * ow);
  for (let f = 0; f < o; f++) {
    const g = Math.floor(f / og);
    for (let y = 0; y < oh; y++) {
      for (let xx = 0; xx < ow; xx++) {
        let sum = p.bias_term ? blobs[1][f] : 0;
        for (let ci = 0; ci < cg; ci++) {
          for (let i = 0; i < kh; i++) {
            const iy = y * sh - ph + i * dh;
            if (iy < 0 || iy >= h) continue;
            for (let j = 0; j < kw; j++) {
              const ix = xx * sw - pw + j * dw;
              if (ix < 0 || ix >= w) continue;
              sum += blobs[0][((f * cg + ci) * kh + i) * kw + j] * x.data[((g * cg + ci) * h + iy) * w + ix];
            }
          }
        }
        out[(f * oh + y) * ow + xx] = sum;
      }
    }
  }
  return { dims: [o, oh, ow], data: out };
}

function perChannel(x: Blob, fn: (value: number, channel: number) => number): Blob {
  const plane = x.data.length / x.dims[0];
  return { dims: x.dims, data: x.data.map((v, i) => fn(v, Math.floor(i / plane))) };
}

/** Caffe's PoolingLayer::Forward_cpu, including its output size rule and AVE divisor. */
function pooling(x: Blob, layer: LayerParameter): Blob {
  const p = layer.pooling_param!;
  const [c, h, w] = x.dims;
  let [kh, kw] = pair(p.kernel_h, p.kernel_w, p.kernel_size, 0);
  let [sh, sw] = pair(p.stride_h, p.stride_w, p.stride, 1);
  let [ph, pw] = pair(p.pad_h, p.pad_w, p.pad, 0);
  if (p.global_pooling) [kh, kw, sh, sw, ph, pw] = [h, w, 1, 1, 0, 0];
  const round = p.round_mode === 'FLOOR' ? Math.floor : Math.ceil;
  let oh = round((h + 2 * ph - kh) / sh) + 1;
  let ow = round((w + 2 * pw - kw) / sw) + 1;
  if (ph || pw) {
    if ((oh - 1) * sh >= h + ph) oh--;
    if ((ow - 1) * sw >= w + pw) ow--;
  }
  const out = new Float64Array(c * oh * ow);
  for (let ch = 0; ch < c; ch++) {
    for (let y = 0; y < oh; y++) {
      for (let xx = 0; xx < ow; xx++) {
        let hs = y * sh - ph;
        let ws = xx * sw - pw;
        let he = Math.min(hs + kh, h + ph);
        let we = Math.min(ws + kw, w + pw);
        const size = (he - hs) * (we - ws);
        hs = Math.max(hs, 0);
        ws = Math.max(ws, 0);
        he = Math.min(he, h);
        we = Math.min(we, w);
        let acc = p.pool === 'MAX' ? -Infinity : 0;
        for (let i = hs; i < he; i++) {
          for (let j = ws; j < we; j++) {
            const v = x.data[(ch * h + i) * w + j];
            acc = p.pool === 'MAX' ? Math.max(acc, v) : acc + v;
          }
        }
        out[(ch * oh + y) * ow + xx] = p.pool === 'MAX' ? acc : acc / size;
      }
    }
  }
  return { dims: [c, oh, ow], data: out };
}

function innerProduct(x: Blob, layer: LayerParameter, blobs: Float32Array[]): Blob {
  const p = layer.inner_product_param!;
  const k = x.data.length;
  const out = new Float64Array(p.num_output);
  for (let n = 0; n < p.num_output; n++) {
    let sum = p.bias_term ? blobs[1][n] : 0;
    for (let i = 0; i < k; i++) sum += (p.transpose ? blobs[0][i * p.num_output + n] : blobs[0][n * k + i]) * x.data[i];
    out[n] = sum;
  }
  return { dims: [p.num_output], data: out };
}

function softmax(x: Blob): Blob {
  const [c] = x.dims;
  const plane = x.data.length / c;
  const out = new Float64Array(x.data.length);
  for (let s = 0; s < plane; s++) {
    let max = -Infinity;
    for (let ch = 0; ch < c; ch++) max = Math.max(max, x.data[ch * plane + s]);
    let sum = 0;
    for (let ch = 0; ch < c; ch++) sum += Math.exp(x.data[ch * plane + s] - max);
    for (let ch = 0; ch < c; ch++) out[ch * plane + s] = Math.exp(x.data[ch * plane + s] - max) / sum;
  }
  return { dims: x.dims, data: out };
}

function layerOutput(layer: LayerParameter, inputs: Blob[], blobs: Float32Array[]): Blob {
  const [x] = inputs;
  switch (layer.type) {
    case 'Convolution':
      return convolution(x, layer, blobs);
    case 'BatchNorm': {
      const factor = blobs[2][0] === 0 ? 0 : 1 / blobs[2][0];
      const eps = layer.batch_norm_param?.eps ?? 1e-5;
      return perChannel(x, (v, c) => (v - blobs[0][c] * factor) / Math.sqrt(blobs[1][c] * factor + eps));
    }
    case 'Scale':
      return perChannel(x, (v, c) => v * blobs[0][c] + (layer.scale_param?.bias_term ? blobs[1][c] : 0));
    case 'ReLU': {
      const slope = layer.relu_param?.negative_slope ?? 0;
      return { dims: x.dims, data: x.data.map((v) => (v > 0 ? v : v * slope)) };
    }
    case 'Eltwise': {
      const op = layer.eltwise_param?.operation ?? 'SUM';
      const coeff = layer.eltwise_param?.coeff ?? [];
      const data = x.data.map((_, i) => {
        const values = inputs.map((b) => b.data[i]);
        if (op === 'PROD') return values.reduce((a, b) => a * b, 1);
        if (op === 'MAX') return Math.max(...values);
        return values.reduce((a, b, j) => a + b * (coeff[j] ?? 1), 0);
      });
      return { dims: x.dims, data };
    }
    case 'Pooling':
      return pooling(x, layer);
    case 'InnerProduct':
      return innerProduct(x, layer, blobs);
    case 'Flatten':
      return { dims: [x.data.length], data: x.data };
    case 'Softmax':
      return softmax(x);
    case 'Dropout':
    case 'Split':
      return x;
    default:
      throw new Error(`reference: no ${layer.type}`);
  }
}

/** Every blob after the forward pass, by Caffe blob name; `input` is what the input blob holds (mean already subtracted). */
export function caffeForward(definition: NetParameter, weights: NetParameter, inputName: string, input: Blob): Map<string, Blob> {
  const byName = new Map([...weights.layers, ...weights.layer].map((l) => [l.name, l.blobs.map(blobValues)]));
  const blobs = new Map<string, Blob>([[inputName, input]]);
  for (const layer of definition.layer) {
    if (layer.type === 'Input') continue;
    const output = layerOutput(layer, layer.bottom.map((b) => blobs.get(b)!), byName.get(layer.name) ?? []);
    for (const top of layer.top) blobs.set(top, output);
  }
  return blobs;
}
