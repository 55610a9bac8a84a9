// Table tests for the value patterns, their validators and the key-name rule: every pattern has positives AND near misses.

import { describe, expect, test } from "bun:test";
import { createKeyMatcher } from "../src/telemetry/scrub-keys.ts";
import {
  redactText,
  redactTextFully,
  SHORT_DIGIT_PASS_CHARS,
  SHORT_TEXT_CHARS,
} from "../src/telemetry/scrub-patterns.ts";
import { isCardNumber, isIbanValid, isIpv6, isLuhnValid } from "../src/telemetry/scrub-validators.ts";

function redact(text: string): { out: string; counts: Record<string, number> } {
  const counts: Record<string, number> = {};
  return { out: redactText(text, counts), counts };
}

// [input, expected output] — every line names what it proves.
const REDACTED: [string, string][] = [
  ["mail bob@x.com now", "mail [email] now"],
  ["Bob.Smith+tag@mail.example.co.uk,", "[email],"],
  ["end of sentence alice@example.org.", "end of sentence [email]."],
  ["4111 1111 1111 1111", "[card]"],
  ["card 4111-1111-1111-1111 exp", "card [card] exp"],
  ["pan=5500005555555559;", "pan=[card];"],
  ["amex 378282246310005", "amex [card]"],
  ["4111 1111 1111 1111 12/27", "[card] 12/27"], // the trailing expiry is not part of the number
  ["visa 4222222222222 old", "visa [card] old"], // Visa's 13 digits
  ["visa 4111111111111111110", "visa [card]"], // Visa's 19 digits
  ["amex 3782 822463 10005", "amex [card]"], // Amex 4-6-5
  ["diners 3056 9309 0259 04", "diners [card]"], // Diners 14 digits
  ["discover 6011000000000000001", "discover [card]"], // Discover 19 digits
  ["unionpay 620000000000000005", "unionpay [card]"], // UnionPay 18 digits
  ["maestro 675955555555555", "maestro [card]"], // Maestro 15 digits
  ["mir 220000000000000004", "mir [card]"], // Mir 18 digits
  // JSON text from a serialiser that escapes `@` (HTML-safe encoders): `\u0040`, once or twice escaped.
  [String.raw`{"owner":"bob.smith\u0040example.com","n":1}`, `{"owner":"[email]","n":1}`],
  [String.raw`{\"owner\":\"bob.smith\\u0040example.com\"}`, String.raw`{\"owner\":\"[email]\"}`],
  [String.raw`to: Bob <BOB\u0040Mail.Example.org>`, "to: Bob <[email]>"],
  ["DE89 3704 0044 0532 0130 00", "[iban]"],
  ["iban: GB82WEST12345698765432.", "iban: [iban]."],
  ["DE89 3704 0044 0532 0130 00 AND MORE", "[iban] AND MORE"],
  ["+1 (555) 123-4567", "[phone]"],
  ["+44 20 7946 0958 (office)", "[phone] (office)"],
  ["+4915112345678", "[phone]"],
  ["call (555) 234-5678 today", "call [phone] today"],
  ["555-234-5678", "[phone]"],
  ["555.234.5678", "[phone]"],
  ["1-800-555-1234", "[phone]"],
  ["020 7946 0958", "[phone]"],
  ["06 12 34 56 78", "[phone]"],
  ["06.12.34.56.78", "[phone]"],
  ["connect 10.0.0.5:8080 failed", "connect [ip]:8080 failed"],
  ["1.2.3.4", "[ip]"], // a valid dotted quad is an address, even if someone meant a version
  ["from 192.168.1.20.", "from [ip]."],
  ["2001:db8::1", "[ip]"],
  ["[fe80::1ff:fe23:4567:890a]:443", "[[ip]]:443"],
  ["2001:0db8:85a3:0000:0000:8a2e:0370:7334", "[ip]"],
  ["::ffff:192.0.2.128", "[ip]"],
  ["host 2001:db8::42: refused", "host [ip]: refused"],
  ["https://user:pass@example.com/x", "https://[credentials]@example.com/x"],
  ["postgres://admin:s3cr@t@db.internal:5432/app", "postgres://[credentials]@db.internal:5432/app"],
  ["git clone https://ghp_token@github.com/o/r", "git clone https://[credentials]@github.com/o/r"],
  ["eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", "[jwt]"],
  ["id_token=eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.", "id_token=[jwt]"], // unsigned JWT
  ["key sk-proj-Abc123def456GHI789jkl012MNO", "key [token]"],
  ["sk-ant-api03-AbCdEf0123456789abcdefGHIJ", "[token]"],
  // A vendor prefix is a key by itself, whatever the letters after it (the entropy check is for bare `sk-`).
  ["sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123", "[token]"],
  ["sk-proj-abcdefghijklmnopqrstuvwxyz", "[token]"],
  ["sk-Abcdefghij0123456789KLMNOPQRSTUVWXYZabcdefgh", "[token]"],
  ["ghp_abcdefghijklmnopqrstuvwxyz0123456789", "[token]"],
  ["gho_ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", "[token]"],
  ["github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", "[token]"],
  ["xoxb-123456789012-abcdefghij", "[token]"],
  ["aws AKIAIOSFODNN7EXAMPLE", "aws [token]"],
  ["ASIAY34FZKBOKMUTVV7A", "[token]"],
  ["AIzaSyA1234567890abcdefghijklmnopqrstuv", "[token]"],
  ["glpat-abcdefghij0123456789", "[token]"],
  ["npm_abcdefghijklmnopqrstuvwxyz0123456789", "[token]"],
  ["sk_live_4eC39HqLyjWDarjtT1zdp7dc", "[token]"],
  ["rk_live_4eC39HqLyjWDarjtT1zdp7dc", "[token]"],
  ["pk_live_4eC39HqLyjWDarjtT1zdp7dc", "[token]"],
  ["Authorization: Bearer abc123def456ghi789", "Authorization: Bearer [token]"],
  ["Basic dXNlcjpwYXNzd29yZA==", "Basic [token]"],
  // Alone in a string, with no digit and none of `@ : _ -` (the pre-check's triggers): base64 of user:pass.
  ["Basic dXNlcjpwYXNz", "Basic [token]"],
  ["BASIC dXNlcjpwYXNz", "BASIC [token]"],
  ["bAsIc dXNlcjpwYXNz", "bAsIc [token]"], // HTTP's scheme names are case-insensitive
  ["send Basic dXNlcjpwYXNz now", "send Basic [token] now"],
  // A bearer token of letters only: its case changes mark it as no word.
  ["Bearer abcDEFghiJKLmnoPQR", "Bearer [token]"],
  ["BeArEr abcDEFghiJKLmnoPQR", "BeArEr [token]"],
  ["send Authorization: Bearer abcDEFghiJKLmnoPQR please", "send Authorization: Bearer [token] please"],
  ["-----BEGIN RSA PRIVATE KEY-----\nMIIabc\n-----END RSA PRIVATE KEY----- after", "[private_key] after"],
  ["x -----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk (cut by truncation)", "x [private_key]"],
  ["-----BEGIN PGP PRIVATE KEY BLOCK-----\nlQ\n-----END PGP PRIVATE KEY BLOCK-----", "[private_key]"],
];

