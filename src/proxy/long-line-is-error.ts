// Whether a tool answer too long to inspect sets its result's own `isError` to true, read from its first and last bytes with JSON's nesting and strings followed (an `isError` nested in its content or structuredContent, or inside a text, is not the result's). Pure.

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;

const isSpace = (code: number): boolean => code === 0x20 || code === 0x09 || code === 0x0d || code === 0x0a;

/** The text of the JSON string literal `literal` (quotes included), or undefined when it is no valid one. */
function keyText(literal: string): string | undefined {
  try {
    const key: unknown = JSON.parse(literal);
    return typeof key === "string" ? key : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the member value starting after the colon at `colon` is the literal `true`. */
function trueAfter(text: string, colon: number): boolean {
  let at = colon + 1;
  while (at < text.length && isSpace(text.charCodeAt(at))) at++;
  return text.startsWith("true", at) && !/[\w]/.test(text.charAt(at + 4));
}

/** The colon after the string ending at `close` (its closing quote), or -1 when the string is no key. */
function colonAfter(text: string, close: number): number {
  let at = close + 1;
  while (at < text.length && isSpace(text.charCodeAt(at))) at++;
  return text.charCodeAt(at) === COLON ? at : -1;
}

/**
 * The head (the line's first bytes, its start known): the value of the last `isError` member of
 * the top-level `result` object it shows (true when the literal `true`), undefined when it shows none.
 */
function fromHead(head: string): boolean | undefined {
  let depth = 0;
  let topKey: string | undefined;
  let inResult = false;
  let verdict: boolean | undefined;
  for (let i = 0; i < head.length; i++) {
    const code = head.charCodeAt(i);
    if (code === QUOTE) {
      let close = i + 1;
      while (close < head.length && head.charCodeAt(close) !== QUOTE)
        close += head.charCodeAt(close) === BACKSLASH ? 2 : 1;
      if (close >= head.length) return verdict; // the head ends inside this string
      const colon = colonAfter(head, close);
      if (colon >= 0) {
        const key = keyText(head.slice(i, close + 1));
        if (depth === 1) topKey = key;
        else if (depth === 2 && inResult && key === "isError") verdict = trueAfter(head, colon);
      }
      i = close;
    } else if (code === 0x7b || code === 0x5b) {
      depth++;
      if (depth === 2) inResult = code === 0x7b && topKey === "result";
    } else if (code === 0x7d || code === 0x5d) {
      depth--;
    }
  }
  return verdict;
}

/**
 * The tail (the line's last bytes, read backwards from its end, where no string is open): the value
 * of the last `isError` member of the top-level member object it ends in, when that object is
 * `result` or starts before the tail does (an answer's members are `jsonrpc`, `id` and `result`);
 * undefined when it shows none, or cannot be read (a run of backslashes reaching its first byte).
 */
function fromTail(tail: string): boolean | undefined {
  let depth = 0;
  let candidate: boolean | undefined; // the last isError of the depth-2 object being read
  let closedObject = false; // a depth-2 object just opened (read backwards): its key comes next
  for (let i = tail.length - 1; i >= 0; i--) {
    const code = tail.charCodeAt(i);
    if (code === QUOTE) {
      // The string's opening quote: the first quote to the left not escaped (an even run of backslashes before it).
      let open = i - 1;
      for (;;) {
        while (open >= 0 && tail.charCodeAt(open) !== QUOTE) open--;
        if (open < 0) return candidate; // the tail starts inside this string
        let slashes = 0;
        while (open - slashes - 1 >= 0 && tail.charCodeAt(open - slashes - 1) === BACKSLASH) slashes++;
        if (open - slashes === 0) return candidate; // a backslash before the tail could escape it
        if (slashes % 2 === 0) break;
        open--;
      }
      const colon = colonAfter(tail, i);
      if (colon >= 0) {
        const key = keyText(tail.slice(open, i + 1));
        if (depth === 2 && key === "isError" && candidate === undefined) candidate = trueAfter(tail, colon);
        else if (depth === 1 && closedObject) {
          if (key === "result") return candidate ?? false;
          candidate = undefined; // another member's object: its isError is not the result's
        }
      }
      closedObject = false;
      i = open;
    } else if (code === 0x7d || code === 0x5d) {
      depth++;
      closedObject = false;
    } else if (code === 0x7b || code === 0x5b) {
      depth--;
      closedObject = depth === 1 && code === 0x7b;
      if (depth === 1 && code === 0x5b) candidate = undefined; // an array member: no result
    } else if (!isSpace(code) && code !== COLON) {
      closedObject = false;
    }
  }
  return candidate;
}

/**
 * Whether the top-level `result.isError` of a line too long to inspect is `true`, as far as its
 * first bytes (`head`) and last bytes (`tail`) show it: the tail's word wins (JSON.parse keeps the
 * last of a key given twice), else the head's; false when neither shows the result's own isError.
 */
export function resultIsErrorTrue(head: string, tail: string): boolean {
  return fromTail(tail) ?? fromHead(head) ?? false;
}
