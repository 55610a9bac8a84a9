// Hand-written JSONC parser (comments, trailing commas) that keeps source ranges for format-preserving edits. Reads only; never edits text.

import { LocalError } from "../errors.ts";

/** Nesting deeper than this is refused with a clear error instead of overflowing the stack. */
export const MAX_NESTING_DEPTH = 256;

interface Ranged {
  /** Offset of the first character of the value in the source text. */
  readonly start: number;
  /** Offset just past the last character (so `text.slice(start, end)` is the raw value). */
  readonly end: number;
}

export interface JsonScalarNode extends Ranged {
  readonly kind: "string" | "number" | "boolean" | "null";
  readonly value: string | number | boolean | null;
}

export interface JsonArrayNode extends Ranged {
  readonly kind: "array";
  readonly items: readonly JsonNode[];
  /** Offset of the comma after each item, or -1 (the last item without a trailing comma). */
  readonly commas: readonly number[];
}

export interface JsonProperty {
  readonly key: string;
  readonly keyStart: number;
  readonly keyEnd: number;
  readonly value: JsonNode;
  /** Offset of the comma after this property, or -1. */
  readonly comma: number;
}

export interface JsonObjectNode extends Ranged {
  readonly kind: "object";
  readonly properties: readonly JsonProperty[];
}

export type JsonNode = JsonScalarNode | JsonArrayNode | JsonObjectNode;

/** A syntax error with its position; `message` reads `line 3, column 7: expected ...`. */
export class JsoncSyntaxError extends LocalError {
  readonly offset: number;
  readonly line: number;
  readonly column: number;
  constructor(text: string, offset: number, reason: string) {
    const before = text.slice(0, offset);
    const line = before.split("\n").length;
    const column = offset - before.lastIndexOf("\n");
    super("E_WRAP", `line ${line}, column ${column}: ${reason}`);
    this.name = "JsoncSyntaxError";
    this.offset = offset;
    this.line = line;
    this.column = column;
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const LITERALS: ReadonlyArray<readonly [string, boolean | null]> = [
  ["true", true],
  ["false", false],
  ["null", null],
];

/**
 * Parses JSON with `//` and `/* *\/` comments, trailing commas and a leading BOM (the VS Code
 * dialect; plain JSON is a subset). Throws `JsoncSyntaxError` on anything else.
 */
export function parseJsonc(text: string): JsonNode {
  let pos = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const fail = (reason: string, at = pos): never => {
    throw new JsoncSyntaxError(text, at, reason);
  };
  const found = (): string => (pos >= text.length ? "end of file" : `"${text[pos]}"`);

  const skipTrivia = (): void => {
    while (pos < text.length) {
      const c = text[pos];
      if (c === " " || c === "\t" || c === "\n" || c === "\r") pos++;
      else if (c === "/" && text[pos + 1] === "/") {
        const eol = text.indexOf("\n", pos);
        pos = eol === -1 ? text.length : eol;
      } else if (c === "/" && text[pos + 1] === "*") {
        const close = text.indexOf("*/", pos + 2);
        if (close === -1) fail("unterminated /* comment");
        pos = close + 2;
      } else return;
    }
  };

  const parseString = (): JsonScalarNode => {
    const start = pos;
    let i = pos + 1;
    while (i < text.length && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
    if (i >= text.length) fail("unterminated string", start);
    pos = i + 1;
    try {
      return { kind: "string", value: JSON.parse(text.slice(start, pos)) as string, start, end: pos };
    } catch {
      return fail("invalid string (bad escape or raw control character)", start);
    }
  };

  const parseValue = (depth: number): JsonNode => {
    if (depth > MAX_NESTING_DEPTH) fail(`nested deeper than ${MAX_NESTING_DEPTH} levels`);
    skipTrivia();
    const c = text[pos];
    if (c === "{") return parseObject(depth);
    if (c === "[") return parseArray(depth);
    if (c === '"') return parseString();
    const start = pos;
    NUMBER.lastIndex = pos;
    const number = NUMBER.exec(text);
    if (number !== null) {
      pos += number[0].length;
      return { kind: "number", value: Number(number[0]), start, end: pos };
    }
    for (const [word, value] of LITERALS) {
      if (text.startsWith(word, pos)) {
        pos += word.length;
        return { kind: value === null ? "null" : "boolean", value, start, end: pos };
      }
    }
    return fail(`expected a value, found ${found()}`);
  };

  const parseArray = (depth: number): JsonArrayNode => {
    const start = pos++;
    const items: JsonNode[] = [];
    const commas: number[] = [];
    for (;;) {
      skipTrivia();
      if (text[pos] === "]") break;
      items.push(parseValue(depth + 1));
      skipTrivia();
      if (text[pos] === ",") commas.push(pos++);
      else if (text[pos] === "]") commas.push(-1);
      else fail(`expected "," or "]", found ${found()}`);
    }
    pos++;
    return { kind: "array", items, commas, start, end: pos };
  };

  const parseObject = (depth: number): JsonObjectNode => {
    const start = pos++;
    const properties: JsonProperty[] = [];
    for (;;) {
      skipTrivia();
      if (text[pos] === "}") break;
      if (text[pos] !== '"') fail(`expected a property name in double quotes, found ${found()}`);
      const key = parseString();
      skipTrivia();
      if (text[pos] !== ":") fail(`expected ":" after property name, found ${found()}`);
      pos++;
      const value = parseValue(depth + 1);
      skipTrivia();
      let comma = -1;
      if (text[pos] === ",") comma = pos++;
      else if (text[pos] !== "}") fail(`expected "," or "}", found ${found()}`);
      properties.push({ key: key.value as string, keyStart: key.start, keyEnd: key.end, value, comma });
    }
    pos++;
    return { kind: "object", properties, start, end: pos };
  };

  const root = parseValue(0);
  skipTrivia();
  if (pos < text.length) fail(`unexpected ${found()} after the end of the document`);
  return root;
}

/** The property named `key` (the last one when a key repeats, as `JSON.parse` does), or undefined. */
export function findProperty(node: JsonNode, key: string): JsonProperty | undefined {
  if (node.kind !== "object") return undefined;
  return node.properties.findLast((p) => p.key === key);
}

/** The plain JavaScript value of a node, equal to what `JSON.parse` gives for the comment-free text. */
export function toPlainValue(node: JsonNode): unknown {
  switch (node.kind) {
    case "array":
      return node.items.map(toPlainValue);
    case "object": {
      const out: Record<string, unknown> = {};
      for (const p of node.properties) {
        // defineProperty, not assignment: a key named "__proto__" must stay an ordinary property.
        Object.defineProperty(out, p.key, {
          value: toPlainValue(p.value),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return out;
    }
    default:
      return node.value;
  }
}

/** A short name for a node's JSON type, for error messages ("an array", "a string"). */
export function describeKind(node: JsonNode): string {
  return node.kind === "array" || node.kind === "object"
    ? `an ${node.kind}`
    : node.kind === "null"
      ? "null"
      : `a ${node.kind}`;
}