// Near misses: each must come back byte-for-byte unchanged.
const KEPT: string[] = [
  "user@localhost", // no dotted domain: RFC-valid, but local-only and common in configs and code
  "@decorator",
  "a@b",
  "foo@2x.png",
  "icon@3x.webp",
  "npm i left-pad@1.3.0",
  "@scope/pkg@latest",
  "order 4111111111111112", // 16 digits, fails Luhn
  String.raw`{"tag":"\u0040Component","at":"pkg\u00401.2.3"}`, // an escaped `@` without a dotted domain
  "1234567812345678", // 16 digits, no card issuer starts with 1
  // Luhn-valid ids of a length no issuer gives that prefix (snowflakes, long numeric ids):
  "id 41234567890123458", // 17 digits starting with 4: Visa is 13, 16 or 19
  "user 412345678901234561", // 18 digits starting with 4
  "order 550000555555555553", // 18 digits in Mastercard's 51-55: Mastercard is 16
  "ref 37123456789012349", // 17 digits in Amex's 37: Amex is 15
  "1732406400000", // epoch milliseconds
  "20261124103000123", // compact timestamp
  "DE89 3704 0044 0532 0130 01", // IBAN with a wrong check
  "XX89370400440532013000", // unknown country
  "12345",
  "2026-11-24",
  "2026-11-24T10:30:00.123456Z",
  "01.02.2026 10.30",
  "1.5.0",
  "v1.2.3",
  "v1.2.3.4",
  "1.2.3.4.5",
  "999.1.1.1",
  "10.0.0.256",
  "127.0.0.1",
  "0.0.0.0",
  "::1",
  "10:30:00",
  "std::vector<int>",
  "Cafe::Add",
  "00:1A:2B:3C:4D:5E", // MAC addresses are not redacted
  "550e8400-e29b-41d4-a716-446655440000",
  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  "id 123456789 and 42",
  "price 3.14159265358979",
  "task-list sk-button-primary-large-thing",
  "risk-assessment-matrix-for-the-quarter",
  "mask_live_data_toggle",
  "Bearer of bad news today",
  "Basic usage of the thing-12345",
  "Bearer authentication and Basic authentication schemes",
  "Basic AuthenticationFlow", // base64 of no user:pass
  "the Bearer JsonWebToken format", // a camel-case name, two case changes
  "eyJhbGciOiJIUzI1NiJ9.eyJzdWIi+OiIx.abc/def", // not base64url
  "eyJhbGciOiJIUzI1NiJ9", // one segment
  "see https://example.com/a@b", // `@` in the path, not userinfo
  "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----",
  "+0100",
  "time +05:30",
  "tel 12 34",
  "ref 0.123456789",
];

