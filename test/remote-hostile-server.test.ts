// `--url` and `auth login` against a hostile remote server: what it names must not make the proxy act outside the web.

import { afterEach, expect, test } from "bun:test";
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { binaryPath } from "./support/binary.ts";
import { cleanEnv, runBinary, tempDir } from "./support/proxy-process.ts";

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

/** Control characters a terminal acts on (ESC sequences: clear screen, OSC 52 clipboard writes) or that start a new line. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what must not reach stderr
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;
/** Words a hostile server puts in its error texts: an OSC 52 clipboard write, then a forged line of ours. */
const HOSTILE_TEXT = "bad\u001b]52;c;ZXZpbA==\u0007\nbaton-proxy: signed in\r\u001b[2J";

test("auth login: an error description from the server reaches the terminal without its escape sequences or line breaks", async () => {
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
          authorization_endpoint: `${origin}/authorize`,
          token_endpoint: `${origin}/token`,
          registration_endpoint: `${origin}/register`,
          response_types_supported: ["code"],
          code_challenge_methods_supported: ["S256"],
        });
      if (url.pathname === "/register")
        return Response.json({ error: "invalid_client_metadata", error_description: HOSTILE_TEXT }, { status: 400 });
      return new Response("unauthorized", {
        status: 401,
        headers: {
          "www-authenticate": `Bearer resource_metadata="${origin}/.well-known/oauth-protected-resource/mcp"`,
        },
      });
    },
  });
  cleanups.push(() => server.stop(true));
  const dir = tempDir();
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const login = await runBinary(["auth", "login", "--url", `http://127.0.0.1:${server.port}/mcp`], {
    BATON_CONFIG_DIR: dir,
    BATON_OAUTH_OPENER: "true",
  });
  expect(login.code).toBe(1);
  expect(login.stderr).toContain("login to");
  expect(login.stderr).toContain("ZXZpbA=="); // the text is kept, its control characters escaped
  for (const line of login.stderr.split("\n").filter((l) => l !== "")) {
    expect(line).not.toMatch(CONTROL);
    expect(line.startsWith("baton-proxy auth: login to")).toBe(true);
  }
});

test("--url: a JSON-RPC error message from the server reaches the log without its escape sequences or line breaks", async () => {
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: () =>
      Response.json({ jsonrpc: "2.0", id: null, error: { code: -32000, message: HOSTILE_TEXT } }, { status: 400 }),
  });
  cleanups.push(() => server.stop(true));
  const dir = tempDir();
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const proc = Bun.spawn([await binaryPath(), "--url", `http://127.0.0.1:${server.port}/mcp`], {
    env: cleanEnv({
      BATON_EVENT_SINK: `file://${join(dir, "events.jsonl")}`,
      BATON_UPSTREAM_AUTH_TOKEN: "t0ken-value",
    }),
    stdin: "pipe",
    stdout: "pipe",
    stderr: "pipe",
  });
  proc.stdin.write(
    `${JSON.stringify({ jsonrpc: "2.0", id: 0, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "c", version: "1" } } })}\n`,
  );
  proc.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" })}\n`);
  // stdin stays open until the answer is out: at EOF the proxy stops waiting for the server.
  const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
  let stdout = "";
  while (!stdout.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    stdout += new TextDecoder().decode(value);
  }
  proc.stdin.end();
  const stderr = await new Response(proc.stderr).text();
  await proc.exited;
  expect(JSON.parse(stdout.split("\n")[0] as string).error.message).toContain(HOSTILE_TEXT.replace(/\s+/g, " ")); // the client gets it as JSON
  const lines = stderr.split("\n").filter((l) => l !== "");
  expect(lines.some((l) => l.includes("ZXZpbA=="))).toBe(true);
  for (const line of lines) {
    expect(line).not.toMatch(CONTROL);
    expect(line.startsWith("baton-proxy: ")).toBe(true);
  }
});

test("auth login: an authorization server on plain http to a non-local host is refused, as the server itself would be without --allow-http", async () => {
  // The MCP server is loopback (plain http is fine there); it names an authorization server that is not.
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(request) {
      const url = new URL(request.url);
      if (url.pathname.startsWith("/.well-known/oauth-protected-resource"))
        return Response.json({ resource: `${url.origin}/mcp`, authorization_servers: ["http://auth.invalid"] });
      return new Response("unauthorized", {
        status: 401,
        headers: {
          "www-authenticate": `Bearer resource_metadata="${url.origin}/.well-known/oauth-protected-resource/mcp"`,
        },
      });
    },
  });
  cleanups.push(() => server.stop(true));
  const dir = tempDir();
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const login = await runBinary(["auth", "login", "--url", `http://127.0.0.1:${server.port}/mcp`], {
    BATON_CONFIG_DIR: dir,
    BATON_OAUTH_OPENER: "true",
  });
  expect(login.code).toBe(1);
  expect(login.stderr).toContain("http://auth.invalid is plain http to a non-local host");
  expect(login.stderr).toContain("--allow-http");
});
