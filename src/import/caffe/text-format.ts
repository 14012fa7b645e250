/**
 * A reader for protobuf's text format (what .prototxt files are), guided by a protobufjs schema:
 * it returns a plain object that `Type.fromObject` accepts, so text and binary inputs end up as the
 * same message. Fields the schema does not know are skipped, as the binary decoder skips them.
 */
import protobuf from 'protobufjs';
import { Face3dError } from '../../core/errors.js';

type TokenKind = 'identifier' | 'number' | 'string' | 'symbol' | 'end';

interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  readonly line: number;
}

const SYMBOLS = new Set(['{', '}', '<', '>', ':', '[', ']', ',', ';']);
const ESCAPES: Readonly<Record<string, string>> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'", a: '\x07', b: '\b', f: '\f', v: '\v', '?': '?' };

function unescape(body: string): string {
  return body.replace(/\\(x[0-9a-fA-F]{1,2}|[0-7]{1,3}|.)/g, (_, code: string) => {
    if (code[0] === 'x') return String.fromCharCode(parseInt(code.slice(1), 16));
    if (/^[0-7]/.test(code)) return String.fromCharCode(parseInt(code, 8));
    return ESCAPES[code] ?? code;
  });
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const pattern = /(\s+)|(#[^\n]*)|("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')|(-?(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)[fF]?)|(-?[A-Za-z_][A-Za-z0-9_.]*)|(.)/gy;
  let line = 1;
  for (let match = pattern.exec(text); match !== null && match[0] !== ''; match = pattern.exec(text)) {
    const [all, space, comment, string, number, identifier, other] = match;
    if (string !== undefined) tokens.push({ kind: 'string', text: unescape(string.slice(1, -1)), line });
    else if (number !== undefined) tokens.push({ kind: 'number', text: number, line });
    else if (identifier !== undefined) tokens.push({ kind: 'identifier', text: identifier, line });
    else if (other !== undefined) {
      if (!SYMBOLS.has(other)) throw new Face3dError('BAD_USER_INPUT', `text format line ${line}: unexpected character "${other}"`);
      tokens.push({ kind: 'symbol', text: other, line });
    } else if (space === undefined && comment === undefined) break;
    line += all.split('\n').length - 1;
  }
  tokens.push({ kind: 'end', text: '', line });
  return tokens;
}

const NUMERIC_TYPES = new Set(['double', 'float', 'int32', 'int64', 'uint32', 'uint64', 'sint32', 'sint64', 'fixed32', 'fixed64', 'sfixed32', 'sfixed64']);
const SPECIAL_NUMBERS: Readonly<Record<string, number>> = { inf: Infinity, infinity: Infinity, '-inf': -Infinity, '-infinity': -Infinity, nan: NaN };

class TextParser {
  private position = 0;

  constructor(private readonly tokens: readonly Token[]) {}

  message(type: protobuf.Type | undefined, closing: string): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    while (!this.at(closing)) {
      const name = this.expect('identifier').text;
      const field = type?.fields[name];
      const isMessage = field ? field.resolvedType instanceof protobuf.Type : this.nextIsMessage();
      if (isMessage) {
        this.accept(':');
        const values = this.at('[') ? this.list(() => this.nested(field)) : [this.nested(field)];
        if (field) assign(out, field, values);
      } else {
        this.expect(':');
        const values = this.at('[') ? this.list(() => this.scalar(field)) : [this.scalar(field)];
        if (field) assign(out, field, values);
      }
      if (!this.accept(',')) this.accept(';');
    }
    this.next();
    return out;
  }

  private nested(field: protobuf.Field | undefined): Record<string, unknown> {
    const open = this.next();
    if (open.text !== '{' && open.text !== '<') this.fail(open, 'expected "{" or "<"');
    return this.message(field?.resolvedType as protobuf.Type | undefined, open.text === '{' ? '}' : '>');
  }

  private list<T>(item: () => T): T[] {
    this.expect('[');
    const values: T[] = [];
    while (!this.accept(']')) {
      values.push(item());
      if (!this.at(']')) this.expect(',');
    }
    return values;
  }

  private scalar(field: protobuf.Field | undefined): unknown {
    const token = this.next();
    if (token.kind === 'string') {
      let text = token.text;
      while (this.peek().kind === 'string') text += this.next().text; // adjacent literals concatenate
      if (field && field.type !== 'string' && field.type !== 'bytes') this.fail(token, `field "${field.name}" does not take a string`);
      return field?.type === 'bytes' ? new TextEncoder().encode(text) : text;
    }
    if (!field) return undefined;
    if (field.resolvedType instanceof protobuf.Enum) {
      if (token.kind === 'number') return Number(token.text);
      if (token.kind !== 'identifier' || !(token.text in field.resolvedType.values)) this.fail(token, `"${token.text}" is not a value of ${field.resolvedType.name}`);
      return token.text;
    }
    if (field.type === 'bool') {
      if (['true', 'True', 't', '1'].includes(token.text)) return true;
      if (['false', 'False', 'f', '0'].includes(token.text)) return false;
      this.fail(token, `field "${field.name}" takes true or false`);
    }
    if (NUMERIC_TYPES.has(field.type)) {
      const special = SPECIAL_NUMBERS[token.text.toLowerCase()];
      if (special !== undefined) return special;
      if (token.kind !== 'number') this.fail(token, `field "${field.name}" takes a number`);
      return Number(token.text.replace(/[fF]$/, '').replace(/^(-?)0[xX]/, (_, sign: string) => `${sign}0x`));
    }
    return this.fail(token, `field "${field.name}" of type ${field.type} cannot be read from text`);
  }

  /** For a field the schema does not know: a message follows if "{" / "<" comes (after an optional ":"). */
  private nextIsMessage(): boolean {
    const first = this.peek().text;
    const second = this.tokens[this.position + 1]?.text;
    return first === '{' || first === '<' || (first === ':' && (second === '{' || second === '<'));
  }

  private peek(): Token {
    return this.tokens[this.position];
  }

  private next(): Token {
    const token = this.tokens[this.position];
    if (token.kind !== 'end') this.position++;
    return token;
  }

  private at(text: string): boolean {
    const token = this.peek();
    if (token.kind === 'end' && text !== '') this.fail(token, `expected "${text}" before the end`);
    return token.kind === 'symbol' ? token.text === text : token.kind === 'end' && text === '';
  }

  private accept(text: string): boolean {
    if (this.peek().kind === 'symbol' && this.peek().text === text) {
      this.position++;
      return true;
    }
    return false;
  }

  private expect(what: string): Token {
    const token = this.next();
    const ok = what === 'identifier' ? token.kind === 'identifier' : token.kind === 'symbol' && token.text === what;
    if (!ok) this.fail(token, `expected ${what === 'identifier' ? 'a field name' : `"${what}"`}`);
    return token;
  }

  private fail(token: Token, why: string): never {
    const found = token.kind === 'end' ? 'the end' : `"${token.text}"`;
    throw new Face3dError('BAD_USER_INPUT', `text format line ${token.line}: ${why}, found ${found}`);
  }
}

function assign(out: Record<string, unknown>, field: protobuf.Field, values: unknown[]): void {
  if (field.repeated) out[field.name] = [...((out[field.name] as unknown[] | undefined) ?? []), ...values];
  else out[field.name] = values[values.length - 1];
}

/** The text-format message as a plain object for `type.fromObject`; BAD_USER_INPUT on a syntax error. */
export function parseTextFormat(text: string, type: protobuf.Type): Record<string, unknown> {
  return new TextParser(tokenize(text)).message(type, '');
}
