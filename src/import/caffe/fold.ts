/**
 * Folds per-channel affines (BatchNorm, Scale) into the convolution or affine that produces their
 * input, when nothing else reads that value: conv(x, W)·s + t = conv(x, W·s) + (b·s + t). A
 * ResNet's conv → BatchNorm → Scale triples become single Conv nodes.
 */
import type { CaffeGraph, CaffeNode, CaffeOp } from './net-graph.js';

type Affine = Extract<CaffeOp, { kind: 'affine' }>;

function foldInto(producer: CaffeOp, affine: Affine): CaffeOp | undefined {
  const { scale, shift } = affine;
  if (producer.kind === 'affine') {
    return { kind: 'affine', scale: producer.scale.map((s, c) => s * scale[c]), shift: producer.shift.map((t, c) => t * scale[c] + shift[c]) };
  }
  if (producer.kind === 'conv') {
    const perFilter = producer.weights.length / producer.bias.length;
    const weights = producer.weights.map((w, i) => w * scale[Math.floor(i / perFilter)]);
    return { ...producer, weights, bias: producer.bias.map((b, c) => b * scale[c] + shift[c]) };
  }
  return undefined;
}

export function foldAffines(graph: CaffeGraph): CaffeGraph {
  const readers = new Map<string, number>();
  for (const value of [...graph.nodes.flatMap((node) => node.inputs), ...graph.outputs.map((o) => o.value)]) readers.set(value, (readers.get(value) ?? 0) + 1);
  const nodes: CaffeNode[] = [];
  const producerIndex = new Map<string, number>();
  for (const node of graph.nodes) {
    const at = producerIndex.get(node.inputs[0]);
    const folded = node.op.kind === 'affine' && at !== undefined && readers.get(node.inputs[0]) === 1 ? foldInto(nodes[at].op, node.op) : undefined;
    if (folded && at !== undefined) {
      producerIndex.delete(nodes[at].output);
      nodes[at] = { ...nodes[at], op: folded, output: node.output, layer: `${nodes[at].layer}+${node.layer}` };
      producerIndex.set(node.output, at);
    } else {
      producerIndex.set(node.output, nodes.length);
      nodes.push(node);
    }
  }
  return { ...graph, nodes };
}