describe("redactText", () => {
  test.each(REDACTED)("redacts %p", (input, expected) => {
    const { out, counts } = redact(input);
    expect(out).toBe(expected);
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  });

  test.each(KEPT.map((k) => [k]))("keeps %p", (input) => {
    const { out, counts } = redact(input);
    expect(out).toBe(input);
    expect(counts).toEqual({});
  });

  test("counts by label and replaces only the matched spans", () => {
    const { out, counts } = redact("a@x.com, b@y.org from 10.1.2.3 with ghp_abcdefghijklmnopqrstuvwxyz0123456789");
    expect(out).toBe("[email], [email] from [ip] with [token]");
    expect(counts).toEqual({ email: 2, ip: 1, token: 1 });
  });

  test("returns the same string when nothing matched (no copy)", () => {
    const text = "plain words only, nothing to see";
    expect(redactText(text, {})).toBe(text);
  });

  test("a long base64 blob is opaque and not scanned", () => {
    const blob = Buffer.from(new Uint8Array(3000).map((_, i) => (i * 7919) % 256)).toString("base64");
    expect(redactText(blob, {})).toBe(blob);
    expect(redactText(`data:image/png;base64,${blob}`, {})).toBe(`data:image/png;base64,${blob}`);
  });
});

describe("the short-text shortcut gives the passes' own answers", () => {
  /** Both paths on the same text: same output, same counts. */
  const same = (text: string): void => {
    const fast: Record<string, number> = {};
    const full: Record<string, number> = {};
    expect([redactText(text, fast), fast]).toEqual([redactTextFully(text, full), full]);
  };

  test("the thresholds derived from the passes: a provider token (15) and a digit pass (7)", () => {
    expect(SHORT_TEXT_CHARS).toBe(15);
    expect(SHORT_DIGIT_PASS_CHARS).toBe(7);
  });

  test("at the thresholds: the shortest JWT and IPv4 address are still redacted", () => {
    // 16 characters, the JWT pass's minimum (its `-` lets it past the trigger check), and 7, the digit passes'.
    for (const [text, out] of [
      ["eyJab-de.fghij.k", "[jwt]"],
      ["1.2.3.4", "[ip]"],
      ["a@b.io", "[email]"],
      ["fe80::1", "[ip]"],
    ] as const) {
      expect(redactText(text, {})).toBe(out);
      same(text);
    }
  });

  test("200 000 random short strings over the characters every pattern is made of", () => {
    const alphabet = "aeJyxkKIAsghp0123456789@:._-/+= ()#";
    let seed = 7;
    const next = (n: number): number => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return seed % n;
    };
    for (let i = 0; i < 200_000; i++) {
      let text = "";
      for (let n = next(SHORT_TEXT_CHARS + 4); n > 0; n--) text += alphabet[next(alphabet.length)];
      same(text);
    }
  });

  test("every entry of the redacted and kept lists", () => {
    for (const [input] of REDACTED) same(input);
    for (const input of KEPT) same(input);
  });
});

