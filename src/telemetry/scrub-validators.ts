// Checksum and syntax checks that confirm a pattern match (Luhn, card issuer, IBAN, IPv4/IPv6, Basic credentials). Pure predicates: no regex scanning of free text, no redaction.

const IPV4_OCTET = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
/** IBAN length by country (ISO 13616 registry); a code not listed here is not an IBAN. */
const IBAN_LENGTHS = new Map(
  (
    "AD24 AE23 AL28 AT20 AZ28 BA20 BE16 BG22 BH22 BR29 BY28 CH21 CR22 CY28 CZ24 DE22 DK18 DO28 EE20 EG29 ES24 FI18 FO18 " +
    "FR27 GB22 GE22 GI23 GL18 GR27 GT28 HR21 HU28 IE22 IL23 IQ23 IS26 IT27 JO30 KW30 KZ20 LB28 LC32 LI21 LT20 LU20 LV21 " +
    "MC27 MD24 ME22 MK19 MR27 MT31 MU30 NL18 NO15 PK24 PL28 PS29 PT25 QA29 RO24 RS22 SA24 SC31 SE24 SI19 SK24 SM27 ST25 " +
    "SV28 TL23 TN24 TR26 UA29 VA22 VG24 XK20"
  )
    .split(" ")
    .map((e) => [e.slice(0, 2), Number(e.slice(2))] as const),
);

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
 * A payment card number: an issuer prefix in use, a length that issuer gives it, and a valid Luhn digit.
 * The prefix rule keeps epoch-millisecond timestamps (`1…`) and `20…` date stamps out; the length
 * rule keeps Luhn-valid long ids (a 17- or 18-digit snowflake starting with 4) whole.
 */
export function isCardNumber(digits: string): boolean {
  return isCardLength(digits) && isLuhnValid(digits);
}

/** Lengths by issuer prefix (ISO/IEC 7812 IINs as the networks publish them); 13 is the shortest the scrub looks at. */
function isCardLength(digits: string): boolean {
  const n = digits.length;
  if (n < 13 || n > 19) return false;
  const two = Number(digits.slice(0, 2));
  switch (digits.charCodeAt(0) - 48) {
    case 2: {
      const iin = Number(digits.slice(0, 4));
      if (iin >= 2221 && iin <= 2720) return n === 16; // Mastercard 2-series
      return iin >= 2200 && iin <= 2204 && n >= 16; // Mir
    }
    case 3:
      if (two === 34 || two === 37) return n === 15; // Amex
      return n === 14 || n >= 16; // Diners (14-19), JCB (16-19)
    case 4:
      return n === 13 || n === 16 || n === 19; // Visa
    case 5:
      if (two >= 51 && two <= 55) return n === 16; // Mastercard
      return true; // Maestro (50, 56-58: 12-19)
    case 6:
      if (two === 63 || two === 67) return true; // Maestro (12-19)
      return n >= 16; // Discover, UnionPay, RuPay, Maestro 6x (16-19)
    default:
      return false;
  }
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
export function isIpv4(text: string): boolean {
  const octets = text.split(".");
  return (
    octets.length === 4 &&
    IPV4_OCTET.test(octets[0] ?? "") &&
    IPV4_OCTET.test(octets[1] ?? "") &&
    IPV4_OCTET.test(octets[2] ?? "") &&
    IPV4_OCTET.test(octets[3] ?? "")
  );
}

/** `Basic` credentials are base64 of `user:password`; checking that keeps prose like "Basic usage" intact. Never throws (bad base64 is false). */
export function isBasicCredential(value: string): boolean {
  try {
    return /^[A-Za-z0-9+/]+=*$/.test(value) && atob(value).includes(":");
  } catch {
    return false;
  }
}

/** Lower-case letters followed by an upper-case one, this many times: random letters, not a word or a camel-case name. */
const MIN_BEARER_CASE_CHANGES = 3;

/**
 * A `Bearer` value is a token, not prose ("Bearer of bad news", "Bearer authentication"), when it holds a
 * digit or changes from lower to upper case often (`abcDEFghiJKLmno`, as random letters do).
 */
export function isBearerToken(value: string): boolean {
  let changes = 0;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code >= 48 && code <= 57) return true;
    if (code >= 65 && code <= 90 && i > 0) {
      const before = value.charCodeAt(i - 1);
      if (before >= 97 && before <= 122 && ++changes >= MIN_BEARER_CASE_CHANGES) return true;
    }
  }
  return false;
}
