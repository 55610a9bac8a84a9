// Tests of where OAuth tokens are cached (src/remote/token-store.ts): never under the host's working directory.

import { describe, expect, test } from "bun:test";
import { LocalError } from "../src/errors.ts";
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
});
