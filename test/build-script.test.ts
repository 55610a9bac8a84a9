// scripts/build.ts: the names it compiles to match the names Bun writes (Bun appends ".exe" to a Windows outfile that lacks it).

import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { HOST_BINARY, partialPath } from "../scripts/build.ts";
import { ROOT } from "./support/binary.ts";

describe("build output names", () => {
  test.each([
    ["dist/baton-proxy", "dist/baton-proxy.partial-7"],
    // On Windows HOST_BINARY is baton-proxy.exe: the partial must end in .exe too, or Bun writes
    // "baton-proxy.exe.partial-7.exe" and the rename after the compile finds nothing.
    ["dist/baton-proxy.exe", "dist/baton-proxy.partial-7.exe"],
  ])("a build of %s is compiled into %s, then renamed", (outfile, partial) => {
    expect(partialPath(outfile, 7)).toBe(partial);
  });

  test("the host binary is dist/baton-proxy, with .exe on Windows", () => {
    const name = process.platform === "win32" ? "baton-proxy.exe" : "baton-proxy";
    expect(HOST_BINARY).toBe(join(ROOT, "dist", name));
  });
});
