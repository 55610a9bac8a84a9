// Unit tests for src/wrap/config-locations.ts: per-OS paths, client filter, dedup, format detection.

import { describe, expect, test } from "bun:test";
import {
  claudeDesktopPath,
  detectFormat,
  displayPath,
  isClientName,
  knownConfigLocations,
  type LocationInputs,
} from "../src/wrap/config-locations.ts";
import { parseJsonc } from "../src/wrap/jsonc.ts";

const linux: LocationInputs = { homeDir: "/home/me", cwd: "/work/app", platform: "linux", env: {} };

describe("claudeDesktopPath", () => {
  test.each([
    [
      { ...linux, platform: "darwin" as const, homeDir: "/Users/me" },
      "/Users/me/Library/Application Support/Claude/claude_desktop_config.json",
    ],
    [linux, "/home/me/.config/Claude/claude_desktop_config.json"],
    [{ ...linux, env: { XDG_CONFIG_HOME: "/xdg" } }, "/xdg/Claude/claude_desktop_config.json"],
    [
      { ...linux, platform: "win32" as const, homeDir: "C:\\Users\\me", env: { APPDATA: "D:\\Roaming" } },
      "D:\\Roaming\\Claude\\claude_desktop_config.json",
    ],
    [
      { ...linux, platform: "win32" as const, homeDir: "C:\\Users\\me", env: {} },
      "C:\\Users\\me\\AppData\\Roaming\\Claude\\claude_desktop_config.json",
    ],
  ])("%j", (inputs, expected) => {
    expect(claudeDesktopPath(inputs)).toBe(expected);
  });
});

describe("knownConfigLocations", () => {
  test("every client's files, in order", () => {
    expect(knownConfigLocations(linux).map((l) => [l.client, l.path, l.format])).toEqual([
      ["claude-desktop", "/home/me/.config/Claude/claude_desktop_config.json", "mcpServers"],
      ["claude-code", "/home/me/.claude.json", "claude-json"],
      ["claude-code", "/work/app/.mcp.json", "mcpServers"],
      ["cursor", "/home/me/.cursor/mcp.json", "mcpServers"],
      ["cursor", "/work/app/.cursor/mcp.json", "mcpServers"],
      ["vscode", "/work/app/.vscode/mcp.json", "servers"],
    ]);
  });

  test("filtered by client", () => {
    expect(knownConfigLocations(linux, "vscode").map((l) => l.path)).toEqual(["/work/app/.vscode/mcp.json"]);
    expect(knownConfigLocations(linux, "claude-code")).toHaveLength(2);
  });

  test("cwd = home does not list ~/.cursor/mcp.json twice", () => {
    expect(knownConfigLocations({ ...linux, cwd: "/home/me" }, "cursor").map((l) => l.path)).toEqual([
      "/home/me/.cursor/mcp.json",
    ]);
  });

  test("CLAUDE_CONFIG_DIR moves .claude.json", () => {
    expect(knownConfigLocations({ ...linux, env: { CLAUDE_CONFIG_DIR: "/cfg" } }, "claude-code")[0]?.path).toBe(
      "/cfg/.claude.json",
    );
  });

  test("Windows paths use backslashes", () => {
    const win = knownConfigLocations(
      { homeDir: "C:\\Users\\me", cwd: "C:\\src\\app", platform: "win32", env: {} },
      "cursor",
    );
    expect(win.map((l) => l.path)).toEqual(["C:\\Users\\me\\.cursor\\mcp.json", "C:\\src\\app\\.cursor\\mcp.json"]);
  });
});

test.each([
  ['{"servers": {}}', "servers"],
  ['{"servers": {}, "mcpServers": {}}', "mcpServers"],
  ['{"mcpServers": {}, "projects": {}}', "claude-json"],
  ['{"projects": []}', "mcpServers"],
  ["{}", "mcpServers"],
  ["[]", "mcpServers"],
])("detectFormat(%p) = %p", (text, expected) => {
  expect(detectFormat(parseJsonc(text))).toBe(expected as ReturnType<typeof detectFormat>);
});

test("displayPath and isClientName", () => {
  expect(displayPath("/home/me/.cursor/mcp.json", "/home/me")).toBe("~/.cursor/mcp.json");
  expect(displayPath("/home/meow/x", "/home/me")).toBe("/home/meow/x");
  expect(displayPath("/etc/x", "")).toBe("/etc/x");
  expect(isClientName("cursor")).toBe(true);
  expect(isClientName("windsurf")).toBe(false);
});