describe("validators", () => {
  test.each([
    ["4111111111111111", true],
    ["4111111111111112", false],
    ["79927398713", true],
    ["", false],
    ["41x1", false],
  ] as const)("isLuhnValid(%p) is %p", (digits, ok) => expect(isLuhnValid(digits)).toBe(ok));

  test.each([
    ["4111111111111111", true],
    ["2223003122003222", true], // Mastercard 2-series
    ["2026112410300012", false], // `20…` is no issuer, even when Luhn passes
    ["1111111111111117", false],
    ["411111111111", false], // 12 digits
    ["4222222222222", true], // Visa 13
    ["4111111111111111110", true], // Visa 19
    ["41234567890123458", false], // 17 digits: no Visa length
    ["412345678901234561", false], // 18 digits: no Visa length
    ["550000555555555553", false], // Mastercard is 16 only
    ["2223003122003222002", false], // nor in its 2-series (19 digits, Luhn-valid)
    ["37123456789012349", false], // Amex is 15 only
    ["378282246310005", true],
    ["30569309025904", true], // Diners 14
    ["6011000000000000001", true], // Discover 19
  ] as const)("isCardNumber(%p) is %p", (digits, ok) => expect(isCardNumber(digits)).toBe(ok));

  test.each([
    ["DE89370400440532013000", true],
    ["DE89 3704 0044 0532 0130 00", true],
    ["GB82WEST12345698765432", true],
    ["NO9386011117947", true],
    ["DE89370400440532013001", false],
    ["DE8937040044053201300", false], // one short for DE
  ] as const)("isIbanValid(%p) is %p", (iban, ok) => expect(isIbanValid(iban)).toBe(ok));

  test.each([
    ["2001:db8::1", true],
    ["::", true],
    ["1:2:3:4:5:6:7:8", true],
    ["::ffff:192.0.2.1", true],
    ["1:2:3:4:5:6:7", false],
    ["1::2::3", false],
    ["12345::1", false],
    ["::ffff:999.0.2.1", false],
  ] as const)("isIpv6(%p) is %p", (text, ok) => expect(isIpv6(text)).toBe(ok));
});

describe("key-name rule", () => {
  const match = createKeyMatcher(["x_tenant_ref"]);
  test.each([
    ["password", "password"],
    ["user_password", "password"],
    ["PASSWORD", "password"],
    ["passwordHash", "password"],
    ["db_passwd", "passwd"],
    ["pwd", "pwd"],
    ["client_secret", "client_secret"],
    ["secret_name", "secret"],
    ["X-Api-Key", "api_key"],
    ["apiKey", "api_key"],
    ["APIKEY", "api_key"],
    ["api-key-id", "api_key"],
    ["Authorization", "authorization"],
    ["proxy_auth", "auth"],
    ["oauth", "auth"],
    ["Cookie", "cookie"],
    ["Set-Cookie", "set-cookie"],
    ["session", "session"],
    ["sessionToken", "token"],
    ["access_token", "access_token"],
    ["refreshToken", "refresh_token"],
    ["nextPageToken", "token"],
    ["private_key", "private_key"],
    ["credentials", "credentials"],
    ["aws_secret_access_key", "access_key"],
    ["X-Tenant-Ref", "x_tenant_ref"], // extra key, matched on the normalised name
  ] as const)("%p is a secret key (%p)", (key, keyword) => expect(match(key)).toBe(keyword));

  test.each([
    "tokenizer_name",
    "max_tokens",
    "token_count",
    "input_tokens",
    "author",
    "auth_method",
    "session_id",
    "keyboard",
    "secretary",
    "primary_key",
    "tenant_ref_name",
    "name",
  ])("%p is not a secret key", (key) => expect(match(key)).toBeUndefined());

  test("a key name of up to 128 characters is matched; a longer one is data, not a name", () => {
    expect(match(`${"x".repeat(119)}_password`)).toBe("password"); // 128
    expect(match(`${"x".repeat(120)}_password`)).toBeUndefined(); // 129
  });
});
