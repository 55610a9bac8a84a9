// Black-box: Claude Code (the real host) adds `baton-proxy --url …` as a stdio server and its health check connects through it.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { binaryPath, ROOT } from "./support/binary.ts";
import { tempDir } from "./support/proxy-process.ts";
import { startRemoteFixture, type RemoteServer } from "./support/remote-server.ts";

const CLAUDE = join(ROOT, "node_modules", ".bin", "claude");
let server: RemoteServer;
const home = tempDir();

beforeAll(async () => {
  server = await startRemoteFixture();
});
afterAll(async () => {
  await server.stop();
  rmSync(home, { recursive: true, force: true });
});

async function claude(
  args: string[],
  cwd = home,
  env: Record<string, string> = {},
): Promise<{ stdout: string; stderr: string; code: number }> {
  // HOME is a temp dir: Claude Code writes ~/.claude.json there, never in the developer's home. Claude
  // Code hands its environment to the stdio servers it starts, so the proxies it launches write
  // their events to stderr, never to the default event file.
  const proc = Bun.spawn([CLAUDE, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, TMPDIR: home, BATON_EVENT_SINK: "stderr:", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { stdout, stderr, code };
}

test("claude mcp add NAME -- baton-proxy --url URL, then claude mcp list shows it connected", async () => {
  const added = await claude(["mcp", "add", "remote", "--", await binaryPath(), "--url", server.url]);
  expect(added.code).toBe(0);
  const listed = await claude(["mcp", "list"]);
  expect(listed.code).toBe(0);
  expect(listed.stdout).toMatch(
    new RegExp(`remote: .*baton-proxy --url ${server.url.replace(/[.]/g, "\\.")} - ✔ Connected`),
  );
  const stats = await server.stats();
  // Claude Code probes with server/discover, falls back to initialize, lists tools; the session is DELETEd when it stops us.
  expect(stats.posts).toBeGreaterThanOrEqual(3);
  expect(stats.deletes).toBe(1);
  expect(stats.sessions).toBe(0);
}, 60_000);

test("wrap turns Claude Code's http entry into baton-proxy --url-env (URL with a key in its query, and header value, in env, not args), it connects with no warning, unwrap restores the exact bytes", async () => {
  // A key in the URL's query, as some hosted servers take it: args are readable by every local user (ps).
  const url = `${server.url}?api_key=k-query-8765432`;
  const added = await claude([
    "mcp",
    "add",
    "--transport",
    "http",
    "--scope",
    "user",
    "remote-http",
    url,
    "--header",
    "X-Api-Key: k-live-1234567",
  ]);
  expect(added.code).toBe(0);
  const file = join(home, ".claude.json");
  const before = await Bun.file(file).text();
  const binary = await binaryPath();
  const wrap = Bun.spawn([binary, "wrap", "--client", "claude-code", "remote-http"], {
    cwd: home,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [wrapOut, , wrapCode] = await Promise.all([
    new Response(wrap.stdout).text(),
    new Response(wrap.stderr).text(),
    wrap.exited,
  ]);
  expect(wrapCode).toBe(0);
  expect(wrapOut).not.toContain("k-live-1234567");
  const entry = JSON.parse(await Bun.file(file).text()).mcpServers["remote-http"];
  expect(entry.type).toBe("stdio");
  expect(entry.command).toBe(binary);
  // No ${…} in args: Claude Code expands those from its own environment, not the entry's env, and warns.
  expect(entry.args).toEqual(["--url-env", "MCP_URL", "--header-env", "X-Api-Key=MCP_HEADER_X_API_KEY"]);
  expect(entry.env.MCP_URL).toBe(url);
  expect(entry.env.MCP_HEADER_X_API_KEY).toBe("k-live-1234567");
  expect(JSON.stringify(entry.args)).not.toContain("k-live");
  expect(wrapOut).not.toContain("k-query-8765432");
  const list = Bun.spawn([binary, "wrap", "--list", "--client", "claude-code"], {
    cwd: home,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home },
    stdout: "pipe",
    stderr: "ignore",
  });
  expect(await new Response(list.stdout).text()).toMatch(/remote-http\s+wrapped \(remote, through --url-env\)/);

  const postsBefore = (await server.stats()).posts;
  const listed = await claude(["mcp", "list"]);
  expect(listed.stdout).toMatch(/remote-http: .*baton-proxy --url-env MCP_URL .* - ✔ Connected/);
  expect(listed.stdout + listed.stderr).not.toContain("Missing environment variables");
  expect(listed.stdout + listed.stderr).not.toContain("[Warning]");
  const stats = await server.stats();
  expect(stats.posts).toBeGreaterThan(postsBefore);
  expect(stats.customHeaders).toContain("k-live-1234567");
  expect(stats.queryKeys).toContain("k-query-8765432");

  const unwrap = Bun.spawn([binary, "unwrap", "--client", "claude-code", "remote-http"], {
    cwd: home,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home },
    stdout: "pipe",
    stderr: "pipe",
  });
  expect(await unwrap.exited).toBe(0);
  expect(await Bun.file(file).text()).toBe(before);
}, 60_000);

test("a project's .mcp.json http entry with a ${VAR} header: wrapped, Claude Code expands the variable in env, no warning, connected", async () => {
  const project = join(home, "project");
  mkdirSync(project);
  const file = join(project, ".mcp.json");
  const before = `{\n  "mcpServers": {\n    "proj-http": { "type": "http", "url": "${server.url}", "headers": { "X-Api-Key": "\${PROJ_KEY}" } }\n  }\n}\n`;
  writeFileSync(file, before);
  // Project servers need the user's approval: given here as Claude Code stores it.
  const stateFile = Bun.file(join(home, ".claude.json"));
  const state = (await stateFile.exists()) ? JSON.parse(await stateFile.text()) : {};
  state.projects = {
    ...state.projects,
    [project]: { hasTrustDialogAccepted: true, enabledMcpjsonServers: ["proj-http"] },
  };
  writeFileSync(join(home, ".claude.json"), JSON.stringify(state, null, 2));
  const binary = await binaryPath();
  const wrap = Bun.spawn([binary, "wrap", "--config", file, "proj-http"], {
    cwd: project,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home },
    stdout: "ignore",
    stderr: "ignore",
  });
  expect(await wrap.exited).toBe(0);
  const entry = JSON.parse(await Bun.file(file).text()).mcpServers["proj-http"];
  expect(entry.args).toEqual(["--url-env", "MCP_URL", "--header-env", "X-Api-Key=MCP_HEADER_X_API_KEY"]);
  expect(entry.env.MCP_URL).toBe(server.url);
  expect(entry.env.MCP_HEADER_X_API_KEY).toBe("${PROJ_KEY}");

  const listed = await claude(["mcp", "list"], project, { PROJ_KEY: "k-proj-7654321" });
  expect(listed.stdout).toMatch(
    /proj-http: .*baton-proxy --url-env MCP_URL --header-env X-Api-Key=MCP_HEADER_X_API_KEY - ✔ Connected/,
  );
  expect(listed.stdout + listed.stderr).not.toContain("Missing environment variables");
  expect(listed.stdout + listed.stderr).not.toContain("[Warning]");
  // The host expanded ${PROJ_KEY} inside env; the proxy sent the result.
  expect((await server.stats()).customHeaders).toContain("k-proj-7654321");

  const unwrap = Bun.spawn([binary, "unwrap", "--config", file, "proj-http"], {
    cwd: project,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home },
    stdout: "ignore",
    stderr: "ignore",
  });
  expect(await unwrap.exited).toBe(0);
  expect(await Bun.file(file).text()).toBe(before);
}, 60_000);
