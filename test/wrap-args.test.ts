// Unit tests for src/wrap/wrap-args.ts: option parsing, misuse reasons, usage text.

import { describe, expect, test } from "bun:test";
import { parseWrapArgs, renderWrapUsage } from "../src/wrap/wrap-args.ts";

describe("parseWrapArgs", () => {
  test.each([
    [[], { names: [], all: false, list: false, dryRun: false, client: undefined, configPath: undefined, help: false }],
    [["github", "fs"], { names: ["github", "fs"] }],
    [["--all", "--dry-run"], { all: true, dryRun: true }],
    [["--client", "cursor", "x"], { client: "cursor", names: ["x"] }],
    [["--client=vscode", "--all"], { client: "vscode", all: true }],
    [["--config", "./a.json", "--all"], { configPath: "./a.json" }],
    [["--config=b.json", "x"], { configPath: "b.json" }],
    [["--list", "--client", "claude-code"], { list: true, client: "claude-code" }],
    [["x", "--", "--weird-name"], { names: ["x", "--weird-name"] }],
    [["-h"], { help: true }],
    [["--all", "x", "--help"], { help: true }],
  ])("%j", (args, expected) => {
    const result = parseWrapArgs(args);
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.options).toMatchObject(expected);
  });

  test.each([
    [["--client"], "--client needs a name (claude-desktop, claude-code, cursor, vscode)"],
    [["--client", "windsurf"], 'unknown client "windsurf" (known: claude-desktop, claude-code, cursor, vscode)'],
    [["--config"], "--config needs a file path"],
    [["--config="], "--config needs a file path"],
    [["--client", "cursor", "--config", "x.json"], "give either --client or --config, not both"],
    [["--all", "github"], "give either server names or --all, not both"],
    [["--list", "github"], "--list takes no server names, --all or --dry-run"],
    [["-x"], "unknown option -x"],
    [["--dry-run=yes"], "--dry-run takes no value"],
    [["--bogus", "--help"], "unknown option --bogus"],
  ])("%j is a usage error", (args, error) => {
    expect(parseWrapArgs(args)).toEqual({ ok: false, error });
  });
});

test("usage texts name the verb and every option", () => {
  for (const mode of ["wrap", "unwrap"] as const) {
    const usage = renderWrapUsage(mode);
    expect(usage.startsWith(`Usage: baton-proxy ${mode} [--client NAME | --config PATH] (SERVER... | --all) [--dry-run]`)).toBe(true);
    for (const option of ["--client NAME", "--config PATH", "--all", "--dry-run", "--list", "--help"]) expect(usage).toContain(option);
  }
  expect(renderWrapUsage("unwrap")).toContain('after "--"');
});
