import { describe, expect, test } from "bun:test";
import { parseArgs } from "../src/cli.ts";

describe("parseArgs", () => {
  test.each([
    [["--", "node", "server.js"], { kind: "proxy", command: ["node", "server.js"] }],
    [["--", "npx", "-y", "pkg", "--", "--help"], { kind: "proxy", command: ["npx", "-y", "pkg", "--", "--help"] }],
    [["--help"], { kind: "help" }],
    [["-h", "--", "x"], { kind: "help" }],
    [["--version"], { kind: "version" }],
    [["-V"], { kind: "version" }],
    [["report", "--list"], { kind: "report", args: ["--list"] }],
    [["wrap", "--all", "--dry-run"], { kind: "wrap", args: ["--all", "--dry-run"] }],
    [["unwrap", "everything"], { kind: "unwrap", args: ["everything"] }],
  ])("%j", (argv, expected) => {
    expect(parseArgs(argv)).toEqual(expected as never);
  });

  test.each([
    [[], `missing "--"`],
    [["node", "server.js"], `unexpected argument "node"`],
    [["--"], "no server command"],
    [["--frobnicate", "--", "x"], `unknown option "--frobnicate"`],
    [["-x"], `unknown option "-x"`],
  ])("usage error for %j", (argv, reason) => {
    const result = parseArgs(argv);
    expect(result.kind).toBe("usage-error");
    expect(result.kind === "usage-error" && result.reason).toContain(reason);
  });
});
