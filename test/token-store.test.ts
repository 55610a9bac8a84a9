// Where the OAuth cache lives (src/remote/token-store.ts configDir), per platform and environment, and how it is written.

import { describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { configDir, TokenStore } from "../src/remote/token-store.ts";
import { tempDir } from "./support/proxy-process.ts";

describe("configDir", () => {
  const home = () => "/home/me";
  test.each([
    ["BATON_CONFIG_DIR wins", { BATON_CONFIG_DIR: "/etc/bp", XDG_CONFIG_HOME: "/xdg" }, "linux", "/etc/bp"],
    ["XDG_CONFIG_HOME", { XDG_CONFIG_HOME: "/xdg" }, "linux", "/xdg/baton-proxy"],
    ["the default", {}, "linux", "/home/me/.config/baton-proxy"],
    // The XDG spec: a relative path in these variables is invalid and ignored. Taken as is, it put
    // the sign-in tokens in whatever directory the host started the proxy in (a project, a repository).
    ["a relative XDG_CONFIG_HOME is ignored", { XDG_CONFIG_HOME: ".config" }, "linux", "/home/me/.config/baton-proxy"],
  ] as const)("%s", (_name, env, platform, expected) => {
    expect(configDir(env, home, platform)).toBe(expected);
  });
});

test("a write that fails (the record's path taken by a directory) leaves no temp file with the tokens behind", () => {
  const dir = tempDir();
  try {
    const failures: unknown[] = [];
    const store = new TokenStore(dir, (error) => failures.push(error));
    const server = "https://mcp.example.com/mcp";
    mkdirSync(join(store.pathOf(server), "in-the-way"), { recursive: true });
    writeFileSync(join(store.pathOf(server), "in-the-way", "x"), "");
    store.save({ server, tokens: { access_token: "at-secret", refresh_token: "rt-secret" } });
    expect(failures.length).toBe(1);
    expect(store.load(server).tokens?.refresh_token).toBe("rt-secret"); // kept for this process
    expect(readdirSync(store.dir).filter((name) => name.endsWith(".tmp"))).toEqual([]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
