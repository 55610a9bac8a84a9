// Decodes a request body's Content-Encoding (gzip, deflate, br, zstd: what serve's upstream client decodes too) so the MCP path can read the JSON-RPC inside, bounded against inflation bombs.

import { brotliDecompressSync, gunzipSync, inflateSync, zstdDecompressSync } from "node:zlib";

export type DecodeResult =
  | { readonly kind: "ok"; readonly bytes: Uint8Array }
  | { readonly kind: "unsupported"; readonly coding: string }
  | { readonly kind: "too_large" }
  | { readonly kind: "corrupt" };

const DECODERS: Record<string, (bytes: Uint8Array, options: { maxOutputLength: number }) => Uint8Array> = {
  gzip: gunzipSync,
  "x-gzip": gunzipSync,
  deflate: inflateSync,
  br: brotliDecompressSync,
  zstd: zstdDecompressSync,
};

/**
 * The body with its codings undone (last applied first, RFC 9110 §8.4), each step bounded by
 * `maxBytes` (a few KiB of gzip can inflate to gigabytes). `identity` is no coding.
 */
export function decodeRequestBody(bytes: Uint8Array, contentEncoding: string, maxBytes: number): DecodeResult {
  const codings = contentEncoding
    .split(",")
    .map((coding) => coding.trim().toLowerCase())
    .filter((coding) => coding !== "" && coding !== "identity");
  let out = bytes;
  for (const coding of codings.reverse()) {
    const decode = DECODERS[coding];
    if (decode === undefined) return { kind: "unsupported", coding };
    try {
      out = decode(out, { maxOutputLength: maxBytes });
    } catch (error) {
      return (error as { code?: unknown }).code === "ERR_BUFFER_TOO_LARGE"
        ? { kind: "too_large" }
        : { kind: "corrupt" };
    }
  }
  return { kind: "ok", bytes: out };
}
