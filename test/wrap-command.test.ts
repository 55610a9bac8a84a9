// Tests `wrap`/`unwrap` through the subcommand dispatcher (src/commands.ts) with a fake CommandContext against temp home/project directories.

import { describe, expect, test } from "bun:test";
import { existsSync, lstatSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { CommandContext } from "../src/command-context.ts";
import { findSubcommand, runSubcommand } from "../src/commands.ts";
import { createWrapDirs, WRAP_FIXTURES, type WrapDirs } from "./support/wrap-sandbox.ts";

const EXEC = "/opt/baton/bin/baton-proxy";
const FIXTURES = WRAP_FIXTURES;

interface Sandbox extends WrapDirs {
  run(mode: "wrap" | "unwrap", ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
}

function sandbox(overrides: Partial<CommandContext> = {}): Sandbox {
  const dirs = createWrapDirs("baton-wrap-");
  return {
    ...dirs,
    async run(mode, ...args) {
      let stdout = "";
      let stderr = "";
      const ctx: CommandContext = {
        env: {},
        stdout: (text) => void (stdout += text),
        stderr: (text) => void (stderr += text),
        execPath: EXEC,
        cwd: dirs.project,
        platform: "linux",
        homeDir: dirs.home,
        ...overrides,
      };
      const spec = findSubcommand(mode);
      if (spec === undefined) throw new Error(`no subcommand ${mode}`);
      const code = await runSubcommand(spec, args, ctx);
      return { code, stdout, stderr };
    },
  };
}

const DESKTOP = "~/.config/Claude/claude_desktop_config.json";
const read = (path: string): string => readFileSync(path, "utf8");

describe("wrap", () => {
  test("--help prints usage and exits 0", async () => {
    const box = sandbox();
    const result = await box.run("wrap", "--help");
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(result.stdout).toStartWith("Usage: baton-proxy wrap");
  });

  test("no server names: usage error listing the servers found", async () => {
    const box = sandbox();
    box.put("claude-desktop.json", DESKTOP);
    const result = await box.run("wrap");
    expect(result.code).toBe(2);
    expect(result.stderr.split("\n")[0]).toBe(
      "baton-proxy wrap: name the servers to wrap, or use --all (servers found: filesystem, github, local-binary, windows-npx (~/.config/Claude/claude_desktop_config.json))",
    );
    expect(result.stderr).toContain("Usage: baton-proxy wrap");
    expect(result.stdout).toBe("");
  });

  test("an unknown server name is a usage error", async () => {
    const box = sandbox();
    box.put("cursor.json", "~/.cursor/mcp.json");
    const result = await box.run("wrap", "nope");
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'no server named "nope" (servers found: browser, wrapped-before, linear, python (~/.cursor/mcp.json))',
    );
  });

  test("--dry-run prints the diff and writes nothing", async () => {
    const box = sandbox();
    const file = box.put("claude-desktop.json", DESKTOP);
    const result = await box.run("wrap", "--all", "--dry-run");
    expect(result.code).toBe(0);
    expect(read(file)).toBe(read(join(FIXTURES, "claude-desktop.json")));
    expect(existsSync(`${file}.baton-backup`)).toBe(false);
    expect(result.stdout).toContain(`  + "command": "${EXEC}"`);
    expect(result.stdout).toContain("Dry run: 4 servers would be wrapped; nothing was written.");
  });

  test("writes the file, a backup once, keeps permissions, masks secrets; a second wrap is a no-op", async () => {
    const box = sandbox();
    const file = box.put("claude-desktop.json", DESKTOP, 0o600);
    const original = read(file);
    const first = await box.run("wrap", "github");
    expect(first.code).toBe(0);
    const wrapped = JSON.parse(read(file));
    expect(wrapped.mcpServers.github).toEqual({
      command: EXEC,
      args: ["--", "npx", "-y", "@modelcontextprotocol/server-github", "--api-key=sk-live-abcdef123456"],
      env: { GITHUB_PERSONAL_ACCESS_TOKEN: "ghp_0123456789abcdefSECRET" },
    });
    expect(wrapped.mcpServers.filesystem.command).toBe("npx");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(read(`${file}.baton-backup`)).toBe(original);
    expect(statSync(`${file}.baton-backup`).mode & 0o777).toBe(0o600);
    expect(first.stdout + first.stderr).not.toContain("ghp_0123");
    expect(first.stdout + first.stderr).not.toContain("sk-live");
    expect(first.stdout).toContain('"env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "***"}');
    expect(first.stdout).toContain("1 server wrapped in 1 file.");

    const afterFirst = read(file);
    const second = await box.run("wrap", "github");
    expect(second.code).toBe(0);
    expect(second.stdout).toContain("mcpServers.github: already wrapped");
    expect(second.stdout).toContain("Nothing to do: every selected server is already wrapped or remote.");
    expect(read(file)).toBe(afterFirst);

    expect(first.stdout).toContain(`backup: ${DESKTOP}.baton-backup\n`);
    const third = await box.run("wrap", "filesystem");
    expect(read(`${file}.baton-backup`)).toBe(original); // the first backup is never overwritten
    // ...and wrap says so, rather than nothing: the backup shown is not this run's file.
    expect(third.stdout).toContain(
      `backup: ${DESKTOP}.baton-backup already exists (from an earlier run): kept as it is, not replaced\n`,
    );
  });

  test("unwrap works from the file as it is now: edits made after the wrap are kept, whatever the backup holds", async () => {
    const box = sandbox();
    const file = box.put("claude-desktop.json", DESKTOP);
    expect((await box.run("wrap", "github")).code).toBe(0);
    const config = JSON.parse(read(file));
    config.mcpServers.github.args.push("--read-only");
    config.mcpServers.github.env.GITHUB_HOST = "github.example.com";
    writeFileSync(file, JSON.stringify(config, null, 2));
    expect((await box.run("unwrap", "github")).code).toBe(0);
    expect(JSON.parse(read(file)).mcpServers.github).toEqual({
      command: "npx",
      args: ["-y", "@modelcontextprotocol/server-github", "--api-key=sk-live-abcdef123456", "--read-only"],
      env: { GITHUB_PERSONAL_ACCESS_TOKEN: "ghp_0123456789abcdefSECRET", GITHUB_HOST: "github.example.com" },
    });
  });

  test("unwrap --all after wrap --all restores the same bytes", async () => {
    const box = sandbox();
    const files = [
      box.put("claude-desktop.json", DESKTOP),
      box.put("claude-code.claude.json", "~/.claude.json"),
      box.put("claude-code.mcp.json", ".mcp.json"),
      box.put("one-line.json", "~/.cursor/mcp.json"),
      box.put("tabs-crlf.json", ".cursor/mcp.json"),
    ];
    const originals = files.map(read);
    expect((await box.run("wrap", "--all")).code).toBe(0);
    expect(files.map(read)).not.toEqual(originals);
    // The fixtures' pre-wrapped entries ("already") would be unwrapped too; unwrap by name instead.
    const names = [
      "filesystem",
      "github",
      "local-binary",
      "windows-npx",
      "sequential-thinking",
      "postgres",
      "api",
      "everything",
      "solo",
      "noargs",
      "memory",
      "bare",
      "docs",
      "sentry",
    ];
    const result = await box.run("unwrap", ...names);
    expect(result.code).toBe(0);
    expect(files.map(read)).toEqual(originals);
  });

  test("~/.claude.json edits warn about Claude Code and touch only mcpServers subtrees", async () => {
    const box = sandbox();
    const file = box.put("claude-code.claude.json", "~/.claude.json");
    const result = await box.run("wrap", "--client", "claude-code", "postgres");
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("quit Claude Code first");
    const before = JSON.parse(read(join(FIXTURES, "claude-code.claude.json")));
    const after = JSON.parse(read(file));
    expect(after.projects["/home/me/app"].mcpServers.postgres.args).toEqual([
      "--",
      "npx",
      ...before.projects["/home/me/app"].mcpServers.postgres.args,
    ]);
    after.projects["/home/me/app"].mcpServers.postgres = before.projects["/home/me/app"].mcpServers.postgres;
    expect(after).toEqual(before);
    expect(result.stdout).not.toContain("hunter2");
  });

  test("--config detects the VS Code layout; comments survive", async () => {
    const box = sandbox();
    const file = box.put("vscode.jsonc", "somewhere/mcp.json");
    const result = await box.run("wrap", "--config", "somewhere/mcp.json", "fetch", "plain");
    expect(result.code).toBe(0);
    const text = read(file);
    expect(text).toContain(
      `"fetch": {"type": "stdio", "command": "${EXEC}", "args": ["--", "uvx", "mcp-server-fetch"]},`,
    );
    expect(text).toContain("// VS Code workspace MCP configuration");
    expect(text).toContain("/* The GitHub server, started with npx */");
  });

  test("remote (url) servers are wrapped with --url-env, the URL in env; the diff masks it and the kept original", async () => {
    const box = sandbox();
    box.put("cursor.json", "~/.cursor/mcp.json");
    const result = await box.run("wrap", "linear");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`+ "args": ["--url-env", "MCP_URL"]`);
    expect(result.stdout).toContain(`+ "env": {"MCP_URL": "***", "BATON_WRAPPED_REMOTE": "***"}`);
    // --list then names the flag wrap wrote.
    const listed = await box.run("wrap", "--list");
    expect(listed.stdout).toMatch(/ {2}linear +wrapped \(remote, through --url-env\)\n/);
  });

  test("a corrupt file is left byte-identical and nothing else is written", async () => {
    const box = sandbox();
    const broken = box.put("invalid-syntax.json", "~/.cursor/mcp.json");
    const good = box.put("claude-desktop.json", DESKTOP);
    const before = [read(broken), read(good)];
    const result = await box.run("wrap", "--all");
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("~/.cursor/mcp.json: not valid JSON: line 6, column 5:");
    expect([read(broken), read(good)]).toEqual(before);
    expect(existsSync(`${good}.baton-backup`)).toBe(false);
  });

  test("entries of the wrong shape are all named", async () => {
    const box = sandbox();
    box.put("bad-shapes.json", ".mcp.json");
    const result = await box.run("wrap", "--client", "claude-code", "--all");
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('.mcp.json: mcpServers.args-not-array "args" must be an array of strings');
    expect(result.stderr).toContain('.mcp.json: mcpServers.no-command has neither "command" nor "url"');
  });

  test("a symlinked config stays a symlink", async () => {
    const box = sandbox();
    const real = box.put("cursor.json", "dotfiles/cursor-mcp.json");
    mkdirSync(join(box.home, ".cursor"));
    symlinkSync(real, join(box.home, ".cursor", "mcp.json"));
    expect((await box.run("wrap", "python")).code).toBe(0);
    expect(lstatSync(join(box.home, ".cursor", "mcp.json")).isSymbolicLink()).toBe(true);
    expect(JSON.parse(read(real)).mcpServers.python.command).toBe(EXEC);
  });

  test("refuses to write a runtime (bun) as the proxy", async () => {
    const box = sandbox({ execPath: "/usr/local/bin/bun" });
    box.put("cursor.json", "~/.cursor/mcp.json");
    const result = await box.run("wrap", "python");
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("not the compiled baton-proxy binary");
  });

  test("Homebrew: the proxy path written is the opt/ link, not the versioned Cellar keg the next brew upgrade deletes", async () => {
    const where = { execPath: EXEC };
    const box = sandbox(where);
    const brew = join(box.home, "homebrew");
    const keg = join(brew, "Cellar", "baton-proxy", "0.1.0");
    mkdirSync(join(keg, "bin"), { recursive: true });
    writeFileSync(join(keg, "bin", "baton-proxy"), "");
    // What the running binary reports as its path (the kernel resolves bin/baton-proxy's symlinks to the keg).
    where.execPath = join(keg, "bin", "baton-proxy");
    const file = box.put("cursor.json", "~/.cursor/mcp.json");
    expect((await box.run("wrap", "python", "--dry-run")).stdout).toContain(JSON.stringify(where.execPath));
    mkdirSync(join(brew, "opt"));
    symlinkSync(keg, join(brew, "opt", "baton-proxy"));
    expect((await box.run("wrap", "python")).code).toBe(0);
    expect(JSON.parse(read(file)).mcpServers.python.command).toBe(
      join(brew, "opt", "baton-proxy", "bin", "baton-proxy"),
    );
    expect((await box.run("wrap", "python")).stdout).toContain("already wrapped");
    expect((await box.run("unwrap", "python")).code).toBe(0);
    expect(read(file)).toBe(read(join(FIXTURES, "cursor.json")));
  });

  test("a file that cannot be written: the summary counts only the servers wrapped in files that were", async () => {
    const box = sandbox();
    // Its backup's name (and the temp file's) passes NAME_MAX: refused even for root, which file modes are not.
    const unwritable = box.put("cursor.json", `./${"c".repeat(245)}.json`);
    const original = read(unwritable);
    const result = await box.run("wrap", "--config", unwritable, "--all");
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("ENAMETOOLONG");
    expect(read(unwritable)).toBe(original);
    expect(result.stdout.trimEnd().split("\n").at(-1)).toBe(
      "No server was wrapped: 3 servers not wrapped: their file could not be written (see above).",
    );
  });

  test("--all with no config files anywhere has nothing to do", async () => {
    const result = await sandbox().run("wrap", "--all");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Nothing to do: no servers selected.");
  });
});

