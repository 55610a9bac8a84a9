// Black-box tests: the compiled binary's `wrap`/`unwrap` against temp HOME and project directories, with a clean env.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { binaryPath } from "./support/binary.ts";

const FIXTURES = join(import.meta.dir, "fixtures", "wrap");
const roots: string[] = [];
let binary = "";

beforeAll(async () => {
  binary = await binaryPath();
}, 120_000);
afterAll(() => roots.forEach((root) => rmSync(root, { recursive: true, force: true })));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** A temp HOME and project directory; `run` starts the binary there with only HOME/USERPROFILE/PATH set. */
function sandbox(): { home: string; project: string; put: (fixture: string, where: string, mode?: number) => string; run: (...args: string[]) => Promise<Run> } {
  // realpath: macOS tmpdir is behind a symlink, and the child reports its cwd resolved.
  const root = realpathSync(mkdtempSync(join(tmpdir(), "baton-wrap-bin-")));
  roots.push(root);
  const home = join(root, "home");
  const project = join(root, "project");
  mkdirSync(home);
  mkdirSync(project);
  return {
    home,
    project,
    put(fixture, where, mode = 0o644) {
      const target = where.startsWith("~/") ? join(home, where.slice(2)) : join(project, where);
      mkdirSync(dirname(target), { recursive: true });
      copyFileSync(join(FIXTURES, fixture), target);
      chmodSync(target, mode);
      return target;
    },
    async run(...args) {
      const proc = Bun.spawn([binary, ...args], {
        cwd: project,
        env: { HOME: home, USERPROFILE: home, PATH: process.env.PATH ?? "" },
        stdin: "ignore",
        stdout: "pipe",
        stderr: "pipe",
      });
      const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
      return { code, stdout, stderr };
    },
  };
}

const read = (path: string): string => readFileSync(path, "utf8");

describe("baton-proxy wrap/unwrap (compiled binary)", () => {
  test("--dry-run prints the diff and writes nothing", async () => {
    const box = sandbox();
    const file = box.put("cursor.json", "~/.cursor/mcp.json");
    const result = await box.run("wrap", "--all", "--dry-run");
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`  + "command": "${binary}"`);
    expect(result.stdout).toContain("nothing was written");
    expect(read(file)).toBe(read(join(FIXTURES, "cursor.json")));
    expect(existsSync(`${file}.baton-backup`)).toBe(false);
  });

  test("wrap writes the binary's absolute path, a backup, keeps permissions; again is a no-op; unwrap restores", async () => {
    const box = sandbox();
    const file = box.put("claude-code.mcp.json", ".mcp.json", 0o600);
    const original = read(file);

    const first = await box.run("wrap", "--client", "claude-code", "api");
    expect(first.code).toBe(0);
    const entry = JSON.parse(read(file)).mcpServers.api;
    expect(entry.command).toBe(binary);
    expect(entry.args).toEqual(["--", "${HOME}/bin/api-server", "--token", "${API_TOKEN}", "--port=${PORT:-8080}"]);
    expect(entry.env).toEqual({ API_TOKEN: "${API_TOKEN}" });
    expect(read(`${file}.baton-backup`)).toBe(original);
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const wrapped = read(file);
    const second = await box.run("wrap", "--client", "claude-code", "api");
    expect(second.code).toBe(0);
    expect(second.stdout).toContain("already wrapped");
    expect(read(file)).toBe(wrapped);

    const restored = await box.run("unwrap", "--client", "claude-code", "api");
    expect(restored.code).toBe(0);
    expect(JSON.parse(read(file))).toEqual(JSON.parse(original));
    expect(read(file)).toBe(original);
  });

  test("--list shows the servers of every known config", async () => {
    const box = sandbox();
    box.put("vscode.jsonc", ".vscode/mcp.json");
    box.put("cursor.json", "~/.cursor/mcp.json");
    const result = await box.run("wrap", "--list");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("~/.cursor/mcp.json (cursor)\n  browser         not wrapped\n  wrapped-before  wrapped\n");
    expect(result.stdout).toContain(`${box.project}/.vscode/mcp.json (vscode)\n  github  not wrapped\n  fetch   not wrapped\n  remote  remote (skipped: type "http")\n`);
    expect(result.stdout).toContain("Not present: ");
  });

  test("a corrupt file is left byte-identical and the exit code is 1", async () => {
    const box = sandbox();
    const file = box.put("invalid-syntax.json", "~/.cursor/mcp.json");
    const before = read(file);
    const result = await box.run("wrap", "--all");
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("~/.cursor/mcp.json: not valid JSON: line 6, column 5");
    expect(read(file)).toBe(before);
    expect(existsSync(`${file}.baton-backup`)).toBe(false);
  });

  test("usage errors exit 2 with the usage on stderr", async () => {
    const box = sandbox();
    box.put("cursor.json", "~/.cursor/mcp.json");
    const result = await box.run("unwrap", "--client", "nope");
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain('unknown client "nope"');
    expect(result.stderr).toContain("Usage: baton-proxy unwrap");
  });
});
