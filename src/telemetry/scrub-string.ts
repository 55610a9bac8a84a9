// One string value of the scrub walk: cut to the field and event budgets (never inside a secret, an earlier cut's marker kept), then redacted. Pure apart from a reused scratch buffer; walks no containers.

import { keepOutOfFtl } from "../runtime/jit-tiers.ts";
import { redactKeyedText } from "./scrub-keyed-text.ts";
import { secretSafeCut } from "./scrub-cut.ts";
import { redactText } from "./scrub-patterns.ts";
import { redactTableText } from "./scrub-table-text.ts";
import { MAX_FIELD_BYTES, MAX_IDENTIFIER_BYTES, TRUNCATED, truncated, type Walk } from "./scrub-walk-state.ts";

/** A budget remainder smaller than this is not worth a prefix plus marker. */
const MIN_PREFIX_BYTES = 64;
/** Room for `...[truncated N bytes]` after the kept bytes. */
const MARKER_MAX_BYTES = 64;
const TRUNCATION_MARKER = /\.\.\.\[truncated \d+ bytes\]$/;

const encoder = new TextEncoder();
/** Reused target for cutting strings at a UTF-8 boundary; grown on demand, single-threaded use. */
let scratch = new Uint8Array(MAX_FIELD_BYTES);

/** Cuts to the field and event budgets first (so a 1 MiB string costs 64 KiB of regex work), then redacts. */
export function scrubString(text: string, walk: Walk): string {
  if (walk.bytesLeft <= 0) return text === "" ? text : truncated(walk, TRUNCATED);
  const limit = Math.min(walk.maxFieldBytes, walk.bytesLeft);
  // UTF-8 never takes more than 3 bytes per UTF-16 unit, so short strings skip the exact count.
  const bytes = text.length * 3 <= limit ? text.length : Buffer.byteLength(text, "utf8");
  // A string this stage already cut (the proxy bounds long values on the hot path, then scrubs in
  // the background) fits with its marker: cutting it again would replace the true count.
  const alreadyCut = bytes > limit && bytes <= limit + MARKER_MAX_BYTES && TRUNCATION_MARKER.test(text);
  if (bytes <= limit || alreadyCut) {
    walk.bytesLeft -= Math.min(bytes, walk.bytesLeft);
    return walk.redact ? redact(text, walk) : text;
  }
  if (limit < MIN_PREFIX_BYTES) {
    walk.bytesLeft = 0;
    return truncated(walk, TRUNCATED);
  }
  if (scratch.length < limit + MARKER_MAX_BYTES) scratch = new Uint8Array(limit + MARKER_MAX_BYTES);
  let { read, written } = encoder.encodeInto(text, scratch.subarray(0, limit)); // stops at a whole code point
  // Never inside a secret (whatever this walk's mode: the hot path cuts, the background redacts what is left).
  const safe = secretSafeCut(text, read);
  if (safe < read) ({ read, written } = encoder.encodeInto(text.slice(0, safe), scratch));
  walk.bytesLeft -= written;
  const exactMarker = `...[truncated ${bytes - written} bytes]`;
  // The kept text is decoded from copied bytes, never text.slice(): a JSC substring keeps its whole
  // parent alive, so every queued event would pin the multi-megabyte result it was cut from. The
  // marker is decoded with it in one flat, one-byte-per-char string: a "…" would make 64 KiB of
  // ASCII two bytes per char, and a rope (kept + marker) is flattened again by every
  // JSON.stringify; either makes each write of the event 10-30x slower (measured 200 µs vs 6 µs).
  const prefix = decodeScratch(written);
  const kept = walk.redact ? redact(prefix, walk) : prefix;
  if (kept !== prefix) return truncated(walk, Buffer.from(`${kept}${exactMarker}`).toString("utf8"));
  encoder.encodeInto(exactMarker, scratch.subarray(written));
  return truncated(walk, decodeScratch(written + exactMarker.length));
}

/**
 * `value` as an event keeps an identifier (see {@link MAX_IDENTIFIER_BYTES}): never redacted (it ties
 * events together), but a string longer than the cap is cut to it with the `...[truncated N bytes]`
 * marker and counted: a client named with megabytes, or calling a tool so named, made every event of
 * its session that large. Other values, and a string this stage already cut, come back as they are.
 */
export function cutIdentifier(value: unknown, walk: Walk): unknown {
  if (typeof value !== "string" || value.length * 3 <= MAX_IDENTIFIER_BYTES) return value;
  const bytes = Buffer.byteLength(value, "utf8");
  if (bytes <= MAX_IDENTIFIER_BYTES) return value;
  if (bytes <= MAX_IDENTIFIER_BYTES + MARKER_MAX_BYTES && TRUNCATION_MARKER.test(value)) return value;
  // Copied out (never value.slice(), which keeps the whole string alive) and stops at a whole code point.
  const { written } = encoder.encodeInto(value, scratch.subarray(0, MAX_IDENTIFIER_BYTES));
  const marker = `...[truncated ${bytes - written} bytes]`;
  encoder.encodeInto(marker, scratch.subarray(written));
  return truncated(walk, decodeScratch(written + marker.length));
}

/** The key-name rule inside the text first (keys, then table columns: a secret-named value goes whole, not as a `[token]` in it), then the value patterns. */
function redact(text: string, walk: Walk): string {
  const counts = walk.stats.redactions;
  return redactText(redactTableText(redactKeyedText(text, walk.matchKey, counts), walk.matchKey, counts), counts);
}

function decodeScratch(length: number): string {
  return Buffer.from(scratch.buffer, scratch.byteOffset, length).toString("utf8");
}

// Once per string value of every event, inlined into the walk: out of FTL with it (see scrub-walk.ts).
keepOutOfFtl(scrubString, redact, cutIdentifier);
