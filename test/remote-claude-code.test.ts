// Black-box: Claude Code (the real host) adds `baton-proxy --url …` as a stdio server and its health check connects through it.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { rmSync } from "node:fs";
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

async function claude(args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  // HOME is a temp dir: Claude Code writes ~/.claude.json there, never in the developer's home.
  const proc = Bun.spawn([CLAUDE, ...args], { cwd: home, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home }, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { stdout, stderr, code };
}

test("claude mcp add NAME -- baton-proxy --url URL, then claude mcp list shows it connected", async () => {
  const added = await claude(["mcp", "add", "remote", "--", await binaryPath(), "--url", server.url]);
  expect(added.code).toBe(0);
  const listed = await claude(["mcp", "list"]);
  expect(listed.code).toBe(0);
  expect(listed.stdout).toMatch(new RegExp(`remote: .*baton-proxy --url ${server.url.replace(/[.]/g, "\\.")} - ✔ Connected`));
  const stats = await server.stats();
  // Claude Code probes with server/discover, falls back to initialize, lists tools; the session is DELETEd when it stops us.
  expect(stats.posts).toBeGreaterThanOrEqual(3);
  expect(stats.deletes).toBe(1);
  expect(stats.sessions).toBe(0);
}, 60_000);
