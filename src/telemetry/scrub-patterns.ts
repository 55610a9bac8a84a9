// Value patterns (secrets, PII) with their validators, and the secret key-name rule. Pure text in, text out: no walking, no truncation.

/** What a redaction replaced; the text left behind is `[<label>]`. */
export type RedactionLabel = "private_key" | "credentials" | "jwt" | "token" | "email" | "iban" | "card" | "phone" | "ip";

/** Counts by label, added to in place by {@link redactText}. */
export type RedactionCounts = Record<string, number>;

/** No pattern matches fewer characters than this (`a::1`), so shorter strings skip all work. */
const MIN_CANDIDATE_CHARS = 4;
/**
 * Nearly every pattern needs a digit, `@`, `:`, `-` or `_`, so a string with none is skipped whole. Accepted
 * misses: a `Basic` credential or a provider token that happens to contain none of them.
 */
const ANY_TRIGGER = /[\d@:_-]/;
const DIGIT = /\d/;
/** Longest IPv6 text form: eight groups, or six plus an IPv4 tail. */
const MAX_IPV6_CHARS = 45;
/** An uncompressed IPv6 address has 7 colons, or 6 before an IPv4 tail; fewer and no `::` means none is present. */
const MIN_FULL_IPV6_COLONS = 6;
const IPV4_OCTET = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/** Image and source-file extensions that look like TLDs in `icon@2x.png` or `pkg@lib.js`; none is a real TLD. */
const FILE_EXTENSIONS = new Set("png jpg jpeg gif svg webp ico bmp avif js mjs cjs ts tsx jsx css scss map json yaml yml lock txt html wasm".split(" "));
/** IBAN length by country (ISO 13616 registry); a code not listed here is not an IBAN. */
const IBAN_LENGTHS = new Map(
  ("AD24 AE23 AL28 AT20 AZ28 BA20 BE16 BG22 BH22 BR29 BY28 CH21 CR22 CY28 CZ24 DE22 DK18 DO28 EE20 EG29 ES24 FI18 FO18 " +
    "FR27 GB22 GE22 GI23 GL18 GR27 GT28 HR21 HU28 IE22 IL23 IQ23 IS26 IT27 JO30 KW30 KZ20 LB28 LC32 LI21 LT20 LU20 LV21 " +
    "MC27 MD24 ME22 MK19 MR27 MT31 MU30 NL18 NO15 PK24 PL28 PS29 PT25 QA29 RO24 RS22 SA24 SC31 SE24 SI19 SK24 SM27 ST25 " +
    "SV28 TL23 TN24 TR26 UA29 VA22 VG24 XK20").split(" ").map((e) => [e.slice(0, 2), Number(e.slice(2))] as const),
);

interface ValuePattern {
  readonly label: RedactionLabel;
  /**
   * Regex source; every alternative starts at a run boundary (lookbehind) so a failed start costs O(1).
   * Patterns sharing a pass have no capture groups: named groups cost an object per match.
   */
  readonly source: string;
  /** Replacement for a match (may keep an unmatched tail), or undefined to leave the match as it was. */
  readonly replace: (match: string, groups: RegExpExecArray) => string | undefined;
}

