// The home directory a subcommand gets: never an empty or relative path, a clear refusal when there is none.

import { describe, expect, test } from "bun:test";
import { resolveHomeDir } from "../src/command-context.ts";
import { LocalError } from "../src/errors.ts";

const noPasswdEntry = (): string => {
  throw new Error("ENOENT: no such file or directory, uv_os_homedir");
};

describe("resolveHomeDir", () => {
  const cases: [string, Record<string, string>, NodeJS.Platform, string, string][] = [
    ["HOME when absolute", { HOME: "/home/me" }, "linux", "/etc/x", "/home/me"],
    ["an empty HOME falls to the system's", { HOME: "" }, "linux", "/home/sys", "/home/sys"],
    ["a relative HOME falls to USERPROFILE", { HOME: "me", USERPROFILE: "/u/me" }, "linux", "/x", "/u/me"],
    ["Windows paths", { HOME: "", USERPROFILE: "C:\\Users\\me" }, "win32", "", "C:\\Users\\me"],
    // Hosts on Windows (Node, Electron: libuv) read USERPROFILE and never HOME, which Git for Windows,
    // MSYS or a domain profile may set elsewhere: ~/.claude.json and ~/.cursor are where they look.
    ["Windows: USERPROFILE, not HOME", { HOME: "H:\\", USERPROFILE: "C:\\Users\\me" }, "win32", "", "C:\\Users\\me"],
    ["Windows: HOME alone is not the home", { HOME: "H:\\" }, "win32", "C:\\Users\\sys", "C:\\Users\\sys"],
  ];
  test.each(cases)("%s", (_name, env, platform, system, expected) => {
    expect(resolveHomeDir(env, platform, () => system)).toBe(expected);
  });

  test("no HOME and no passwd entry (a container's arbitrary user): E_CONFIG naming what to set, not a crash", () => {
    let thrown: unknown;
    try {
      resolveHomeDir({}, "linux", noPasswdEntry);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(LocalError);
    expect((thrown as LocalError).code).toBe("E_CONFIG");
    expect((thrown as LocalError).message).toContain("set HOME");
    expect(() => resolveHomeDir({ HOME: "" }, "linux", () => "")).toThrow("no home directory");
  });
});
