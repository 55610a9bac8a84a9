// The two redactions a regex alone cannot decide (emails by their domain and TLD, IPv6 by walking its colons). Pure text in, text out.

import type { RedactionCounts } from "./scrub-patterns.ts";
import { isIpv6 } from "./scrub-validators.ts";

/** Longest IPv6 text form: eight groups, or six plus an IPv4 tail. */
const MAX_IPV6_CHARS = 45;
/** An uncompressed IPv6 address has 7 colons, or 6 before an IPv4 tail; fewer and no `::` means none is present. */
const MIN_FULL_IPV6_COLONS = 6;

/** Image and source-file extensions that look like TLDs in `icon@2x.png` or `pkg@lib.js`; none is a real TLD. */
const FILE_EXTENSIONS = new Set(
  "png jpg jpeg gif svg webp ico bmp avif js mjs cjs ts tsx jsx css scss map json yaml yml lock txt html wasm".split(
    " ",
  ),
);

/**
 * Labels and TLD may be internationalised (`müller.de`, `пример.рф`): letters and digits of any script.
 * The `@` may be URL-encoded (`?email=bob%40example.com`) or a JSON escape in JSON text, once or
 * twice escaped (`bob\u0040example.com`: HTML-safe serialisers write it so).
 */
const EMAIL_DOMAIN =
  /(?:@|%40|\\+u0040)((?:[\p{L}\p{N}](?:[\p{L}\p{N}\p{M}-]{0,61}[\p{L}\p{N}\p{M}])?\.){1,8}(\p{L}[\p{L}\p{M}]{1,23}))(?![\p{L}\p{N}\p{M}-])/gu;
const MAX_EMAIL_LOCAL_CHARS = 64;
const DIGIT = /\d/;

/**
 * Emails (`@`, `%40` or `\u0040`): a dotted domain with an alphabetic TLD (`user@localhost`, `a@b`, `pkg@1.2.3`
 * stay), not a file name (`icon@2x.png`), nor a git remote (`git@github.com:org/repo.git` names a repository, not a person).
 */
export function redactEmails(text: string, counts: RedactionCounts): string {
  let out = "";
  let copied = 0;
  EMAIL_DOMAIN.lastIndex = 0;
  for (let match = EMAIL_DOMAIN.exec(text); match !== null; match = EMAIL_DOMAIN.exec(text)) {
    const at = match.index;
    let start = at;
    while (start > copied && at - start <= MAX_EMAIL_LOCAL_CHARS && isEmailLocalCode(text.charCodeAt(start - 1)))
      start--;
    const domain = match[1] ?? "";
    const tld = match[2] ?? "";
    if (
      start === at ||
      at - start > MAX_EMAIL_LOCAL_CHARS ||
      FILE_EXTENSIONS.has(tld.toLowerCase()) ||
      /^\d+x\./i.test(domain) ||
      isGitRemote(text, start, at + match[0].length)
    )
      continue;
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
export function redactIpv6(text: string, counts: RedactionCounts): string {
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
    if (
      end - start <= MAX_IPV6_CHARS &&
      !/[\w:.]/.test(text.charAt(start - 1)) &&
      !/\w/.test(text.charAt(end)) &&
      DIGIT.test(candidate) &&
      candidate !== "::1" &&
      isIpv6(candidate)
    ) {
      out += `${text.slice(copied, start)}[ip]`;
      copied = end;
      counts.ip = (counts.ip ?? 0) + 1;
    }
    colon = text.indexOf(":", resume);
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/** `git@host:path`, the scp form of a git remote (the path right after the colon). */
const isGitRemote = (text: string, start: number, end: number): boolean =>
  text.startsWith("git@", start) && text[end] === ":" && /[\w~./-]/.test(text.charAt(end + 1));

/** `[A-Za-z0-9_.%+-]` and letters of any script (`jörg@…`, RFC 6531), the local-part characters the email rule accepts. */
const isEmailLocalCode = (code: number): boolean =>
  isWordCode(code) ||
  code === 46 ||
  code === 37 ||
  code === 43 ||
  code === 45 ||
  (code >= 0xc0 && NON_ASCII_LETTER.test(String.fromCharCode(code)));
/** A letter or combining mark outside ASCII (a surrogate half stands for an astral letter: kept with its pair). */
const NON_ASCII_LETTER = /[\p{L}\p{M}\p{N}\ud800-\udfff]/u;
const isWordCode = (code: number): boolean =>
  (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 95;
function hasColons(text: string, wanted: number): boolean {
  let seen = 0;
  for (let at = text.indexOf(":"); at !== -1 && seen < wanted; at = text.indexOf(":", at + 1)) seen++;
  return seen >= wanted;
}
const isHexCode = (code: number): boolean =>
  (code >= 48 && code <= 57) || (code >= 65 && code <= 70) || (code >= 97 && code <= 102);