describe("unwrap and --list", () => {
  test("server names from a cloned repo's .mcp.json cannot drive the terminal in --list or the usage hint", async () => {
    const box = sandbox();
    const name = "evil\u001b]0;pwned\u0007\u001b[2J\nbaton-proxy wrap: forged\u202e";
    const shown = "evil\\u001b]0;pwned\\u0007\\u001b[2J\\nbaton-proxy wrap: forged\\u202e";
    writeFileSync(join(box.project, ".mcp.json"), JSON.stringify({ mcpServers: { [name]: { command: "x" } } }));
    const listed = await box.run("wrap", "--list");
    expect(listed.stdout.split("\n")).toContain(`  ${shown}  not wrapped`);
    const hinted = await box.run("wrap");
    expect(hinted.stderr).toContain(`(servers found: ${shown} (`);
    // A type or a command with control characters: the --list state, a skip reason, a diff line.
    const odd = "x\u001b[31m\u202e\u009b2J";
    writeFileSync(
      join(box.project, ".mcp.json"),
      JSON.stringify({
        mcpServers: { [name]: { command: "x" }, ws: { type: odd, url: "ws://h" }, cmd: { command: odd } },
      }),
    );
    const listedTypes = await box.run("wrap", "--list");
    expect(listedTypes.stdout).toContain('remote (skipped: type "x\\u001b[31m\\u202e\\u009b2J"');
    const dry = await box.run("wrap", "--all", "--dry-run");
    expect(dry.stdout).toContain('"command": "x\\u001b[31m\\u202e\\u009b2J"');
    for (const out of [listed.stdout, hinted.stderr, listedTypes.stdout, dry.stdout, dry.stderr])
      for (const raw of ["\u001b", "\u0007", "\u202e", "\u009b", "\nbaton-proxy wrap: forged"])
        expect(out).not.toContain(raw);
  });

  test("--list shows every server with its state and notes missing files", async () => {
    const box = sandbox();
    box.put("claude-code.claude.json", "~/.claude.json");
    box.put("cursor.json", "~/.cursor/mcp.json");
    box.put("no-servers.json", DESKTOP);
    const result = await box.run("wrap", "--list");
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      [
        "~/.config/Claude/claude_desktop_config.json (claude-desktop)",
        "  (no MCP servers)",
        "~/.claude.json (claude-code)",
        "  sequential-thinking              not wrapped",
        '  docs                             not wrapped (remote: type "http"; wrap uses --url-env)',
        "  postgres (project /home/me/app)  not wrapped",
        "  already (project /home/me/app)   wrapped",
        "~/.cursor/mcp.json (cursor)",
        "  browser         not wrapped",
        "  wrapped-before  wrapped",
        "  linear          not wrapped (remote: has a url; wrap uses --url-env)",
        "  python          not wrapped",
        "Not present: ./.mcp.json (claude-code), ./.cursor/mcp.json (cursor), ./.vscode/mcp.json (vscode)",
        "",
      ]
        .join("\n")
        .replaceAll("./", `${box.project}/`),
    );
  });

  test("unwrap of a server that is not wrapped has nothing to do", async () => {
    const box = sandbox();
    const file = box.put("cursor.json", "~/.cursor/mcp.json");
    const result = await box.run("unwrap", "python");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("mcpServers.python: not wrapped");
    expect(read(file)).toBe(read(join(FIXTURES, "cursor.json")));
  });

  test("unwrap of a hand-wrapped entry recovers the command after --", async () => {
    const box = sandbox();
    const file = box.put("cursor.json", "~/.cursor/mcp.json");
    expect((await box.run("unwrap", "wrapped-before")).code).toBe(0);
    expect(JSON.parse(read(file)).mcpServers["wrapped-before"]).toEqual({ command: "uvx", args: ["mcp-server-fetch"] });
  });

  test("unwrap of a proxy entry without a server command fails, names it, writes nothing", async () => {
    const box = sandbox();
    const file = join(box.project, ".mcp.json");
    const text = `{"mcpServers": {"odd": {"command": "${EXEC}", "args": ["--"]}}}`;
    writeFileSync(file, text);
    const result = await box.run("unwrap", "--config", ".mcp.json", "odd");
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("mcpServers.odd: cannot unwrap: its args hold no server command");
    expect(readFileSync(file, "utf8")).toBe(text);
  });

  test("unwrap of a proxy entry written without -- restores the server command", async () => {
    const box = sandbox();
    const file = join(box.project, ".mcp.json");
    writeFileSync(file, `{"mcpServers": {"plain": {"command": "${EXEC}", "args": ["x", "--flag"]}}}`);
    expect((await box.run("unwrap", "--config", ".mcp.json", "plain")).code).toBe(0);
    expect(readFileSync(file, "utf8")).toBe('{"mcpServers": {"plain": {"command": "x", "args": ["--flag"]}}}');
  });

  test("--config on a missing file is an error", async () => {
    const result = await sandbox().run("unwrap", "--config", "nope.json", "--all");
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("nope.json: no such file");
  });
});
