// Unit tests for wrap/unwrap arguments: WRAP_SPEC parsed by src/command-spec.ts, then checked by src/wrap/wrap-args.ts; and the usage text.

import { describe, expect, test } from "bun:test";
import { parseCommandArgs, renderCommandHelp } from "../src/command-spec.ts";
import { LocalError } from "../src/errors.ts";
import { toWrapOptions } from "../src/wrap/wrap-args.ts";
import { UNWRAP_SPEC, WRAP_SPEC } from "../src/wrap/wrap-spec.ts";

const parse = (args: string[]) => toWrapOptions(parseCommandArgs(WRAP_SPEC, args));

describe("wrap arguments", () => {
  test.each([
    [[], { names: [], all: false, list: false, dryRun: false, client: undefined, configPath: undefined }],
    [["github", "fs"], { names: ["github", "fs"] }],
    [["--all", "--dry-run"], { all: true, dryRun: true }],
    [["--client", "cursor", "x"], { client: "cursor", names: ["x"] }],
    [["--client=vscode", "--all"], { client: "vscode", all: true }],
    // The names are fixed identifiers: any case names the same client (as BATON_* enums ignore case).
    [["--client", "Cursor", "x"], { client: "cursor", names: ["x"] }],
    [["--client=VSCode", "--all"], { client: "vscode", all: true }],
    [["--client", "Claude-Desktop", "--all"], { client: "claude-desktop", all: true }],
    [["--config", "./a.json", "--all"], { configPath: "./a.json" }],
    [["--config=b.json", "x"], { configPath: "b.json" }],
    [["--list", "--client", "claude-code"], { list: true, client: "claude-code" }],
    [["x", "--", "--weird-name"], { names: ["x", "--weird-name"] }],
  ])("%j", (args, expected) => {
    expect(parse(args)).toMatchObject(expected);
  });

  test.each([
    [["--client"], "--client needs a value (NAME)"],
    [["--client", "windsurf"], 'unknown client "windsurf" (known: claude-desktop, claude-code, cursor, vscode)'],
    [["--config"], "--config needs a value (PATH)"],
    [["--config="], "--config needs a value (PATH)"],
    [["--client", "cursor", "--config", "x.json"], "give either --client or --config, not both"],
    [["--all", "github"], "give either server names or --all, not both"],
    [["--list", "github"], "--list takes no server names, --all or --dry-run"],
    [["-x"], "unknown option -x"],
    [["--dry-run=yes"], "--dry-run takes no value"],
    [["--bogus", "--help"], "unknown option --bogus"],
    [["--all", "--all"], "--all is given 2 times"],
    [["x", "--dry-run", "--dry-run", "--dry-run"], "--dry-run is given 3 times"],
  ])("%j is a usage error", (args, error) => {
    let thrown: unknown;
    try {
      parse(args);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(LocalError);
    expect(thrown).toMatchObject({ code: "E_USAGE", message: error });
  });
});

test("usage texts name the verb, the required server names and every option", () => {
  for (const spec of [WRAP_SPEC, UNWRAP_SPEC]) {
    const usage = renderCommandHelp(spec);
    expect(
      usage.startsWith(
        `Usage: baton-proxy ${spec.name} [--client NAME | --config PATH] (SERVER... | --all) [--dry-run]`,
      ),
    ).toBe(true);
    for (const option of ["--client NAME", "--config PATH", "--all", "--dry-run", "--list", "--help"])
      expect(usage).toContain(option);
  }
  expect(renderCommandHelp(UNWRAP_SPEC)).toContain('(after "--", or after the proxy options when there is no "--")');
});

test("the help says what wrap and unwrap do with remote entries (they become --url entries and come back)", () => {
  const wrap = renderCommandHelp(WRAP_SPEC);
  expect(wrap).not.toContain("remote (url/http/sse) entries are skipped");
  expect(wrap).toContain("--url");
  expect(wrap).toContain("MCP_HEADER_");
  expect(wrap).toContain("--header-env");
  // The URL moves to env too: args are readable by every local user, and a URL may hold a key.
  expect(wrap).toContain("--url-env MCP_URL");
  // wrap no longer writes ${…} into args (hosts expand them from their own environment)
  expect(wrap).not.toContain("${MCP_HEADER_");
  expect(renderCommandHelp(UNWRAP_SPEC)).toContain("BATON_WRAPPED_REMOTE");
});
