// Tests of the OAuth login flow (src/remote/oauth-flow.ts) against a fake authorization server given as `fetch`.

import { describe, expect, test } from "bun:test";
import { chmodSync, existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LocalError } from "../src/errors.ts";
import { login } from "../src/remote/oauth-flow.ts";
import { TokenStore } from "../src/remote/token-store.ts";
import { tempDir } from "./support/proxy-process.ts";

/** Discovery answers of an authorization server whose login page is `authorizationEndpoint`. */
function fakeServer(authorizationEndpoint: string): typeof fetch {
  return (async (input: Parameters<typeof fetch>[0]) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (url.pathname.startsWith("/.well-known/oauth-authorization-server"))
      return Response.json({
        issuer: "https://mcp.example",
        authorization_endpoint: authorizationEndpoint,
        token_endpoint: "https://mcp.example/token",
        response_types_supported: ["code"],
        code_challenge_methods_supported: ["S256"],
      });
    return new Response("not found", { status: 404 });
  }) as typeof fetch;
}

describe("login", () => {
  // The MCP server (a remote the user only added by URL) names the login page; the proxy opens it by itself.
  test("a login page that is not an http(s) URL (file:, smb:, a custom scheme) is never handed to the opener", async () => {
    const dir = tempDir();
    const marker = join(dir, "opened");
    const opener = join(dir, "opener.sh");
    writeFileSync(opener, `#!/bin/sh\necho "$1" > ${marker}\n`);
    chmodSync(opener, 0o755);
    const told: string[] = [];
    let failure: unknown;
    try {
      await login(
        {
          store: new TokenStore(join(dir, "config")),
          server: new URL("https://mcp.example/mcp"),
          env: { BATON_OAUTH_OPENER: opener, BATON_OAUTH_CLIENT_ID: "fixed-client" },
          platform: "linux",
          tell: (text) => told.push(text),
          fetch: fakeServer("file:///usr/bin/xcalc"),
          now: Date.now,
        },
        { timeoutMs: 1000 },
      );
    } catch (error) {
      failure = error;
    }
    expect(failure).toBeInstanceOf(LocalError);
    expect((failure as LocalError).message).toContain("not an http:// or https:// URL (file:)");
    expect(told.join("")).not.toContain("opening it now");
    expect(existsSync(marker)).toBe(false);
  });
});
