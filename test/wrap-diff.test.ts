// Unit tests for src/wrap/diff.ts: secret masking in args and entries, inline rendering, the entry diff.

import { describe, expect, test } from "bun:test";
import { MASK, maskArg, maskArgs, maskEntry, renderEntryDiff, renderInline } from "../src/wrap/diff.ts";

describe("maskArg", () => {
  test.each([
    ["-y", "-y"],
    ["@modelcontextprotocol/server-github", "@modelcontextprotocol/server-github"],
    ["/Users/me/Desktop", "/Users/me/Desktop"],
    ["--port=8080", "--port=8080"],
    ["--api-key=abc123", `--api-key=${MASK}`],
    ["--apiKey=abc123", `--apiKey=${MASK}`],
    ["--token=abc", `--token=${MASK}`],
    ["--password=hunter2", `--password=${MASK}`],
    ["GITHUB_TOKEN=abc", `GITHUB_TOKEN=${MASK}`],
    ["DB_PASSWORD=pw", `DB_PASSWORD=${MASK}`],
    ["sk-live-abcdef", MASK],
    ["sk_test_abc", MASK],
    ["ghp_0123456789", MASK],
    ["github_pat_11AA", MASK],
    ["xoxb-123-456", MASK],
    ["AKIAIOSFODNN7EXAMPLE", MASK],
    ["eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig", MASK],
    ["Authorization: Bearer abc", `Authorization: ${MASK}`],
    ["postgresql://app:hunter2@localhost/app", `postgresql://app:${MASK}@localhost/app`],
    ["https://host/mcp?api_key=abc&x=1", `https://host/mcp?api_key=${MASK}&x=1`],
    ["https://host/mcp?x=1", "https://host/mcp?x=1"],
    ["${API_TOKEN}", "${API_TOKEN}"],
    ["--api-key=${API_KEY}", "--api-key=${API_KEY}"],
    ["C:\\Users\\me", "C:\\Users\\me"],
  ])("%p -> %p", (arg, expected) => {
    expect(maskArg(arg)).toBe(expected);
  });
});

test("maskArgs masks the value after a secret flag", () => {
  expect(maskArgs(["--api-key", "abc", "--port", "80", "--token", "${T}", "--token", "--verbose"])).toEqual([
    "--api-key",
    MASK,
    "--port",
    "80",
    "--token",
    MASK,
    "--token",
    "--verbose",
  ]);
});

test("maskEntry masks env and headers values, secret-named keys and args; keeps the rest", () => {
  const entry = {
    command: "npx",
    args: ["-y", "pkg", "--api-key=sk-1"],
    env: { GITHUB_TOKEN: "ghp_1", LOG_LEVEL: "debug" },
    headers: { Authorization: "Bearer x" },
    apiKey: "k",
    type: "stdio",
    envFile: "${workspaceFolder}/.env",
  };
  expect(maskEntry(entry)).toEqual({
    command: "npx",
    args: ["-y", "pkg", `--api-key=${MASK}`],
    env: { GITHUB_TOKEN: MASK, LOG_LEVEL: MASK },
    headers: { Authorization: MASK },
    apiKey: MASK,
    type: "stdio",
    envFile: "${workspaceFolder}/.env",
  });
});

test("renderInline", () => {
  expect(renderInline({ a: [1, "b", null], c: {} })).toBe('{"a": [1, "b", null], "c": {}}');
  expect(renderInline(undefined)).toBe("null");
});

test("renderEntryDiff shows only command and args as changed, never a secret", () => {
  const before = { command: "npx", args: ["-y", "pkg", "sk-secret-1"], env: { TOKEN: "hunter2" } };
  const after = {
    command: "/bin/baton-proxy",
    args: ["--", "npx", "-y", "pkg", "sk-secret-1"],
    env: { TOKEN: "hunter2" },
  };
  const text = renderEntryDiff("~/.cursor/mcp.json (cursor) mcpServers.x", before, after);
  expect(text).toBe(
    [
      "~/.cursor/mcp.json (cursor) mcpServers.x",
      '  - "command": "npx"',
      '  - "args": ["-y", "pkg", "***"]',
      '  + "command": "/bin/baton-proxy"',
      '  + "args": ["--", "npx", "-y", "pkg", "***"]',
      '    "env": {"TOKEN": "***"}',
      "",
    ].join("\n"),
  );
  expect(text).not.toContain("hunter2");
  expect(text).not.toContain("sk-secret");
});

test("renderEntryDiff when args appear or disappear", () => {
  const text = renderEntryDiff("t", { command: "x", env: {} }, { command: "/p", args: ["--", "x"], env: {} });
  expect(text.split("\n").slice(1, -1)).toEqual([
    '  - "command": "x"',
    '  + "command": "/p"',
    '  + "args": ["--", "x"]',
    '    "env": {}',
  ]);
});

test("renderEntryDiff masks a remote entry's url as its --url arg is masked (password, secret query values)", () => {
  const url = "https://u:PWSECRET@mcp.example.com/mcp?api_key=QSECRET&region=eu";
  const before = { type: "http", url };
  const after = { type: "stdio", command: "/bin/baton-proxy", args: ["--url", url] };
  const text = renderEntryDiff("q.json (--config) mcpServers.r", before, after);
  expect(text).not.toContain("PWSECRET");
  expect(text).not.toContain("QSECRET");
  expect(text).toContain('  - "url": "https://u:***@mcp.example.com/mcp?api_key=***&region=eu"');
  // unwrap prints the url on the added side
  expect(renderEntryDiff("t", after, before)).toContain(
    '  + "url": "https://u:***@mcp.example.com/mcp?api_key=***&region=eu"',
  );
});
