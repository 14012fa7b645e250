/** The TF.js "graph-model" JSON format (model.json), as far as the converter reads it. */

export interface TfAttrValue {
  readonly s?: string; // base64
  readonly i?: string | number;
  readonly f?: number;
  readonly b?: boolean;
  readonly type?: string;
  readonly list?: { readonly i?: readonly (string | number)[]; readonly s?: readonly string[]; readonly f?: readonly number[] };
  readonly shape?: { readonly dim?: readonly { readonly size: string | number }[]; readonly unknownRank?: boolean };
}

export interface TfNode {
  readonly name: string;
  readonly op: string;
  readonly input?: readonly string[];
  readonly attr?: Readonly<Record<string, TfAttrValue>>;
}

export type QuantizationDtype = 'float16' | 'uint8' | 'uint16';

export interface WeightSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: string;
  readonly quantization?: {
    readonly dtype: QuantizationDtype;
    readonly scale?: number;
    readonly min?: number;
    readonly original_dtype?: string;
  };
}

export interface WeightGroup {
  readonly paths: readonly string[];
  readonly weights: readonly WeightSpec[];
}

export interface GraphModelJson {
  readonly format?: string;
  readonly generatedBy?: string;
  readonly convertedBy?: string;
  readonly modelTopology: { readonly node: readonly TfNode[]; readonly versions?: Readonly<Record<string, unknown>> };
  readonly weightsManifest: readonly WeightGroup[];
}

/** A graph model with the bytes of all its weight files, concatenated in manifest order. */
export interface GraphModelSource {
  readonly json: GraphModelJson;
  readonly weightData: Uint8Array;
}

/** "name", "name:0" or "^name" (control edge) -> { node, output index }. */
export function parseInputRef(ref: string): { readonly node: string; readonly index: number; readonly control: boolean } {
  const control = ref.startsWith('^');
  const body = control ? ref.slice(1) : ref;
  const match = /^(.*):(\d+)$/.exec(body);
  return match ? { node: match[1], index: Number(match[2]), control } : { node: body, index: 0, control };
}

/** Data inputs only: TF control dependencies carry no tensor and are dropped. */
export function dataInputs(node: TfNode): string[] {
  return (node.input ?? []).filter((ref) => !parseInputRef(ref).control);
}

function attribute(node: TfNode, key: string): TfAttrValue | undefined {
  return node.attr?.[key];
}

const decodeBase64 = (s: string): string => Buffer.from(s, 'base64').toString('utf8');

export function attrString(node: TfNode, key: string, fallback?: string): string {
  const value = attribute(node, key)?.s;
  if (value !== undefined) return decodeBase64(value);
  if (fallback !== undefined) return fallback;
  throw new Error(`missing attribute ${key}`);
}

export function attrStrings(node: TfNode, key: string): string[] {
  return (attribute(node, key)?.list?.s ?? []).map(decodeBase64);
}

export function attrInts(node: TfNode, key: string, fallback?: readonly number[]): number[] {
  const list = attribute(node, key)?.list;
  if (list?.i) return list.i.map(Number);
  if (fallback !== undefined) return [...fallback];
  // An empty list attribute is serialised as `{ list: {} }`.
  if (list) return [];
  throw new Error(`missing attribute ${key}`);
}

export function attrBool(node: TfNode, key: string, fallback: boolean): boolean {
  return attribute(node, key)?.b ?? fallback;
}

export function attrFloat(node: TfNode, key: string, fallback: number): number {
  return attribute(node, key)?.f ?? fallback;
}

/** Placeholder shape with -1 for unknown sizes; undefined when the rank is unknown. */
export function attrShape(node: TfNode, key: string): number[] | undefined {
  const shape = attribute(node, key)?.shape;
  if (!shape || shape.unknownRank) return undefined;
  return (shape.dim ?? []).map((d) => Number(d.size));
}
