// Where the OAuth cache lives (src/remote/token-store.ts configDir), per platform and environment, and how it is written:
// never under the host's working directory.

import { describe, expect, spyOn, test } from "bun:test";
import * as fs from "node:fs";
import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { RELATIVE_CONFIG_DIR } from "../src/config-values.ts";
import { LocalError } from "../src/errors.ts";
import { configDir, TokenStore } from "../src/remote/token-store.ts";
import { tempDir } from "./support/proxy-process.ts";
import { giveToAnotherUser } from "./support/users.ts";

const home = () => "/home/me";

describe("configDir", () => {
  test("an absolute BATON_CONFIG_DIR or XDG_CONFIG_HOME is used", () => {
    expect(configDir({ BATON_CONFIG_DIR: "/srv/baton" }, home, "linux")).toBe("/srv/baton");
    expect(configDir({ XDG_CONFIG_HOME: "/x/cfg" }, home, "linux")).toBe("/x/cfg/baton-proxy");
    expect(configDir({}, home, "linux")).toBe("/home/me/.config/baton-proxy");
  });

  // A host config's env is not expanded by a shell: "~/.baton" would be a directory named "~" under the
  // host's working directory (often the user's repository), holding refresh tokens.
  test("a relative BATON_CONFIG_DIR (a ~ no shell expanded) is refused, not resolved against the working directory", () => {
    for (const dir of ["~/.baton", "cfg", "./cfg"]) {
      let thrown: unknown;
      try {
        configDir({ BATON_CONFIG_DIR: dir }, home, "linux");
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(LocalError);
      expect((thrown as LocalError).code).toBe("E_CONFIG");
      expect((thrown as LocalError).message).toContain("BATON_CONFIG_DIR must be an absolute path");
    }
  });

  test("a relative XDG_CONFIG_HOME is ignored, as the XDG spec says", () => {
    expect(configDir({ XDG_CONFIG_HOME: "~/.config" }, home, "linux")).toBe("/home/me/.config/baton-proxy");
  });

  describe("where", () => {
    const home = () => "/home/me";
    test.each([
      ["BATON_CONFIG_DIR wins", { BATON_CONFIG_DIR: "/etc/bp", XDG_CONFIG_HOME: "/xdg" }, "linux", "/etc/bp"],
      ["XDG_CONFIG_HOME", { XDG_CONFIG_HOME: "/xdg" }, "linux", "/xdg/baton-proxy"],
      ["the default", {}, "linux", "/home/me/.config/baton-proxy"],
      // The XDG spec: a relative path in these variables is invalid and ignored. Taken as is, it put
      // the sign-in tokens in whatever directory the host started the proxy in (a project, a repository).
      [
        "a relative XDG_CONFIG_HOME is ignored",
        { XDG_CONFIG_HOME: ".config" },
        "linux",
        "/home/me/.config/baton-proxy",
      ],
      // Read like every other BATON_* value (surrounding blanks dropped, blank = unset): taken as is,
      // " /etc/bp" or "  " was a relative path, and the tokens went under the host's working directory.
      ["BATON_CONFIG_DIR's surrounding blanks are dropped", { BATON_CONFIG_DIR: " /etc/bp\n" }, "linux", "/etc/bp"],
      ["a blank BATON_CONFIG_DIR is unset", { BATON_CONFIG_DIR: "  " }, "linux", "/home/me/.config/baton-proxy"],
    ] as const)("%s", (_name, env, platform, expected) => {
      expect(configDir(env, home, platform)).toBe(expected);
    });
  });

  test("a relative BATON_CONFIG_DIR (~/.baton from a host's env block) is a configuration error, not a directory under the working directory", () => {
    expect(() => configDir({ BATON_CONFIG_DIR: "~/.baton" }, home, "linux")).toThrow(RELATIVE_CONFIG_DIR);
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

test("a save never writes through another writer's temp file, even one named after this process id (a proxy in another container sharing the cache)", () => {
  const dir = tempDir();
  try {
    const store = new TokenStore(dir);
    const server = "https://mcp.example.com/mcp";
    store.save({ server, tokens: { refresh_token: "rt-1" } });
    // Another writer (pid 1 in its own container, as this one may be in its own) is halfway through its temp file.
    const theirs = `${store.pathOf(server)}.${process.pid}.tmp`;
    writeFileSync(theirs, '{"server":"https://mcp.example.com/mcp","tokens":{"refresh_');
    store.save({ server, tokens: { refresh_token: "rt-2" } });
    expect(readFileSync(theirs, "utf8")).toBe('{"server":"https://mcp.example.com/mcp","tokens":{"refresh_');
    expect(store.load(server).tokens?.refresh_token).toBe("rt-2");
    expect(statSync(store.pathOf(server)).mode & 0o777).toBe(0o600);
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

describe("a cache another user could have written (a BATON_CONFIG_DIR in a shared place someone else made first)", () => {
  // Records planted there were used as this user's: the planter's access token sent to the server (the
  // agent's work landing in their account), their discovery naming the token endpoint a refresh goes to.
  const server = "https://mcp.example.com/mcp";
  const planted = (dir: string): TokenStore => {
    const store = new TokenStore(dir);
    store.save({ server, tokens: { access_token: "at-planted", refresh_token: "rt-planted" } });
    return store;
  };

  test("a directory others can write to: no record is read from it, and this is said once", () => {
    const dir = tempDir();
    try {
      const { dir: oauth } = planted(dir);
      chmodSync(oauth, 0o777);
      const said: string[] = [];
      const store = new TokenStore(dir, undefined, (text) => said.push(text));
      expect(store.load(server).tokens).toBeUndefined();
      expect(store.list()).toEqual([]);
      expect(said).toHaveLength(1);
      expect(said[0]).toContain(`${oauth} is writable by every user (mode 777)`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a record owned by another user is not read; the cache's own records still are", () => {
    const dir = tempDir();
    try {
      const store = planted(dir);
      if (giveToAnotherUser(store.pathOf(server)) === undefined) return; // neither root nor sudo here
      store.save({ server: "https://mine.example/mcp", tokens: { access_token: "at-mine" } });
      const said: string[] = [];
      const reader = new TokenStore(dir, undefined, (text) => said.push(text));
      expect(reader.load(server).tokens).toBeUndefined();
      expect(reader.list().map((r) => r.server)).toEqual(["https://mine.example/mcp"]);
      expect(said.join("")).toContain("is owned by uid");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

test("a saved record is on the disk before it replaces the last one, and the replacement too: a crash just after a refresh leaves the new tokens, not an empty file", () => {
  // Without fsync a crash after the rename could leave the record empty (XFS, APFS) or the old one,
  // whose refresh token rotation had just revoked: either way a sign-in in the browser again.
  const dir = tempDir();
  const order: string[] = [];
  const realFsync = fs.fsyncSync;
  const realRename = fs.renameSync;
  const fsync = spyOn(fs, "fsyncSync").mockImplementation((fd) => {
    order.push(fs.fstatSync(fd).isDirectory() ? "fsync directory" : "fsync file");
    realFsync(fd);
  });
  const rename = spyOn(fs, "renameSync").mockImplementation((from, to) => {
    order.push("rename");
    realRename(from, to);
  });
  try {
    new TokenStore(dir).save({ server: "https://mcp.example.com/mcp", tokens: { refresh_token: "rt-new" } });
    expect(order).toEqual(["fsync file", "rename", "fsync directory"]);
  } finally {
    fsync.mockRestore();
    rename.mockRestore();
    rmSync(dir, { recursive: true, force: true });
  }
});
