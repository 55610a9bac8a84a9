// Object key layout of the S3 sink and its parser for `report`: prefix/tenant/YYYY/MM/DD/session/<first>-<last>.jsonl[.gz]. Pure.

/** Sequence numbers are zero-padded to this many digits so keys sort in event order. */
export const SEQUENCE_DIGITS = 12;

/** What one object holds, as far as its key says. */
export interface ObjectKeyParts {
  readonly prefix: string;
  readonly tenantId: string;
  readonly sessionId: string;
  /** `captured_at` of the object's first event (its UTC date names the folder). */
  readonly firstCapturedAt: string;
  readonly firstSequence: number;
  readonly lastSequence: number;
  readonly gzip: boolean;
}

/**
 * Builds the key. Tenant and session ids are percent-encoded where they could break the layout
 * (`/`, `%`, control characters, a lone `.` or `..`), so a hostile id can never escape its folder.
 */
export function buildObjectKey(parts: ObjectKeyParts): string {
  const date = /^(\d{4})-(\d\d)-(\d\d)T/.exec(parts.firstCapturedAt);
  const day = date === null ? "unknown-date" : `${date[1]}/${date[2]}/${date[3]}`;
  const range = `${pad(parts.firstSequence)}-${pad(parts.lastSequence)}.jsonl${parts.gzip ? ".gz" : ""}`;
  const segments = [parts.prefix, encodeSegment(parts.tenantId), day, encodeSegment(parts.sessionId), range];
  return segments.filter((s) => s !== "").join("/");
}

/** The listing prefix of one tenant's objects (`prefix/tenant/`), or of everything (`prefix/`). */
export function listingPrefix(prefix: string, tenantId?: string): string {
  const head = prefix === "" ? "" : `${prefix}/`;
  return tenantId === undefined ? head : `${head}${encodeSegment(tenantId)}/`;
}

/** The session id and sequence range of a key written by {@link buildObjectKey}, or undefined for any other key. */
export function parseObjectKey(key: string): { sessionId: string; firstSequence: number; gzip: boolean } | undefined {
  const match = /(?:^|\/)([^/]+)\/(\d+)-(\d+)\.jsonl(\.gz)?$/.exec(key);
  if (match === null) return undefined;
  try {
    return {
      sessionId: decodeURIComponent(match[1] as string),
      firstSequence: Number(match[2]),
      gzip: match[4] !== undefined,
    };
  } catch {
    return undefined;
  }
}

function pad(n: number): string {
  return String(Math.max(0, Math.trunc(n))).padStart(SEQUENCE_DIGITS, "0");
}

/** Percent-encodes what could break a key segment; ordinary ids (UUIDs, `customer:acme`) stay readable. */
export function encodeSegment(text: string): string {
  if (text === "" || text === "." || text === "..") return encodeURIComponent(text).replace(/\./g, "%2E") || "%00";
  return text.replace(
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what must be encoded
    /[%/\\\u0000-\u001f\u007f]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`,
  );
}
