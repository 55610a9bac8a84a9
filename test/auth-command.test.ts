// Tests of `auth list`'s text (src/remote/auth-command.ts): what the token cache holds, shown safely.

import { describe, expect, test } from "bun:test";
import { renderAuthList } from "../src/remote/auth-command.ts";

describe("auth list", () => {
  test("a client id the authorization server registered is shown as printable text, one line per server", () => {
    // The id comes from the server's dynamic registration answer (RFC 7591), stored as given.
    const text = renderAuthList(
      [
        {
          server: "https://a.example/mcp",
          clientInformation: { client_id: "c-1\u001b]0;pwned\u0007\nhttps://b.example/mcp  token valid" },
        },
      ],
      0,
    );
    expect(text).toBe(
      "https://a.example/mcp  no token, client c-1\\u001b]0;pwned\\u0007\\nhttps://b.example/mcp  token valid\n",
    );
  });

  test("a token's expiry is dated in UTC; one too far to be a date (a server's expires_in of 2^63-1 ms or s as 'never') is said, not a crash", () => {
    const obtainedAt = Date.parse("2026-12-01T23:30:00Z");
    const tokens = (expires_in: number) => ({ access_token: "a", token_type: "Bearer", expires_in });
    const text = renderAuthList(
      [
        { server: "https://a.example/mcp", tokens: tokens(3600), obtainedAt },
        { server: "https://b.example/mcp", tokens: tokens(2 ** 63), obtainedAt },
        { server: "https://c.example/mcp", tokens: tokens(60), obtainedAt },
      ],
      obtainedAt + 120_000,
    );
    expect(text).toBe(
      [
        "https://a.example/mcp  token valid until 2026-12-02T00:30:00.000Z",
        "https://b.example/mcp  token valid, its expiry too far ahead to date",
        "https://c.example/mcp  token expired",
        "",
      ].join("\n"),
    );
  });
});
