// Unit tests for src/cli.ts: where the server command starts, reserved subcommand names, and the help text's sources.

import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs, renderUsage } from "../src/cli.ts";
import { SUBCOMMANDS } from "../src/commands.ts";
import { KNOWN_VARIABLES } from "../src/config.ts";
import { ROOT } from "./support/binary.ts";

describe("parseArgs", () => {
  test.each([
    [
      ["--", "node", "server.js"],
      ["node", "server.js"],
    ],
    [
      ["node", "server.js"],
      ["node", "server.js"],
    ],
    [
      ["npx", "-y", "pkg", "--", "--help"],
      ["npx", "-y", "pkg", "--", "--help"],
    ],
    [
      ["--", "npx", "-y", "pkg", "--", "--help"],
      ["npx", "-y", "pkg", "--", "--help"],
    ],
    [["--", "-weird"], ["-weird"]],
    [
      ["--", "report", "--stdio"],
      ["report", "--stdio"],
    ],
    [
      ["uvx", "report"],
      ["uvx", "report"],
    ],
    [
      ["node", "--help"],
      ["node", "--help"],
    ],
  ])("%j runs the server command %j", (argv, command) => {
    expect(parseArgs(argv)).toEqual({ kind: "proxy", command, options: {} } as never);
  });

  test.each([
    [["--help"], "help"],
    [["-h", "--", "x"], "help"],
    [["-h", "node"], "help"],
    [["--version"], "version"],
    [["-V"], "version"],
  ])("%j", (argv, kind) => {
    expect(parseArgs(argv).kind).toBe(kind as never);
  });

  test("--url takes --header and --header-env, each repeatable", () => {
    const argv = ["--url", "https://x.example/mcp", "-H", "A: 1", "--header-env", "B=VB", "--header-env", "C=VC"];
    expect(parseArgs(argv)).toEqual({
      kind: "proxy",
      command: [],
      options: { url: "https://x.example/mcp", header: ["A: 1"], "header-env": ["B=VB", "C=VC"] },
    } as never);
  });

  test("--url-env VARIABLE stands for --url (the URL stays out of args) and takes the same options", () => {
    const argv = ["--url-env", "MCP_URL", "--header-env", "B=VB", "--allow-http"];
    expect(parseArgs(argv)).toEqual({
      kind: "proxy",
      command: [],
      options: { "url-env": "MCP_URL", "header-env": ["B=VB"], "allow-http": true },
    } as never);
    expect(renderUsage()).toContain("--url-env VARIABLE");
  });

  test.each([
    [["report", "--list"], "report", ["--list"]],
    [["wrap", "--all", "--dry-run"], "wrap", ["--all", "--dry-run"]],
    [["unwrap", "everything"], "unwrap", ["everything"]],
    [["serve", "--upstream", "http://x"], "serve", ["--upstream", "http://x"]],
    [["auth"], "auth", []],
  ])("%j is the %s subcommand", (argv, name, args) => {
    const result = parseArgs(argv);
    expect(result.kind === "subcommand" && [result.spec.name, result.args]).toEqual([name, args]);
  });

  test.each([
    [[], "no server command given"],
    [["--"], "no server command given"],
    [["--", ""], "no server command given"],
    [["--frobnicate", "--", "x"], "unknown option --frobnicate"],
    [["--frobnicate", "node"], "unknown option --frobnicate"],
    [["-x"], "unknown option -x"],
    // A near miss of one of our options names it (as a misspelt BATON_* variable does).
    [["--URL", "https://x.example/mcp"], "unknown option --URL (did you mean --url?)"],
    [
      ["--header_env", "X=Y", "--url", "https://x.example/mcp"],
      "unknown option --header_env (did you mean --header-env?)",
    ],
    // A subcommand's option given without it names the subcommand (the value is not quoted: it may hold a key).
    [
      ["--upstream", "http://user:key@127.0.0.1:8000/mcp"],
      "unknown option --upstream: it is an option of baton-proxy serve (did you mean baton-proxy serve --upstream …?)",
    ],
    [
      ["--listen=0.0.0.0:8080", "--upstream", "http://127.0.0.1:8000/mcp"],
      "unknown option --listen: it is an option of baton-proxy serve (did you mean baton-proxy serve --listen …?)",
    ],
    [["--slow-ms", "500"], "unknown option --slow-ms: it is an option of baton-proxy report"],
    [
      ["--dry-run"],
      "unknown option --dry-run: it is an option of baton-proxy wrap, baton-proxy unwrap (give the subcommand first)",
    ],
    [["--version=2", "node"], "--version takes no value"],
    [["-V", "report"], '"report" is a subcommand: give it first'],
    [["--header-env", "X-Api-Key=KEY", "node"], "--header, --header-env and --allow-http go with --url or --url-env"],
    [["--url", "https://x.example/mcp", "--url-env", "MCP_URL"], "--url and --url-env are mutually exclusive"],
    [["--url-env", "MCP_URL", "node"], '--url-env and a server command are mutually exclusive (got "node")'],
    [["--url-env", "A", "--url-env", "B"], "--url-env"],
    // Every option is given once (README), flags too: only --header/-H and --header-env repeat.
    [["--url", "http://x.example/mcp", "--allow-http", "--allow-http"], "--allow-http is given 2 times"],
  ])("usage error for %j", (argv, reason) => {
    const result = parseArgs(argv);
    expect(result.kind).toBe("usage-error");
    expect(result.kind === "usage-error" && result.reason).toContain(reason);
    expect(result.kind === "usage-error" && result.reason).not.toContain("key@");
  });
});

// The README's "After" entry: hosts start servers with a short PATH, so a bare "baton-proxy" is often not found there.
test("the help's example entry is the README's: the binary's absolute path, and the server command after --", () => {
  const usage = renderUsage();
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const after = /"command": "(\/[^"]+)",\s+"args": \[("--", "npx"[^\]]*)\]/.exec(readme);
  expect(after).not.toBeNull();
  expect(usage).toContain(`"command": "${after?.[1]}"`);
  expect(usage).toContain(`"args": [${after?.[2]}]`);
  expect(usage).toContain("command -v baton-proxy");
});

test("the help text comes from the command table: every synopsis, every subcommand, every variable", () => {
  const usage = renderUsage();
  expect(usage).toContain("baton-proxy [options] [--] <command> [args...]");
  for (const spec of SUBCOMMANDS) {
    expect(usage).toContain(`  ${spec.name}  `.replace(/ {2}$/, ""));
    for (const line of spec.synopsis) expect(usage).toContain(`baton-proxy ${spec.name} ${line}`);
  }
  expect(usage).toContain("--slow-ms N");
  expect(usage).toContain("(SERVER... | --all)");
  expect(usage).toContain(
    '"--" is needed only when <command> starts with "-" or is named like a subcommand\n(report, wrap, unwrap, serve, auth)',
  );
  for (const name of KNOWN_VARIABLES) expect(usage).toContain(name);
});