const PRIVATE_KEY: ValuePattern = {
  label: "private_key",
  // An unterminated block (cut by truncation) is redacted to the end of the text.
  source: String.raw`-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY[A-Z ]{0,10}-----[\s\S]*?(?:-----END [A-Z0-9 ]{0,40}PRIVATE KEY[A-Z ]{0,10}-----|$)`,
  replace: () => "[private_key]",
};
const URL_CREDENTIALS: ValuePattern = {
  label: "credentials",
  // Greedy to the last `@` before the host so an unescaped `@` in a password does not leak its tail.
  source: String.raw`:\/\/[^\s/?#"'<>]+@`,
  replace: () => "://[credentials]@",
};
const JWT: ValuePattern = { label: "jwt", source: String.raw`(?<![\w-])eyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]*(?![\w+/=-])`, replace: () => "[jwt]" };
const PREFIXED_TOKEN: ValuePattern = {
  label: "token",
  source: String.raw`(?<![\w-])(?:sk-(?:ant-|proj-|svcacct-|admin-)?[\w-]{20,}|gh[pousr]_[A-Za-z0-9]{30,}|github_pat_\w{30,}|xox[abeoprs]-[A-Za-z0-9-]{10,}|A(?:KI|SI)A[0-9A-Z]{16}(?![A-Za-z0-9])|AIza[\w-]{35}|glpat-[\w-]{20,}|npm_[A-Za-z0-9]{36}|[rsp]k_(?:live|test)_[A-Za-z0-9]{16,})`,
  // `sk-` alone is a common word start (`sk-button-primary-large`): demand key-like entropy.
  replace: (m) => (m.startsWith("sk-") && !(DIGIT.test(m) && /[A-Z]/.test(m)) ? undefined : "[token]"),
};
const AUTH_HEADER: ValuePattern = {
  label: "token",
  source: String.raw`\b(Bearer|bearer|BEARER|Basic|basic|BASIC)(\s+)([\w.~+/-]{12,}=*)`,
  replace: (_, [, scheme = "", space = "", value = ""]) =>
    (scheme.toLowerCase() === "bearer" ? DIGIT.test(value) : isBasicCredential(value)) ? `${scheme}${space}[token]` : undefined,
};
/** Emails are found from their `@`: a regex starting at the local part would try every letter of the text. */
const EMAIL_DOMAIN = /@((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){1,8}([A-Za-z]{2,24}))(?![A-Za-z0-9-])/g;
const MAX_EMAIL_LOCAL_CHARS = 64;
const IBAN: ValuePattern = {
  label: "iban",
  source: String.raw`(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?:[A-Z0-9]{11,30}|(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,4})?)(?![A-Za-z0-9])`,
  replace: (m) => redactValidPrefix(m, "[iban]", isIbanValid),
};
const CARD: ValuePattern = {
  label: "card",
  // 13-19 digits, single spaces/dashes allowed; not glued to a longer number, an id or a decimal.
  source: String.raw`(?<![\w.+]|\d[ -])[2-6](?:[ -]?\d){12,18}(?![ -]?\d)`,
  replace: (m) => redactValidPrefix(m, "[card]", (p) => isCardNumber(p.replace(/\D/g, ""))),
};
const IPV4: ValuePattern = {
  label: "ip",
  source: String.raw`(?<![\w.])\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?!\w|\.\d)`,
  // Loopback and the unspecified address say nothing about anyone and are useful in error text.
  replace: (m) => (isIpv4(m) && !m.startsWith("127.") && m !== "0.0.0.0" ? "[ip]" : undefined),
};
const PHONE: ValuePattern = {
  label: "phone",
  // E.164 (`+`, 8-15 digits, separators allowed) | NANP `(555) 234-5678`, `555-234-5678` | trunk-0 national `020 7946 0958`.
  source: String.raw`(?<![\w+])\+[1-9](?:[ .()-]{0,2}\d){7,14}(?![ .()-]{0,2}\d)|(?<![\w.+-]|\d[ .-])(?:1[ .-])?(?:\([2-9]\d\d\) ?\d{3}[ .-]|[2-9]\d\d(?:-\d{3}-|\.\d{3}\.| \d{3} ))\d{4}(?!\w|[.-]\d)|(?<![\w.+/:-]|\d )0\d{1,4}(?: \d{2,8}(?: \d{2,8}){0,4}|-\d{2,8}(?:-\d{2,8}){0,4}|\/\d{2,8}(?:\/\d{2,8}){0,4}|\.\d{2,4}(?:\.\d{2,4}){1,4})(?!\w|[./:-]\d)`,
  replace: (m) => {
    const digits = m.replace(/\D/g, "").length;
    return m.startsWith("+") || (digits >= 10 && digits <= 12) ? "[phone]" : undefined;
  },
};

interface Pass {
  /** Shorter texts cannot hold a match. */
  readonly minChars: number;
  /** Substrings the text must contain for the pass to run (`includes` is a memchr, far cheaper than a scan). */
  readonly needs?: readonly [string, string?];
  readonly needsDigit?: boolean;
  readonly run: (text: string, counts: RedactionCounts) => string;
}

