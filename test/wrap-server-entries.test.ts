// Unit tests for src/wrap/server-entries.ts: finding entries per layout, classifying them, shape problems.

import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseJsonc } from "../src/wrap/jsonc.ts";
import {
  classifyEntry,
  describeJsonPath,
  findServerEntries,
  isProxyCommand,
  parseWrappedArgs,
} from "../src/wrap/server-entries.ts";

const EXEC = "/opt/baton/bin/baton-proxy";
const fixture = (name: string): string => readFileSync(join(import.meta.dir, "fixtures", "wrap", name), "utf8");

describe("classifyEntry", () => {
  test.each([
    [{ command: "npx", args: ["-y", "p"] }, { kind: "stdio" }],
    [{ type: "stdio", command: "npx" }, { kind: "stdio" }],
    [
      { type: "http", url: "https://x" },
      { kind: "remote", reason: 'type "http"', target: { url: "https://x", headers: {}, allowHttp: false } },
    ],
    [
      { type: "sse", command: "npx" },
      { kind: "remote", reason: 'type "sse", no url' },
    ],
    [{ type: "streamable-http" }, { kind: "remote", reason: 'type "streamable-http", no url' }],
    [
      { type: "ws", url: "wss://x" },
      { kind: "remote", reason: 'type "ws"' },
    ],
    [
      { url: "https://x", headers: { A: "b" } },
      { kind: "remote", reason: "has a url", target: { url: "https://x", headers: { A: "b" }, allowHttp: false } },
    ],
    [
      { type: "http", url: "http://mcp.internal/mcp" },
      {
        kind: "remote",
        reason: 'type "http"',
        target: { url: "http://mcp.internal/mcp", headers: {}, allowHttp: true },
      },
    ],
    [
      { type: "http", url: "https://x", headers: { Accept: "application/json" } },
      { kind: "remote", reason: 'type "http", header Accept is set by the proxy itself' },
    ],
    [
      { url: "https://x", headers: { A: 1 } },
      { kind: "remote", reason: "has a url, headers that are not an object of strings" },
    ],
    // Why --url cannot carry it, never quoting the URL (it may hold a key).
    [
      { url: "${BASE}/mcp" },
      { kind: "remote", reason: "has a url, a url that does not start with http:// or https://" },
    ],
    [{ url: "https://[x/mcp" }, { kind: "remote", reason: "has a url, a url that is not a valid URL" }],
    [
      { type: "http", url: 42 },
      { kind: "remote", reason: 'type "http", a url that is not a string' },
    ],
    [
      { command: EXEC, args: ["--url", "https://x"], env: { BATON_WRAPPED_REMOTE: '{"url": "https://x"}' } },
      { kind: "wrapped", original: undefined, remoteText: '{"url": "https://x"}' },
    ],
    [
      { command: EXEC, args: ["--", "npx", "-y"] },
      { kind: "wrapped", original: { command: "npx", args: ["-y"] } },
    ],
    [
      { command: "baton-proxy", args: ["--x", "--", "npx"] },
      { kind: "wrapped", original: { command: "npx", args: [] } },
    ],
    [
      { command: "/bin/baton-proxy", args: ["npx"] },
      { kind: "wrapped", original: { command: "npx", args: [] } },
    ],
    [
      { command: "/bin/baton-proxy", args: ["-V"] },
      { kind: "wrapped", original: undefined },
    ],
    [{ command: "/bin/baton-proxy" }, { kind: "wrapped", original: undefined }],
    [{ env: {} }, 'has neither "command" nor "url"'],
    [{ command: 3 }, '"command" must be a non-empty string'],
    [{ command: " " }, '"command" must be a non-empty string'],
    [{ command: "npx", args: "-y" }, '"args" must be an array of strings'],
    [{ command: "npx", args: ["-y", null] }, '"args" must be an array of strings'],
  ])("%j -> %j", (entry, expected) => {
    expect(classifyEntry(entry, EXEC)).toEqual(expected as never);
  });
});

