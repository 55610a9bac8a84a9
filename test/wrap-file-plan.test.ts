// Round trips wrap -> unwrap on every fixture config (src/wrap/file-plan.ts, entry-edits.ts): same JSON, same bytes, idempotent.

import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "../src/cli.ts";
import { prepareRemote } from "../src/remote/remote-proxy.ts";
import type { ConfigFormat } from "../src/wrap/config-locations.ts";
import { renderEntryDiff } from "../src/wrap/diff.ts";
import { pathKey, planFileEdit, readArgsHints, type FilePlan } from "../src/wrap/file-plan.ts";
import { parseJsonc, toPlainValue } from "../src/wrap/jsonc.ts";
import { findServerEntries, type ServerEntry } from "../src/wrap/server-entries.ts";

const EXEC = "/opt/baton/bin/baton-proxy";
const FIXTURES = join(import.meta.dir, "fixtures", "wrap");

/** Every well-formed fixture, its layout, and how many entries `wrap --all` changes. */
const CASES: ReadonlyArray<{ file: string; format: ConfigFormat; wraps: number; byteIdentical: boolean }> = [
  { file: "claude-desktop.json", format: "mcpServers", wraps: 4, byteIdentical: true },
  { file: "tabs-crlf.json", format: "mcpServers", wraps: 2, byteIdentical: true },
  { file: "one-line.json", format: "mcpServers", wraps: 3, byteIdentical: true },
  { file: "no-servers.json", format: "mcpServers", wraps: 0, byteIdentical: true },
  { file: "claude-code.claude.json", format: "claude-json", wraps: 3, byteIdentical: true },
  { file: "claude-code.mcp.json", format: "mcpServers", wraps: 2, byteIdentical: true },
  { file: "cursor.json", format: "mcpServers", wraps: 3, byteIdentical: true },
  { file: "vscode.jsonc", format: "servers", wraps: 4, byteIdentical: true },
  { file: "escapes-bom.json", format: "mcpServers", wraps: 1, byteIdentical: true },
];

function load(text: string, format: ConfigFormat): { root: ReturnType<typeof parseJsonc>; entries: ServerEntry[] } {
  const root = parseJsonc(text);
  const found = findServerEntries(root, format, EXEC);
  expect(found.problems).toEqual([]);
  return { root, entries: found.entries };
}

function plan(
  text: string,
  format: ConfigFormat,
  mode: "wrap" | "unwrap",
  pick?: (entry: ServerEntry) => boolean,
  hintsFrom?: string,
): FilePlan {
  const { root, entries } = load(text, format);
  const argsHints = hintsFrom === undefined ? undefined : readArgsHints(hintsFrom, format, EXEC);
  return planFileEdit({ text, root, selected: entries.filter(pick ?? (() => true)), mode, execPath: EXEC, argsHints });
}

