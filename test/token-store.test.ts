// Where the OAuth cache lives (src/remote/token-store.ts configDir), per platform and environment.

import { describe, expect, test } from "bun:test";
import { RELATIVE_CONFIG_DIR } from "../src/config.ts";
import { configDir } from "../src/remote/token-store.ts";

describe("configDir", () => {
  const home = () => "/home/me";
  test.each([
    ["BATON_CONFIG_DIR wins", { BATON_CONFIG_DIR: "/etc/bp", XDG_CONFIG_HOME: "/xdg" }, "linux", "/etc/bp"],
    ["XDG_CONFIG_HOME", { XDG_CONFIG_HOME: "/xdg" }, "linux", "/xdg/baton-proxy"],
    ["the default", {}, "linux", "/home/me/.config/baton-proxy"],
    // The XDG spec: a relative path in these variables is invalid and ignored. Taken as is, it put
    // the sign-in tokens in whatever directory the host started the proxy in (a project, a repository).
    ["a relative XDG_CONFIG_HOME is ignored", { XDG_CONFIG_HOME: ".config" }, "linux", "/home/me/.config/baton-proxy"],
    // Read like every other BATON_* value (surrounding blanks dropped, blank = unset): taken as is,
    // " /etc/bp" or "  " was a relative path, and the tokens went under the host's working directory.
    ["BATON_CONFIG_DIR's surrounding blanks are dropped", { BATON_CONFIG_DIR: " /etc/bp\n" }, "linux", "/etc/bp"],
    ["a blank BATON_CONFIG_DIR is unset", { BATON_CONFIG_DIR: "  " }, "linux", "/home/me/.config/baton-proxy"],
  ] as const)("%s", (_name, env, platform, expected) => {
    expect(configDir(env, home, platform)).toBe(expected);
  });

  test("a relative BATON_CONFIG_DIR (~/.baton from a host's env block) is a configuration error, not a directory under the working directory", () => {
    expect(() => configDir({ BATON_CONFIG_DIR: "~/.baton" }, home, "linux")).toThrow(RELATIVE_CONFIG_DIR);
  });
});