/** One scan for one or more patterns; several share a scan as alternatives (group i+1 is pattern i), measured ~35% cheaper than a scan each. */
function regexPass(pass: Omit<Pass, "run">, ...patterns: ValuePattern[]): Pass {
  const source = patterns.length === 1 ? (patterns[0]?.source ?? "") : patterns.map((p) => `(${p.source})`).join("|");
  const regex = new RegExp(source, "g");
  const run = (text: string, counts: RedactionCounts): string => {
    let out = "";
    let copied = 0;
    regex.lastIndex = 0;
    for (let match = regex.exec(text); match !== null; match = regex.exec(text)) {
      let which = 0; // with several patterns, group i+1 holds pattern i's match
      while (patterns.length > 1 && which < patterns.length - 1 && match[which + 1] === undefined) which++;
      const pattern = patterns[which];
      if (match[0] === "") regex.lastIndex++; // no pattern matches empty today; never loop if one ever does
      const replacement = pattern?.replace(match[0], match);
      if (pattern === undefined || replacement === undefined) continue;
      out += text.slice(copied, match.index) + replacement;
      copied = match.index + match[0].length;
      counts[pattern.label] = (counts[pattern.label] ?? 0) + 1;
    }
    return copied === 0 ? text : out + text.slice(copied);
  };
  return { ...pass, run };
}

/** In order: wide shapes first so a JWT is not half-eaten as a token, URL userinfo before emails, IPv6 before IPv4. */
const PASSES: readonly Pass[] = [
  regexPass({ minChars: 40, needs: ["PRIVATE KEY"] }, PRIVATE_KEY),
  regexPass({ minChars: 5, needs: ["://", "@"] }, URL_CREDENTIALS),
  regexPass({ minChars: 16, needs: ["eyJ"] }, JWT),
  regexPass({ minChars: 15 }, PREFIXED_TOKEN),
  regexPass({ minChars: 18 }, AUTH_HEADER),
  { minChars: 6, needs: ["@"], run: redactEmails },
  { minChars: 4, needs: [":"], needsDigit: true, run: redactIpv6 },
  regexPass({ minChars: 7, needsDigit: true }, IBAN, CARD, IPV4, PHONE),
];
/** Base64 payloads (images, files) this long are opaque: every pattern needs a boundary a blob lacks, so scanning one only costs time. */
const MIN_BLOB_CHARS = 256;
const BASE64_BLOB = /^(?:data:[\w/+.-]+;base64,)?[A-Za-z0-9+/=]+$/;

/**
 * Replaces every pattern match in `text` with its `[label]` and counts it in `counts`.
 * Returns `text` itself (same reference) when nothing matched. Never throws.
 */
export function redactText(text: string, counts: RedactionCounts): string {
  if (text.length < MIN_CANDIDATE_CHARS || !ANY_TRIGGER.test(text)) return text;
  if (text.length >= MIN_BLOB_CHARS && BASE64_BLOB.test(text)) return text;
  const hasDigit = DIGIT.test(text);
  let out = text;
  for (const pass of PASSES) {
    if (out.length < pass.minChars || (pass.needsDigit === true && !hasDigit)) continue;
    const needs = pass.needs; // indexed, not destructured: destructuring walks an iterator
    if (needs === undefined || (out.includes(needs[0]) && (needs[1] === undefined || out.includes(needs[1])))) out = pass.run(out, counts);
  }
  return out;
}

