// scripts/build.ts: the names it compiles to match the names Bun writes (Bun appends ".exe" to a Windows outfile that lacks it); the smoke run of the Linux binaries runs what can run here.

import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { HOST_BINARY, partialPath, runnerFor } from "../scripts/build.ts";
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

describe("the --version smoke run of the Linux release binaries", () => {
  const which = (command: string): string | null => `/usr/bin/${command}`;
  test("natively, or the other architecture through qemu-user with its C library", () => {
    expect(runnerFor("linux-x64", "linux-x64", which, () => true)).toEqual([]);
    expect(runnerFor("linux-arm64", "linux-x64", which, () => true)).toEqual([
      "/usr/bin/qemu-aarch64",
      "-L",
      "/usr/aarch64-linux-gnu",
    ]);
  });

  test("qemu-user without that architecture's C library cannot start the binary: not run, rather than failed", () => {
    expect(runnerFor("linux-arm64", "linux-x64", which, () => false)).toBeUndefined();
    expect(
      runnerFor(
        "linux-arm64",
        "linux-x64",
        () => null,
        () => true,
      ),
    ).toBeUndefined();
  });
});
