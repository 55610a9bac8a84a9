// Tests of where OAuth tokens are cached (src/remote/token-store.ts): never under the host's working directory.

import { describe, expect, test } from "bun:test";
import { LocalError } from "../src/errors.ts";
import { RELATIVE_CONFIG_DIR } from "../src/config.ts";
import { configDir } from "../src/remote/token-store.ts";

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