/** Emails: a dotted domain with an alphabetic TLD (`user@localhost`, `a@b`, `pkg@1.2.3` stay), not a file name (`icon@2x.png`). */
function redactEmails(text: string, counts: RedactionCounts): string {
  let out = "";
  let copied = 0;
  EMAIL_DOMAIN.lastIndex = 0;
  for (let match = EMAIL_DOMAIN.exec(text); match !== null; match = EMAIL_DOMAIN.exec(text)) {
    const at = match.index;
    let start = at;
    while (start > copied && at - start <= MAX_EMAIL_LOCAL_CHARS && isEmailLocalCode(text.charCodeAt(start - 1))) start--;
    const domain = match[1] ?? "";
    const tld = match[2] ?? "";
    if (start === at || at - start > MAX_EMAIL_LOCAL_CHARS || FILE_EXTENSIONS.has(tld.toLowerCase()) || /^\d+x\./i.test(domain)) continue;
    out += `${text.slice(copied, start)}[email]`;
    copied = at + match[0].length;
    counts.email = (counts.email ?? 0) + 1;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/**
 * IPv6 by walking the colons instead of a regex: a pattern that may start at any hex digit costs a
 * full scan, while colons are rare. Loopback `::1`, and forms without a decimal digit
 * (`Cafe::Add`-style identifiers), stay.
 */
function redactIpv6(text: string, counts: RedactionCounts): string {
  if (!text.includes("::") && !hasColons(text, MIN_FULL_IPV6_COLONS)) return text; // `10:30:00`, `key: value`
  let out = "";
  let copied = 0;
  for (let colon = text.indexOf(":"); colon !== -1; ) {
    let start = colon;
    while (start > colon - 4 && isHexCode(text.charCodeAt(start - 1))) start--;
    let end = colon;
    while (end < text.length && (isHexCode(text.charCodeAt(end)) || text[end] === ":" || text[end] === ".")) end++;
    const resume = end;
    while (text[end - 1] === ".") end--; // a sentence's full stop
    if (text[end - 1] === ":" && text[end - 2] !== ":") end--; // `fe80::1: connection refused`
    const candidate = text.slice(start, end);
    if (end - start <= MAX_IPV6_CHARS && !/[\w:.]/.test(text.charAt(start - 1)) && !/\w/.test(text.charAt(end)) && DIGIT.test(candidate) && candidate !== "::1" && isIpv6(candidate)) {
      out += `${text.slice(copied, start)}[ip]`;
      copied = end;
      counts.ip = (counts.ip ?? 0) + 1;
    }
    colon = text.indexOf(":", resume);
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/** `[A-Za-z0-9_.%+-]`, the local-part characters the email rule accepts. */
const isEmailLocalCode = (code: number): boolean => isWordCode(code) || code === 46 || code === 37 || code === 43 || code === 45;
const isWordCode = (code: number): boolean => (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 95;
function hasColons(text: string, wanted: number): boolean {
  let seen = 0;
  for (let at = text.indexOf(":"); at !== -1 && seen < wanted; at = text.indexOf(":", at + 1)) seen++;
  return seen >= wanted;
}
const isHexCode = (code: number): boolean => (code >= 48 && code <= 57) || (code >= 65 && code <= 70) || (code >= 97 && code <= 102);

/** The longest prefix of `match` ending at a separator boundary that passes `isValid` becomes `label`; the tail stays. */
function redactValidPrefix(match: string, label: string, isValid: (prefix: string) => boolean): string | undefined {
  if (isValid(match)) return label;
  for (let end = match.length - 1; end > 0; end--) {
    if ((match[end] === " " || match[end] === "-") && isValid(match.slice(0, end))) return label + match.slice(end);
  }
  return undefined;
}

/** Luhn (mod-10) check over a string of digits; false for anything else. */
export function isLuhnValid(digits: string): boolean {
  if (!/^\d+$/.test(digits)) return false;
  let sum = 0;
  for (let i = digits.length - 1, double = false; i >= 0; i--, double = !double) {
    let d = digits.charCodeAt(i) - 48;
    if (double && (d *= 2) > 9) d -= 9;
    sum += d;
  }
  return sum % 10 === 0;
}

/**
 * A payment card number: 13-19 digits, an issuer prefix in use (Visa 4, Mastercard 51-55 and 2221-2720,
 * Amex/Diners/JCB 3, Discover/UnionPay/Maestro 5-6, Mir 2200-2204) and a valid Luhn digit.
 * The prefix rule keeps epoch-millisecond timestamps (`1…`) and `20…` date stamps out.
 */
export function isCardNumber(digits: string): boolean {
  if (digits.length < 13 || digits.length > 19 || !/^[2-6]/.test(digits)) return false;
  if (digits.startsWith("2")) {
    const iin = Number(digits.slice(0, 4));
    if (!((iin >= 2221 && iin <= 2720) || (iin >= 2200 && iin <= 2204))) return false;
  }
  return isLuhnValid(digits);
}

/** ISO 13616 IBAN check: known country, its exact length, and mod-97 == 1. Spaces are ignored. */
export function isIbanValid(text: string): boolean {
  const iban = text.replace(/ /g, "");
  if (IBAN_LENGTHS.get(iban.slice(0, 2)) !== iban.length || !/^[A-Z]{2}\d{2}[A-Z0-9]+$/.test(iban)) return false;
  let rest = 0;
  for (const ch of iban.slice(4) + iban.slice(0, 4)) {
    const code = ch.charCodeAt(0);
    const value = code >= 65 ? code - 55 : code - 48; // A=10 … Z=35
    rest = (value > 9 ? rest * 100 + value : rest * 10 + value) % 97;
  }
  return rest === 1;
}

/** A syntactically valid IPv6 address (RFC 4291 text forms, with at most one `::` and an optional IPv4 tail). */
export function isIpv6(text: string): boolean {
  let groups = text;
  let extra = 0;
  const lastColon = text.lastIndexOf(":");
  if (text.includes(".", lastColon)) {
    if (!isIpv4(text.slice(lastColon + 1))) return false;
    groups = text.slice(0, lastColon + 1) + "0"; // stand-in group; the IPv4 tail counts as two
    extra = 1;
  }
  const halves = groups.split("::");
  if (halves.length > 2) return false;
  const parts = halves.map((h) => (h === "" ? [] : h.split(":")));
  if (parts.some((p) => p.some((g) => !/^[0-9A-Fa-f]{1,4}$/.test(g)))) return false;
  const count = parts.reduce((n, p) => n + p.length, extra);
  return halves.length === 2 ? count <= 7 : count === 8;
}

/** Four dotted decimal octets 0-255 without leading zeros. */
function isIpv4(text: string): boolean {
  const octets = text.split(".");
  return octets.length === 4 && IPV4_OCTET.test(octets[0] ?? "") && IPV4_OCTET.test(octets[1] ?? "") && IPV4_OCTET.test(octets[2] ?? "") && IPV4_OCTET.test(octets[3] ?? "");
}

/** `Basic` credentials are base64 of `user:password`; checking that keeps prose like "Basic usage" intact. */
function isBasicCredential(value: string): boolean {
  try {
    return /^[A-Za-z0-9+/]+=*$/.test(value) && atob(value).includes(":");
  } catch {
    return false;
  }
}

/**
 * Secret key names, longest first so `client_secret` wins over `secret`. A key matches when its
 * normalised form (lower-case, letters and digits only) ends with one: `user_password`, `X-Api-Key`,
 * `sessionToken`, `oauth` (ends with `auth`). `max_tokens`, `tokenizer_name`, `author`, `session_id` do not.
 */
const SECRET_KEYS = ("client_secret refresh_token access_token private_key set-cookie secret_key access_key api_key " +
  "authorization credentials credential passphrase passwords password passwd cookies cookie secrets secret session token auth pwd").split(" ");
/** These also match as a whole word anywhere in the key: `password_hash`, `secret_name`, `cookie_jar`, `api_key_id`. */
const ANYWHERE_KEYS = new Set("clientsecret privatekey setcookie apikey authorization credentials credential passphrase passwords password passwd cookies cookie secrets secret".split(" "));
/** Longer keys are data, not field names; they skip the rule (and the cache). */
const MAX_MATCHED_KEY_CHARS = 128;
/** Keys repeat across events, so answers are cached; the cache is dropped whole when full. */
const KEY_CACHE_ENTRIES = 4096;

/** Returns the keyword a key name matches (`"password"`, `"api_key"`, or a configured extra key), else undefined. */
export type KeyMatcher = (key: string) => string | undefined;

/**
 * Builds the key-name rule. `extraKeys` (from `Config.scrubKeys`) match on the whole normalised key
 * (`x_tenant_ref` matches `X-Tenant-Ref`), never as a suffix, so `name` does not catch `filename`.
 */
export function createKeyMatcher(extraKeys: readonly string[]): KeyMatcher {
  const extras = new Map(extraKeys.map((k) => [splitKeyWords(k).join(""), k] as const).filter(([n]) => n !== ""));
  const cache = new Map<string, string | undefined>();
  return (key) => {
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
}

/** `X-Api-Key` / `sessionToken` / `HTTP_AUTH` → lower-case words, split on separators and camelCase humps. */
function splitKeyWords(key: string): string[] {
  const spaced = key.replace(/([a-z0-9])([A-Z])/g, "$1 $2").replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2");
  return spaced.toLowerCase().split(/[^a-z0-9]+/).filter((w) => w !== "");
}
