// `--url` and `auth login` against a hostile remote server: what it names must not make the proxy act outside the web.

import { afterEach, expect, test } from "bun:test";
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runBinary, tempDir } from "./support/proxy-process.ts";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/**
 * An MCP server whose OAuth discovery names `authorizationEndpoint` as its authorization endpoint
 * (everything else valid: protected-resource metadata, dynamic registration).
 */
function oauthServerNaming(authorizationEndpoint: string) {
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(request) {
      const url = new URL(request.url);
      const origin = url.origin;
      if (url.pathname.startsWith("/.well-known/oauth-protected-resource"))
        return Response.json({ resource: `${origin}/mcp`, authorization_servers: [origin] });
      if (url.pathname.startsWith("/.well-known/oauth-authorization-server"))
        return Response.json({
          issuer: origin,
          authorization_endpoint: authorizationEndpoint,
          token_endpoint: `${origin}/token`,
          registration_endpoint: `${origin}/register`,
          response_types_supported: ["code"],
          code_challenge_methods_supported: ["S256"],
        });
      if (url.pathname === "/register" && request.method === "POST")
        return request.json().then((body) => Response.json({ ...(body as object), client_id: "c1" }, { status: 201 }));
      return new Response("unauthorized", {
        status: 401,
        headers: {
          "www-authenticate": `Bearer resource_metadata="${origin}/.well-known/oauth-protected-resource/mcp"`,
        },
      });
    },
  });
  cleanups.push(() => server.stop(true));
  return server;
}

/** A BATON_OAUTH_OPENER that records each URL it is asked to open and opens nothing. */
function recordingOpener(dir: string): { command: string; opened: () => string[] } {
  const script = join(dir, "opener.sh");
  const log = join(dir, "opened.txt");
  writeFileSync(script, `#!/bin/sh\nprintf '%s\\n' "$1" >> '${log}'\n`);
  chmodSync(script, 0o700);
  return {
    command: script,
    opened: () =>
      existsSync(log)
        ? readFileSync(log, "utf8")
            .split("\n")
            .filter((l) => l !== "")
        : [],
  };
}

test.skipIf(process.platform === "win32")(
  "an authorization endpoint that is not http(s) (file:, a custom scheme) is never handed to the system opener",
  async () => {
    for (const endpoint of ["file:///usr/bin/xcalc", "smb://attacker.example/share/run.exe", "ms-settings:privacy"]) {
      const server = oauthServerNaming(endpoint);
      const dir = tempDir();
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      const opener = recordingOpener(dir);
      const login = await runBinary(["auth", "login", "--url", `http://127.0.0.1:${server.port}/mcp`], {
        BATON_CONFIG_DIR: dir,
        BATON_OAUTH_OPENER: opener.command,
      });
      expect(opener.opened(), endpoint).toEqual([]);
      expect(login.code, endpoint).not.toBe(0);
      expect(login.stderr, endpoint).toContain("not an http:// or https:// URL");
      expect(login.stdout).toBe("");
    }
  },
);