describe("isProxyCommand", () => {
  test.each([
    [EXEC, true],
    ["baton-proxy", true],
    ["/usr/local/bin/baton-proxy", true],
    ["C:\\Tools\\baton-proxy.exe", true],
    ["C:\\Tools\\Baton-Proxy.EXE", true],
    ["/dl/baton-proxy-darwin-arm64", true],
    ["/dl/baton-proxy-windows-x64.exe", true],
    ["/opt/renamed/proxy", false],
    ["npx", false],
    ["baton-proxy-helper", false],
    ["/baton-proxy/bin/server", false],
  ])("%p -> %p", (command, expected) => {
    expect(isProxyCommand(command, EXEC)).toBe(expected);
  });
  test("the running binary counts whatever its name", () => {
    expect(isProxyCommand("/opt/renamed/proxy", "/opt/renamed/proxy")).toBe(true);
  });
});

test("parseWrappedArgs reads the args as the proxy does: -- optional, the server's own -- kept", () => {
  expect(parseWrappedArgs(["--", "node", "s.js", "--", "x"])).toEqual({ command: "node", args: ["s.js", "--", "x"] });
  expect(parseWrappedArgs(["node", "s.js", "--", "x"])).toEqual({ command: "node", args: ["s.js", "--", "x"] });
  expect(parseWrappedArgs(["--future-flag", "--", "x", "-y"])).toEqual({ command: "x", args: ["-y"] });
  expect(parseWrappedArgs(["--"])).toBeUndefined();
  expect(parseWrappedArgs(["report"])).toBeUndefined(); // the proxy would run its report subcommand
  expect(parseWrappedArgs([])).toBeUndefined();
});

test("describeJsonPath", () => {
  expect(describeJsonPath(["mcpServers", "github"])).toBe("mcpServers.github");
  expect(describeJsonPath(["projects", "/home/me/app", "mcpServers", "my server"])).toBe(
    'projects["/home/me/app"].mcpServers["my server"]',
  );
});

describe("findServerEntries", () => {
  test("a .claude.json: top-level and per-project entries, remote ones classified", () => {
    const { entries, problems } = findServerEntries(
      parseJsonc(fixture("claude-code.claude.json")),
      "claude-json",
      EXEC,
    );
    expect(problems).toEqual([]);
    expect(entries.map((e) => [e.project ?? "(user)", e.name, e.status.kind])).toEqual([
      ["(user)", "sequential-thinking", "stdio"],
      ["(user)", "docs", "remote"],
      ["/home/me/app", "postgres", "stdio"],
      ["/home/me/app", "already", "wrapped"],
    ]);
    expect(entries[2]!.path).toEqual(["projects", "/home/me/app", "mcpServers", "postgres"]);
  });

  test("the same file read as plain mcpServers ignores projects", () => {
    const { entries } = findServerEntries(parseJsonc(fixture("claude-code.claude.json")), "mcpServers", EXEC);
    expect(entries.map((e) => e.name)).toEqual(["sequential-thinking", "docs"]);
  });

  test("VS Code uses servers, not mcpServers", () => {
    const { entries } = findServerEntries(parseJsonc(fixture("vscode.jsonc")), "servers", EXEC);
    expect(entries.map((e) => `${e.name}:${e.status.kind}`)).toEqual([
      "github:stdio",
      "fetch:stdio",
      "remote:remote",
      "plain:stdio",
    ]);
  });

  test("a missing container means no servers", () => {
    expect(findServerEntries(parseJsonc(fixture("no-servers.json")), "mcpServers", EXEC)).toEqual({
      entries: [],
      problems: [],
    });
  });

  test.each([
    ["root-array.json", ["the file holds an array, expected an object"]],
    ["servers-array.json", ["mcpServers is an array, expected an object"]],
    [
      "bad-shapes.json",
      [
        'mcpServers.args-not-array "args" must be an array of strings',
        'mcpServers.args-not-strings "args" must be an array of strings',
        "mcpServers.entry-array is an array, expected an object",
        'mcpServers.no-command has neither "command" nor "url"',
        'mcpServers.command-number "command" must be a non-empty string',
      ],
    ],
  ])("%p gathers every problem", (name, problems) => {
    expect(findServerEntries(parseJsonc(fixture(name)), "mcpServers", EXEC).problems).toEqual(problems);
  });

  test("projects of the wrong type and repeated names are problems", () => {
    expect(findServerEntries(parseJsonc('{"projects": []}'), "claude-json", EXEC).problems).toEqual([
      "projects is an array, expected an object",
    ]);
    expect(
      findServerEntries(
        parseJsonc('{"mcpServers": {"a": {"command": "x"}, "a": {"command": "y"}}}'),
        "mcpServers",
        EXEC,
      ).problems,
    ).toEqual(["mcpServers.a appears twice"]);
  });
});
