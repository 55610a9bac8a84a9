// Per-request consent: finds a request's token (header or params._meta), checks its shape, and strips it from the message. Pure.

import { isObject, type JsonObject } from "../wire/jsonrpc.ts";
import { PLACEHOLDER } from "../config.ts";
import { CONSENT_HEADER } from "./forward-headers.ts";

/** The `_meta` key for clients that cannot set headers; removed before the message is forwarded. */
export const CONSENT_META_KEY = "baton/consent_token";
export const MIN_TOKEN_LENGTH = 8;
export const MAX_TOKEN_LENGTH = 512;

export type ConsentLookup =
  | { readonly kind: "absent" }
  | { readonly kind: "token"; readonly token: string }
  | { readonly kind: "rejected"; readonly reason: "malformed" | "placeholder" };

/**
 * The token's verdict. The header wins over `_meta`. A token must be 8–512 visible ASCII
 * characters (0x21–0x7E); the placeholder `local` counts as absent while a sink is remote.
 * The console stays the authority on whether a well-shaped token is valid.
 */
export function judgeConsent(header: string | null, metaToken: unknown, anyRemoteSink: boolean): ConsentLookup {
  const raw = header ?? (typeof metaToken === "string" ? metaToken : metaToken === undefined ? undefined : "");
  if (raw === undefined) return { kind: "absent" };
  if (raw === PLACEHOLDER)
    return anyRemoteSink ? { kind: "rejected", reason: "placeholder" } : { kind: "token", token: raw };
  if (raw.length < MIN_TOKEN_LENGTH || raw.length > MAX_TOKEN_LENGTH || !/^[\x21-\x7e]+$/.test(raw))
    return { kind: "rejected", reason: "malformed" };
  return { kind: "token", token: raw };
}

/** Bytes without which a body holds no `_meta` consent key: its name's tail (`\/` may stand for its `/`) and the `\u` that could spell any of it. */
const META_TOKEN_MARKERS: readonly Buffer[] = ["consent_token", "\\u"].map((text) => Buffer.from(text));

/**
 * False when `body` certainly carries no `_meta` consent token (none of the marker bytes): the
 * caller then need not parse it, which keeps a plain tool call on the engine's unparsed fast path.
 */
export function mayCarryMetaToken(body: Uint8Array): boolean {
  const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  return META_TOKEN_MARKERS.some((marker) => bytes.includes(marker));
}

/** The `_meta` consent value of a request object, if any. */
export function metaConsentToken(message: JsonObject): unknown {
  const params = message.params;
  if (!isObject(params) || !isObject(params._meta)) return undefined;
  return params._meta[CONSENT_META_KEY];
}

/**
 * Removes the `_meta` consent key in place; returns true when it was there (the message must
 * then be re-serialised). An emptied `_meta` is removed too, so the upstream sees the request
 * as the client would have sent it without the proxy.
 */
export function stripConsentMeta(message: JsonObject): boolean {
  const params = message.params;
  if (!isObject(params) || !isObject(params._meta) || !(CONSENT_META_KEY in params._meta)) return false;
  delete params._meta[CONSENT_META_KEY];
  if (Object.keys(params._meta).length === 0) delete params._meta;
  return true;
}

export { CONSENT_HEADER };
