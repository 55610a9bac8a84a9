// Black-box tests: the compiled binary's `wrap`/`unwrap` against temp HOME and project directories, with a clean env.

import { beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { binaryPath } from "./support/binary.ts";
import { runBinary } from "./support/proxy-process.ts";
import { createWrapDirs, WRAP_FIXTURES, type WrapDirs } from "./support/wrap-sandbox.ts";

const FIXTURES = WRAP_FIXTURES;
let binary = "";

beforeAll(async () => {
  binary = await binaryPath();
}, 120_000);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** A temp HOME and project directory; `run` starts the binary there with only HOME/USERPROFILE/PATH set. */
function sandbox(): WrapDirs & { run: (...args: string[]) => Promise<Run> } {
  const dirs = createWrapDirs("baton-wrap-bin-");
  return {
    ...dirs,
    async run(...args) {
      return runBinary(
        args,
        {},
        { cwd: dirs.project, exactEnv: { HOME: dirs.home, USERPROFILE: dirs.home, PATH: process.env.PATH ?? "" } },
      );
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

  test("an empty HOME is no home: ~/.claude.json is never taken from the current directory", async () => {
    const box = sandbox();
    const file = box.put("claude-code.claude.json", ".claude.json"); // in the project: where an empty HOME would point
    const result = await runBinary(
      ["wrap", "--client", "claude-code", "--list"],
      {},
      { cwd: box.project, exactEnv: { HOME: "", USERPROFILE: "", PATH: process.env.PATH ?? "" } },
    );
    expect(`${result.stdout}${result.stderr}`).not.toMatch(/^\.claude\.json/m);
    expect(read(file)).toBe(read(join(FIXTURES, "claude-code.claude.json")));
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
    expect(result.stdout).toContain(
      "~/.cursor/mcp.json (cursor)\n  browser         not wrapped\n  wrapped-before  wrapped\n",
    );
    expect(result.stdout).toContain(
      `${box.project}/.vscode/mcp.json (vscode)\n  github  not wrapped\n  fetch   not wrapped\n  remote  not wrapped (remote: type "http"; wrap uses --url-env)\n`,
    );
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
