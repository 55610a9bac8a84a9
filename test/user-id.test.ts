import { describe, expect, test } from "bun:test";
import { canonicalPrincipal, hashUserId, principalFromHeaders } from "../src/identity/user-id.ts";

describe("h1 user_id (UPSTREAM-LATER §6 vectors)", () => {
  test.each([
    ["u123", "acme", "tenant-secret-key", "h1:f2a9be1307559c65f32bc1d925d02aa4c0e8d4309c2d1f470027120502dfd64a"],
    ["  U123 ", "acme", "tenant-secret-key", "h1:f2a9be1307559c65f32bc1d925d02aa4c0e8d4309c2d1f470027120502dfd64a"],
    [
      "employee-4417",
      "tenant-parity",
      "parity-corpus-key-🔑",
      "h1:311e59dcfc8cf3abb267b85dec03bc3e924b2e3fa9d627209a9cfaf0f1164d47",
    ],
    [
      "\ufeffemployee-4417",
      "tenant-parity",
      "parity-corpus-key-🔑",
      "h1:8cd2644e70b39a343b6abd57a6a5a436292d3c41955b5a0b473a97a5e85030e0",
    ],
  ])("%j in %s", (id, tenant, key, expected) => {
    expect(hashUserId({ id }, tenant, key)).toBe(expected);
  });

  test("tenants, keys and issuers separate the same user", () => {
    const base = hashUserId({ id: "u1" }, "a", "k");
    expect(hashUserId({ id: "u1" }, "b", "k")).not.toBe(base);
    expect(hashUserId({ id: "u1" }, "a", "k2")).not.toBe(base);
    expect(hashUserId({ id: "u1", issuer: "https://idp.example" }, "a", "k")).not.toBe(base);
  });

  test.each([
    ["Python strip removes U+001C..U+001F and U+0085, keeps U+FEFF", "\u001c\u0085 Bob\u3000", "bob"],
    ["BOM is not whitespace to Python", "\ufeffBob", "\ufeffbob"],
    ["NFC first", "E\u0301", "\u00e9"],
  ])("%s", (_name, raw, canonical) => {
    expect(canonicalPrincipal(raw)).toBe(canonical);
  });
});

const jwt = (claims: unknown) => `eyJhbGciOiJub25lIn0.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.sig`;

describe("principal of an HTTP request", () => {
  test.each([
    [
      "trusted header wins",
      { "x-user": " alice ", authorization: `Bearer ${jwt({ sub: "bob", iss: "idp" })}` },
      "X-User",
      { id: "alice" },
    ],
    [
      "bearer JWT sub + iss (unverified, grouping only)",
      { authorization: `Bearer ${jwt({ sub: "bob", iss: "https://idp" })}` },
      "x-user",
      { id: "bob", issuer: "https://idp" },
    ],
    ["JWT without iss", { authorization: `bearer ${jwt({ sub: "bob" })}` }, undefined, { id: "bob" }],
    ["repeated header: the first", { "x-user": ["carol", "mallory"] }, "x-user", { id: "carol" }],
    [
      "blank trusted header falls back to the JWT",
      { "x-user": " ", authorization: `Bearer ${jwt({ sub: "bob" })}` },
      "x-user",
      { id: "bob" },
    ],
    ["opaque token: none", { authorization: "Bearer abc123" }, undefined, undefined],
    ["JWT without sub: none", { authorization: `Bearer ${jwt({ iss: "idp" })}` }, undefined, undefined],
    ["garbage payload: none", { authorization: "Bearer a.!!!.b" }, undefined, undefined],
    ["payload not an object: none", { authorization: `Bearer ${jwt(["sub"])}` }, undefined, undefined],
    ["nothing: none", {}, "x-user", undefined],
    // Blank as upstream's Python strip() sees it (JS trim() keeps these): never hashed as the empty user.
    [
      "JWT sub of U+0085 and U+001C only: none",
      { authorization: `Bearer ${jwt({ sub: "\u0085\u001c" })}` },
      undefined,
      undefined,
    ],
    [
      "trusted header of U+001F only: the JWT's sub",
      { "x-user": "\u001f", authorization: `Bearer ${jwt({ sub: "bob" })}` },
      "x-user",
      { id: "bob" },
    ],
  ])("%s", (_name, headers, trusted, expected) => {
    expect(principalFromHeaders(headers, trusted)).toEqual(expected);
  });

  test("a fetch Headers object works too (case-insensitive names)", () => {
    expect(principalFromHeaders(new Headers({ "X-Forwarded-User": "dora" }), "x-forwarded-user")).toEqual({
      id: "dora",
    });
    expect(principalFromHeaders(new Headers({ Authorization: `Bearer ${jwt({ sub: "eve" })}` }), "x-user")).toEqual({
      id: "eve",
    });
  });
});
