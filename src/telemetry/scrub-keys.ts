// The secret key-name rule (which object keys hold secrets, whatever their value). Key names only: never looks at values, never redacts.

import { keepOutOfFtl } from "../runtime/jit-tiers.ts";

/**
 * Secret key names, longest first so `client_secret` wins over `secret`. A key matches when its
 * normalised form (lower-case, letters and digits only) ends with one: `user_password`, `X-Api-Key`,
 * `sessionToken`, `oauth` (ends with `auth`). `max_tokens`, `tokenizer_name`, `author`, `session_id` do not.
 */
const SECRET_KEYS = (
  "client_secret refresh_token access_token private_key set-cookie secret_key access_key api_key " +
  "authorization credentials credential passphrase passwords password passwd cookies cookie secrets secret session token auth pwd"
).split(" ");
/** These also match as a whole word anywhere in the key: `password_hash`, `secret_name`, `cookie_jar`, `api_key_id`. */
const ANYWHERE_KEYS = new Set(
  "clientsecret privatekey setcookie apikey authorization credentials credential passphrase passwords password passwd cookies cookie secrets secret".split(
    " ",
  ),
);
/** Longer keys are data, not field names; they skip the rule (and the cache). */
const MAX_MATCHED_KEY_CHARS = 128;
/** Keys repeat across events, so answers are cached; the cache is dropped whole when full. */
const KEY_CACHE_ENTRIES = 4096;

/**
 * Every built-in secret key name holds one of these (case aside): text without any cannot write
 * such a key, and the key rule inside text (scrub-keyed-text.ts) skips it with one scan.
 */
const KEY_HINTS = ["pass", "pwd", "secret", "token", "auth", "cookie", "session", "credential", "key"];

/**
 * Returns the keyword a key name matches (`"password"`, `"api_key"`, or a configured extra key),
 * else undefined. `hint` finds text that may hold such a key name (a matcher's own, extra keys included).
 */
export type KeyMatcher = ((key: string) => string | undefined) & { readonly hint?: RegExp };

/**
 * Builds the key-name rule. `extraKeys` (from `Config.scrubKeys`) match on the whole normalised key
 * (`x_tenant_ref` matches `X-Tenant-Ref`), never as a suffix, so `name` does not catch `filename`.
 */
export function createKeyMatcher(extraKeys: readonly string[]): KeyMatcher {
  const extras = new Map(extraKeys.map((k) => [splitKeyWords(k).join(""), k] as const).filter(([n]) => n !== ""));
  const cache = new Map<string, string | undefined>();
  const match: KeyMatcher = (key) => {
    if (key.length > MAX_MATCHED_KEY_CHARS) return undefined;
    if (cache.has(key)) return cache.get(key);
    const words = splitKeyWords(key);
    const flat = words.join("");
    let label = extras.get(flat) ?? SECRET_KEYS.find((k) => flat.endsWith(k.replace(/[-_]/g, "")));
    for (let i = 0; label === undefined && i < words.length; i++) {
      const single = words[i] ?? "";
      const pair = single + (words[i + 1] ?? "");
      const hit = ANYWHERE_KEYS.has(pair) ? pair : ANYWHERE_KEYS.has(single) ? single : undefined;
      if (hit !== undefined) label = SECRET_KEYS.find((k) => k.replace(/[-_]/g, "") === hit);
    }
    if (cache.size >= KEY_CACHE_ENTRIES) cache.clear();
    cache.set(key, label);
    return label;
  };
  // Once per object key of every event: no FTL compile (see runtime/jit-tiers.ts); every matcher's at once.
  keepOutOfFtl(match);
  // An extra key matches on its normalised name, so `memberno` matches `member_no`: the first two
  // letters of that name are in every spelling of it (`memberNo`, `MEMBER-NO`).
  const hints = [...KEY_HINTS, ...[...extras.keys()].map((n) => n.slice(0, 2))];
  return Object.assign(match, { hint: new RegExp(hints.join("|"), "i") });
}

/** `X-Api-Key` / `sessionToken` / `HTTP_AUTH` → lower-case words, split on separators and camelCase humps. */
function splitKeyWords(key: string): string[] {
  const spaced = key.replace(/([a-z0-9])([A-Z])/g, "$1 $2").replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2");
  return spaced
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w !== "");
}
