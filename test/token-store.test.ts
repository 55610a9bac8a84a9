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

test("auth logout --all leaves no file that may hold a token: damaged records and stray temp files go too", async () => {
  const dir = tempDir();
  try {
    const store = new TokenStore(dir);
    store.save({ server: "https://a.example/mcp", tokens: { refresh_token: "rt-a" } });
    writeFileSync(
      join(store.dir, "b.example-0123456789ab.json"),
      '{"server":"https://b.example/mcp","tokens":{"refresh_',
    ); // cut short
    writeFileSync(join(store.dir, "c.example-0123456789ab.json.4242.tmp"), '{"tokens":{"refresh_token":"rt-c"}}');
    const { runAuthCommand } = await import("../src/remote/auth-command.ts");
    const said: string[] = [];
    const io = {
      env: { BATON_CONFIG_DIR: dir },
      stdout: () => undefined,
      stderr: (text: string) => void said.push(text),
      execPath: "/bin/baton-proxy",
      cwd: dir,
      platform: process.platform,
      homeDir: dir,
    };
    const code = await runAuthCommand({ positionals: ["logout"], values: { all: true } }, io);
    expect(code).toBe(0);
    expect(readdirSync(store.dir)).toEqual([]);
    expect(said.join("")).toContain("forgot credentials for 1 server(s)");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
