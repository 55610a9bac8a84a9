// Settings against the mode they are documented for, black-box: one the README says applies to a mode takes effect there.

import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { binaryPath } from "./support/binary.ts";
import { startServe } from "./support/serve-process.ts";
import { cleanEnv, tempDir } from "./support/temp.ts";

describe("BATON_PROXY_LOG_FILE in serve (README: every stdio setting applies; serve --help lists it)", () => {
  test("serve's own log lines are appended to the file as well as to stderr", async () => {
    const log = join(tempDir(), "proxy.log");
    const serve = await startServe(["--upstream", "http://127.0.0.1:9/mcp"], { BATON_PROXY_LOG_FILE: log });
    expect(await serve.stop()).toBe(0);
    const lines = readFileSync(log, "utf8");
    expect(lines).toContain("baton-proxy: info: serving MCP on http://127.0.0.1:");
    expect(lines).toContain("baton-proxy: info: drained; exiting");
  });
});

/** The proxy (stdio or --url) run to its end with stdin closed: its stderr. */
async function proxyStderr(args: readonly string[], env: Record<string, string>): Promise<string> {
  const proc = Bun.spawn([await binaryPath(), ...args], {
    env: cleanEnv(env),
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
  });
  const stderr = await new Response(proc.stderr).text();
  expect(await proc.exited).toBe(0);
  return stderr;
}

describe("a variable documented as not read in a mode is named there in a warning, not silently ignored", () => {
  test("serve: BATON_PRINCIPAL (each request names its own user) and --url's upstream token and timeout", async () => {
    const serve = await startServe(["--upstream", "http://127.0.0.1:9/mcp"], {
      BATON_PRINCIPAL: "alice-principal",
      BATON_UPSTREAM_AUTH_TOKEN: "tok-never-printed",
      BATON_UPSTREAM_TIMEOUT: "5",
    });
    expect(await serve.stop()).toBe(0);
    const log = serve.log.join("\n");
    for (const name of ["BATON_PRINCIPAL", "BATON_UPSTREAM_AUTH_TOKEN", "BATON_UPSTREAM_TIMEOUT"])
      expect(log).toContain(`warn: ${name} is set, but serve does not read it`);
    expect(log).not.toContain("alice-principal");
    expect(log).not.toContain("tok-never-printed");
  });

  test("serve with BATON_CONSENT_MODE=per-request: a BATON_CONSENT_TOKEN (no fallback for requests without one)", async () => {
    const serve = await startServe(["--upstream", "http://127.0.0.1:9/mcp"], {
      BATON_CONSENT_MODE: "per-request",
      BATON_CONSENT_TOKEN: "consent-never-printed",
    });
    expect(await serve.stop()).toBe(0);
    const log = serve.log.join("\n");
    expect(log).toContain("warn: BATON_CONSENT_TOKEN is set, but BATON_CONSENT_MODE=per-request does not use it");
    expect(log).not.toContain("consent-never-printed");
  });

  test("the stdio proxy: serve's variables, BATON_PRINCIPAL_HEADER, and --url's upstream token and timeout", async () => {
    const stderr = await proxyStderr(["--", "true"], {
      BATON_MAX_SESSIONS: "5",
      BATON_LISTEN: "0.0.0.0:8080",
      BATON_PRINCIPAL_HEADER: "x-user",
      BATON_UPSTREAM_TIMEOUT: "5",
      BATON_UPSTREAM_AUTH_TOKEN: "tok-never-printed",
    });
    for (const name of [
      "BATON_MAX_SESSIONS",
      "BATON_LISTEN",
      "BATON_PRINCIPAL_HEADER",
      "BATON_UPSTREAM_TIMEOUT",
      "BATON_UPSTREAM_AUTH_TOKEN",
    ])
      expect(stderr).toContain(`warn: ${name} is set, but the stdio proxy does not read it`);
    expect(stderr).not.toContain("tok-never-printed");
  });

  test("--url: serve's variables are named; its own upstream timeout and token are read, so not named", async () => {
    const stderr = await proxyStderr(["--url", "http://127.0.0.1:9/mcp"], {
      BATON_IDLE_TIMEOUT_MS: "5000",
      BATON_UPSTREAM_TIMEOUT: "5",
      BATON_UPSTREAM_AUTH_TOKEN: "tok-never-printed",
    });
    expect(stderr).toContain("warn: BATON_IDLE_TIMEOUT_MS is set, but --url does not read it");
    expect(stderr).not.toContain("BATON_UPSTREAM_TIMEOUT");
    expect(stderr).not.toContain("BATON_UPSTREAM_AUTH_TOKEN");
  });
});

describe("auth: an option documented for another action is refused, not silently ignored", () => {
  test.each([
    [["list", "--url", "https://mcp.example/mcp"], "auth list takes no --url"],
    [["list", "--all"], "auth list takes no --all"],
    [["login", "--url", "https://mcp.example/mcp", "--all"], "auth login takes no --all"],
    [["logout", "--all", "-H", "X-Api-Key: k"], "auth logout takes no --header"],
    [["logout", "--url", "http://mcp.example/mcp", "--allow-http"], "auth logout takes no --allow-http"],
  ])("auth %j: exit 2", async (args, reason) => {
    const dir = tempDir();
    const proc = Bun.spawn([await binaryPath(), "auth", ...args], {
      env: cleanEnv({ HOME: dir, BATON_CONFIG_DIR: dir }),
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    const [stdout, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
    expect(await proc.exited).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toContain(`baton-proxy auth: ${reason}`);
  });
});

test("auth: a misspelt BATON_* name is named with the one meant, as the proxy names it (BATON_OAUTH_CLIENTID would mean registration)", async () => {
  const dir = tempDir();
  const proc = Bun.spawn([await binaryPath(), "auth", "list"], {
    env: cleanEnv({ HOME: dir, BATON_CONFIG_DIR: dir, BATON_OAUTH_CLIENTID: "client-never-printed" }),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const stderr = await new Response(proc.stderr).text();
  expect(await proc.exited).toBe(0);
  expect(stderr).toContain(
    "baton-proxy: warn: unknown variable BATON_OAUTH_CLIENTID is ignored: did you mean BATON_OAUTH_CLIENT_ID?",
  );
  expect(stderr).not.toContain("client-never-printed");
});