describe.each(CASES)("$file", ({ file, format, wraps, byteIdentical }) => {
  const original = readFileSync(join(FIXTURES, file), "utf8");
  const wrapped = plan(original, format, "wrap");
  const changed = new Set(wrapped.outcomes.filter((o) => o.kind === "changed").map((o) => pathKey(o.entry.path)));

  test("wrap changes the stdio and http entries into proxy entries and nothing else", () => {
    expect(changed.size).toBe(wraps);
    const after = load(wrapped.newText, format).entries;
    for (const entry of after.filter((e) => changed.has(pathKey(e.path)))) {
      expect(entry.value.command).toBe(EXEC);
      // stdio entries: `-- command …`; remote (url) entries: `--url-env MCP_URL [--header-env …]`.
      expect(["--", "--url-env"]).toContain((entry.value.args as string[])[0] as string);
      expect(entry.status.kind).toBe("wrapped");
    }
    // (A `//` right after a colon is a URL in a string, not a comment.)
    const comments = original.match(/(?<!:)\/\/[^\n]*|\/\*[\s\S]*?\*\//g) ?? [];
    for (const comment of comments) expect(wrapped.newText).toContain(comment);
    expect(wrapped.newText.startsWith("\uFEFF")).toBe(original.startsWith("\uFEFF"));
    expect(wrapped.newText.includes("\r\n")).toBe(original.includes("\r\n"));
  });

  test("a second wrap is a no-op", () => {
    const again = plan(wrapped.newText, format, "wrap");
    expect(again.newText).toBe(wrapped.newText);
    expect(again.outcomes.filter((o) => o.kind === "changed")).toEqual([]);
  });

  test("unwrap restores the same JSON" + (byteIdentical ? " and the same bytes" : ""), () => {
    const restored = plan(wrapped.newText, format, "unwrap", (e) => changed.has(pathKey(e.path)), original);
    expect(toPlainValue(parseJsonc(restored.newText))).toEqual(toPlainValue(parseJsonc(original)));
    if (byteIdentical) expect(restored.newText).toBe(original);
  });
});

describe("exact text of edits", () => {
  const wrapOne = (text: string): string => plan(text, "mcpServers", "wrap").newText;
  test.each([
    [
      '{"mcpServers":{"a":{"command":"npx","args":["-y","p"]}}}',
      `{"mcpServers":{"a":{"command":"${EXEC}","args":["--","npx","-y","p"]}}}`,
    ],
    ['{"mcpServers": {"a": {"command": "x"}}}', `{"mcpServers": {"a": {"command": "${EXEC}", "args": ["--", "x"]}}}`],
    [
      '{"mcpServers": {"a": {"command": "x", "args": [ ]}}}',
      `{"mcpServers": {"a": {"command": "${EXEC}", "args": ["--", "x"]}}}`,
    ],
    [
      '{"mcpServers": {"a": {"command": "x", "args": [ /* keep */ "p" ]}}}',
      `{"mcpServers": {"a": {"command": "${EXEC}", "args": [ /* keep */ "--", "x", "p" ]}}}`,
    ],
    [
      '{"mcpServers": {"a": {"command": "x", "args": [\n  "p", // why\n  "q",\n]}}}',
      `{"mcpServers": {"a": {"command": "${EXEC}", "args": [\n  "--",\n  "x",\n  "p", // why\n  "q",\n]}}}`,
    ],
    [
      '{"mcpServers": {"a": {"args": ["p"], "command": "x"}}}',
      `{"mcpServers": {"a": {"args": ["--", "x", "p"], "command": "${EXEC}"}}}`,
    ],
    [
      '{\n  "mcpServers": {\n    "a": {\n      "command": "x",\n      "env": {}\n    }\n  }\n}',
      `{\n  "mcpServers": {\n    "a": {\n      "command": "${EXEC}",\n      "args": ["--", "x"],\n      "env": {}\n    }\n  }\n}`,
    ],
    [
      '{"mcpServers": {"a": {\n  "command": "x",\n  "args": [\n    "p"\n  ]\n}}}',
      `{"mcpServers": {"a": {\n  "command": "${EXEC}",\n  "args": [\n    "--",\n    "x",\n    "p"\n  ]\n}}}`,
    ],
  ])("%p", (input, expected) => {
    expect(wrapOne(input)).toBe(expected);
  });

  test("a Windows proxy path is JSON-escaped and cmd /c stays after --", () => {
    const text = '{"mcpServers": {"m": {"command": "cmd", "args": ["/c", "npx", "-y", "pkg"]}}}';
    const { root, entries } = load(text, "mcpServers");
    const out = planFileEdit({
      text,
      root,
      selected: entries,
      mode: "wrap",
      execPath: "C:\\Tools\\baton-proxy.exe",
    }).newText;
    expect(out).toBe(
      '{"mcpServers": {"m": {"command": "C:\\\\Tools\\\\baton-proxy.exe", "args": ["--", "cmd", "/c", "npx", "-y", "pkg"]}}}',
    );
  });

  test("unwrap drops proxy flags before -- and keeps args: [] without a backup hint", () => {
    const text = `{"mcpServers": {"a": {"command": "${EXEC}", "args": ["--flag", "--", "x"]}}}`;
    expect(plan(text, "mcpServers", "unwrap").newText).toBe('{"mcpServers": {"a": {"command": "x", "args": []}}}');
  });

  test("unwrap of an entry wrapped without -- (as the proxy now allows) restores it", () => {
    const text = `{"mcpServers": {"a": {"command": "${EXEC}", "args": ["npx", "-y", "pkg", "--", "--x"]}}}`;
    expect(plan(text, "mcpServers", "unwrap").newText).toBe(
      '{"mcpServers": {"a": {"command": "npx", "args": ["-y", "pkg", "--", "--x"]}}}',
    );
  });

  test("unwrap of an entry with no server command fails that entry and changes nothing", () => {
    const text = `{"mcpServers": {"a": {"command": "${EXEC}", "args": ["--"]}}}`;
    const result = plan(text, "mcpServers", "unwrap");
    expect(result.newText).toBe(text);
    expect(result.outcomes.map((o) => o.kind)).toEqual(["failed"]);
  });

  test("remote entries --url cannot carry and unwrapped entries are skipped with a reason", () => {
    const text = '{"mcpServers": {"r": {"type": "ws", "url": "wss://x"}, "s": {"command": "x"}}}';
    expect(plan(text, "mcpServers", "wrap").outcomes.map((o) => (o.kind === "skipped" ? o.reason : o.kind))).toEqual([
      'remote server (type "ws") that --url cannot carry, left as is',
      "changed",
    ]);
    expect(plan(text, "mcpServers", "unwrap").outcomes.map((o) => (o.kind === "skipped" ? o.reason : o.kind))).toEqual([
      "not wrapped",
      "not wrapped",
    ]);
  });

  test("a remote entry becomes baton-proxy --url-env MCP_URL: the URL and header values move to env (as written), the original text rides along", () => {
    const text =
      '{"mcpServers": {"r": {"type": "http", "url": "https://mcp.example.com/mcp", "headers": {"Authorization": "Bearer ${TOKEN}", "X-Team": "red"}, "disabled": false}}}';
    const wrapped = plan(text, "mcpServers", "wrap");
    const entry = (JSON.parse(wrapped.newText) as { mcpServers: Record<string, Record<string, unknown>> }).mcpServers.r;
    expect(entry).toEqual({
      type: "stdio",
      command: EXEC,
      args: [
        "--url-env",
        "MCP_URL",
        // Variable names, not ${…}: hosts expand ${…} in args from their own environment (not env) and warn.
        "--header-env",
        "Authorization=MCP_HEADER_AUTHORIZATION",
        "--header-env",
        "X-Team=MCP_HEADER_X_TEAM",
      ],
      disabled: false,
      env: {
        MCP_URL: "https://mcp.example.com/mcp",
        MCP_HEADER_AUTHORIZATION: "Bearer ${TOKEN}",
        MCP_HEADER_X_TEAM: "red",
        BATON_WRAPPED_REMOTE: text.slice(text.indexOf('{"type"'), -2),
      },
    });
    expect(plan(wrapped.newText, "mcpServers", "wrap").newText).toBe(wrapped.newText);
    expect(plan(wrapped.newText, "mcpServers", "unwrap").newText).toBe(text);
  });

  test("a URL holding a key (query, path, userinfo) never lands in args, nor in the diff; an MCP_URL already in env is kept", () => {
    const servers = {
      query: { type: "http", url: "https://mcp.example.com/mcp?api_key=sk-live-123456" },
      path: { type: "sse", url: "https://actions.zapier.com/mcp/zk-path-key-7890/sse", env: { MCP_URL: "mine" } },
      userinfo: { url: "https://me:pw-secret-42@mcp.example.com/mcp" },
    };
    const text = JSON.stringify({ mcpServers: servers }, null, 2);
    const wrapped = plan(text, "mcpServers", "wrap");
    const entries = (JSON.parse(wrapped.newText) as { mcpServers: Record<string, Record<string, any>> }).mcpServers;
    for (const [name, entry] of Object.entries(entries)) {
      const original = servers[name as keyof typeof servers];
      const key = name === "path" ? "MCP_URL_2" : "MCP_URL";
      expect([name, entry.args]).toEqual([name, ["--url-env", key]]);
      expect(entry.env[key]).toBe(original.url);
      const invocation = parseArgs(entry.args);
      const prepared = invocation.kind === "proxy" ? prepareRemote(invocation.options, entry.env) : undefined;
      expect(prepared?.ok && prepared.target.url.href).toBe(original.url);
    }
    expect(entries.path?.env.MCP_URL).toBe("mine");
    const diff = wrapped.outcomes
      .map((o) => (o.kind === "changed" ? renderEntryDiff(o.entry.name, o.before, o.after) : ""))
      .join("");
    // As before, the diff masks the userinfo's password and a secret-named query value (not a key in a path, which
    // nothing tells from a path: it is shown on the user's own terminal, from a file they can read).
    for (const secret of ["sk-live-123456", "pw-secret-42"]) expect(diff).not.toContain(secret);
    expect(diff).toContain('"MCP_URL_2": "***"');
    expect(diff).toContain('"args": ["--url-env", "MCP_URL"]');
    expect(plan(wrapped.newText, "mcpServers", "wrap").newText).toBe(wrapped.newText);
    expect(plan(wrapped.newText, "mcpServers", "unwrap").newText).toBe(text);
  });

  test("headers whose names map to the same env variable each keep their own value", () => {
    const text =
      '{"mcpServers": {"r": {"type": "http", "url": "https://mcp.example.com/mcp", "headers": {"X-Api-Key": "a-value", "X_Api_Key": "b-value"}}}}';
    const wrapped = plan(text, "mcpServers", "wrap");
    const entry = (JSON.parse(wrapped.newText) as { mcpServers: { r: Record<string, any> } }).mcpServers.r;
    const sent = (entry.args as string[])
      .filter((_arg, i, all) => all[i - 1] === "--header-env")
      .map((header) => header.replace(/=(\w+)$/, (_all, name: string) => `: ${entry.env[name]}`));
    expect(sent).toEqual(["X-Api-Key: a-value", "X_Api_Key: b-value"]);
    expect(plan(wrapped.newText, "mcpServers", "unwrap").newText).toBe(text);
  });

  test('an entry wrapped by earlier versions (--header "Name: ${MCP_HEADER_…}") is still wrapped, and unwrap restores it exactly', () => {
    const original = '{"type": "http", "url": "https://mcp.example.com/mcp", "headers": {"X-Api-Key": "k-1"}}';
    const old = {
      type: "stdio",
      command: EXEC,
      args: ["--url", "https://mcp.example.com/mcp", "--header", "X-Api-Key: ${MCP_HEADER_X_API_KEY}"],
      env: { MCP_HEADER_X_API_KEY: "k-1", BATON_WRAPPED_REMOTE: original },
    };
    const text = `{"mcpServers": {"r": ${JSON.stringify(old, null, 2)}}}`;
    expect(plan(text, "mcpServers", "wrap").outcomes.map((o) => (o.kind === "skipped" ? o.reason : o.kind))).toEqual([
      "already wrapped",
    ]);
    expect(plan(text, "mcpServers", "unwrap").newText).toBe(`{"mcpServers": {"r": ${original}}}`);
  });

  test("every remote entry wrap changes starts: the proxy accepts its args with its env (plain http kept with --allow-http)", () => {
    const servers = {
      internal: { type: "http", url: "http://mcp.internal:8080/mcp", headers: { "X-Api-Key": "k-1" } },
      loopback: { type: "http", url: "http://127.0.0.1:8080/mcp" },
      secure: {
        type: "sse",
        url: "https://mcp.example.com/sse",
        headers: { Authorization: "Bearer t", "X-Empty": "" },
      },
    };
    const text = JSON.stringify({ mcpServers: servers }, null, 2);
    const wrapped = plan(text, "mcpServers", "wrap");
    expect(wrapped.outcomes.map((o) => o.kind)).toEqual(["changed", "changed", "changed"]);
    const entries = (JSON.parse(wrapped.newText) as { mcpServers: Record<string, Record<string, any>> }).mcpServers;
    for (const [name, entry] of Object.entries(entries)) {
      const invocation = parseArgs(entry.args);
      if (invocation.kind !== "proxy") throw new Error(`${name}: ${JSON.stringify(invocation)}`);
      const prepared = prepareRemote(invocation.options, entry.env);
      expect([name, prepared.ok ? "starts" : prepared.problems]).toEqual([name, "starts"]);
    }
    // The host already sent this entry's credentials in clear; wrap keeps that choice visible in the args.
    expect(entries.internal?.args).toContain("--allow-http");
    expect(entries.loopback?.args).not.toContain("--allow-http");
    expect(entries.secure?.args).not.toContain("--allow-http");
    expect(plan(wrapped.newText, "mcpServers", "unwrap").newText).toBe(text);
  });

  test("remote entries with headers the proxy refuses (its own, not a header name, one name twice) are skipped with a reason, not broken", () => {
    const text = JSON.stringify({
      mcpServers: {
        own: { type: "http", url: "https://x.example/mcp", headers: { "Content-Type": "application/json" } },
        odd: { type: "http", url: "https://x.example/mcp", headers: { "X Api Key": "k-secret-9" } },
        split: { type: "http", url: "https://x.example/mcp", headers: { "X-Api-Key": "k-secret-9\r\nX-Other: 1" } },
        wide: { type: "http", url: "https://x.example/mcp", headers: { "X-Api-Key": "k-secret-9\u2192" } },
        twice: {
          type: "http",
          url: "https://x.example/mcp",
          headers: { "X-Api-Key": "k-secret-9", "x-api-key": "k-2" },
        },
      },
    });
    const result = plan(text, "mcpServers", "wrap");
    expect(result.newText).toBe(text);
    const reasons = result.outcomes.map((o) => (o.kind === "skipped" ? o.reason : o.kind));
    expect(reasons).toEqual([
      'remote server (type "http", header Content-Type is set by the proxy itself) that --url cannot carry, left as is',
      'remote server (type "http", a header name that is not a valid HTTP header name) that --url cannot carry, left as is',
      'remote server (type "http", header X-Api-Key has a line break or NUL in its value) that --url cannot carry, left as is',
      'remote server (type "http", header X-Api-Key has a character beyond U+00FF in its value) that --url cannot carry, left as is',
      'remote server (type "http", header x-api-key is given twice (header names ignore case)) that --url cannot carry, left as is',
    ]);
    expect(reasons.join("\n")).not.toContain("k-secret-9");
  });

  test("unwrap refuses a BATON_WRAPPED_REMOTE that is JSON but no server entry (an array, a string): the entry stays", () => {
    for (const kept of ["[1,2]", '"https://x.example.com/mcp"', "null"]) {
      const entry = {
        type: "stdio",
        command: EXEC,
        args: ["--url", "https://x.example.com/mcp"],
        env: { BATON_WRAPPED_REMOTE: kept },
      };
      const text = JSON.stringify({ mcpServers: { r: entry } });
      const result = plan(text, "mcpServers", "unwrap");
      expect(result.newText).toBe(text);
      expect(result.outcomes.map((o) => o.kind)).toEqual(["failed"]);
    }
  });

  test("a --url or --url-env entry written by hand (the README's example, no original kept) is left alone by unwrap, not a failure", () => {
    for (const args of [
      ["--url", "https://x.example.com/mcp"],
      ["--url-env", "MY_URL"],
    ]) {
      const text = `{"mcpServers": {"r": {"command": "${EXEC}", "args": ${JSON.stringify(args)}, "env": {"MY_URL": "https://x.example.com/mcp"}}}}`;
      const result = plan(text, "mcpServers", "unwrap");
      expect(result.newText).toBe(text);
      expect(result.outcomes.map((o) => (o.kind === "skipped" ? o.reason : o.kind))).toEqual([
        "a --url entry not made by wrap (no original entry kept): left as is",
      ]);
      expect(plan(text, "mcpServers", "wrap").outcomes.map((o) => (o.kind === "skipped" ? o.reason : o.kind))).toEqual([
        "already wrapped",
      ]);
    }
  });

  test("a broken backup gives no hints", () => {
    expect(readArgsHints("{", "mcpServers", EXEC).size).toBe(0);
  });
});
