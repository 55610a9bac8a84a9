// The key a multi-round call waits under: what the client's retry repeats (method, subject, the server's requestState), bounded in size and depth. Pure.

/**
 * Keys longer than this are held as their SHA-256: a server's requestState is its own to size, and
 * 1 000 waiting rounds must not each pin megabytes of it. Equal hashes mean equal keys.
 */
const MAX_KEY_CHARS = 256;

const RawJson = JSON as unknown as { isRawJSON(value: unknown): boolean };

/** Waiting rounds are keyed by what the retry repeats: method, tool name / uri / prompt name, and the echoed state. */
export function roundKey(method: string, subject: string, requestState: unknown): string {
  const key = `${method}\u0000${subject}\u0000${jsonText(requestState ?? null)}`;
  if (key.length <= MAX_KEY_CHARS) return key;
  // UTF-16 as held: two texts differing only in lone surrogates stay apart (UTF-8 would fold them).
  return `sha256:${new Bun.CryptoHasher("sha256").update(key, "utf16le").digest("hex")}`;
}

/**
 * JSON.stringify's text of a parsed JSON value. JSON.parse reads nesting far deeper than the
 * recursive JSON.stringify can write (RangeError past a few thousand levels): such a value is
 * written by an explicit stack, to the same text, so both sides of a round key it alike.
 */
function jsonText(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
  }
  const parts: string[] = [];
  // Values still to write, last first; a token is text written as is.
  const work: Array<{ readonly token: string } | { readonly value: unknown }> = [{ value }];
  for (let item = work.pop(); item !== undefined; item = work.pop()) {
    if ("token" in item) {
      parts.push(item.token);
      continue;
    }
    const v = item.value;
    if (typeof v !== "object" || v === null || RawJson.isRawJSON(v)) {
      parts.push(JSON.stringify(v) ?? "null");
    } else if (Array.isArray(v)) {
      work.push({ token: "]" });
      for (let i = v.length - 1; i >= 0; i--) {
        work.push({ value: v[i] });
        if (i > 0) work.push({ token: "," });
      }
      parts.push("[");
    } else {
      const record = v as Record<string, unknown>;
      const keys = Object.keys(record).filter((key) => record[key] !== undefined);
      work.push({ token: "}" });
      for (let i = keys.length - 1; i >= 0; i--) {
        const key = keys[i] as string;
        work.push({ value: record[key] });
        work.push({ token: `${i > 0 ? "," : ""}${JSON.stringify(key)}:` });
      }
      parts.push("{");
    }
  }
  return parts.join("");
}
