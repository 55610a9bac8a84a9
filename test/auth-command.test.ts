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
});
