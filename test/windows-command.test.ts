// Unit: starting a server command on Windows the way hosts do (PATHEXT, .cmd shims through cmd.exe) and stopping its tree; pure, runs on every OS.

import { describe, expect, test } from "bun:test";
import {
  findWindowsExecutable,
  quoteForCmd,
  resolveWindowsCommand,
  treeKillCommand,
} from "../src/transport/windows-command.ts";

const NODE_DIR = "C:\\Program Files\\nodejs";
const files = new Set([
  `${NODE_DIR}\\node.exe`,
  `${NODE_DIR}\\npx.cmd`,
  `${NODE_DIR}\\npx`, // the POSIX shell shim npm also installs: never what Windows runs
  "C:\\tools\\uvx.exe",
  "C:\\proj\\node_modules\\.bin\\my-server.cmd",
  "C:\\proj\\run.bat",
]);
const isFile = (path: string) => files.has(path);
const env = {
  Path: `C:\\tools;"${NODE_DIR}"`,
  PATHEXT: ".COM;.EXE;.BAT;.CMD",
  ComSpec: "C:\\Windows\\system32\\cmd.exe",
};

describe("finding the executable", () => {
  test.each([
    ["npx", `${NODE_DIR}\\npx.cmd`],
    ["node", `${NODE_DIR}\\node.exe`],
    ["uvx", "C:\\tools\\uvx.exe"],
    ["node.exe", `${NODE_DIR}\\node.exe`],
    ["C:\\proj\\run", "C:\\proj\\run.bat"],
    ["C:\\proj\\node_modules\\.bin\\my-server", "C:\\proj\\node_modules\\.bin\\my-server.cmd"],
    ["no-such-server", undefined],
  ])("%s -> %s", (name, found) => {
    expect(findWindowsExecutable(name, env, isFile)).toBe(found);
  });

  test("PATH and PATHEXT are read whatever their case; without PATHEXT the Windows default applies", () => {
    expect(findWindowsExecutable("npx", { PATH: NODE_DIR }, isFile)).toBe(`${NODE_DIR}\\npx.cmd`);
  });
});

describe("the argv given to Bun.spawn", () => {
  test("an .exe runs directly, arguments untouched", () => {
    expect(resolveWindowsCommand(["uvx", "mcp-server-git", "--repo", "C:\\my repo"], env, isFile)).toEqual({
      argv: ["C:\\tools\\uvx.exe", "mcp-server-git", "--repo", "C:\\my repo"],
      verbatim: false,
    });
  });

  test("a .cmd shim runs through cmd.exe /d /s /c with one quoted, escaped line", () => {
    const launch = resolveWindowsCommand(
      ["npx", "-y", "@modelcontextprotocol/server-filesystem", "C:\\My Files"],
      env,
      isFile,
    );
    expect(launch.verbatim).toBe(true);
    expect(launch.argv.slice(0, 4)).toEqual(["C:\\Windows\\system32\\cmd.exe", "/d", "/s", "/c"]);
    expect(launch.argv[4]).toBe(
      '"C:\\Program^ Files\\nodejs\\npx.cmd ^"-y^" ^"@modelcontextprotocol/server-filesystem^" ^"C:\\My^ Files^""',
    );
  });

  test("metacharacters cannot start a second command; npm shims get them escaped twice", () => {
    expect(quoteForCmd("a&calc", false)).toBe('^"a^&calc^"');
    expect(quoteForCmd("100%", false)).toBe('^"100^%^"');
    expect(quoteForCmd('say "hi"', false)).toBe('^"say^ \\^"hi\\^"^"');
    expect(quoteForCmd("trailing\\", false)).toBe('^"trailing\\\\^"');
    expect(quoteForCmd("a&b", true)).toBe('^^^"a^^^&b^^^"');
    const shim = resolveWindowsCommand(["C:\\proj\\node_modules\\.bin\\my-server", "x|y"], env, isFile);
    expect(shim.argv[4]).toBe('"C:\\proj\\node_modules\\.bin\\my-server.cmd ^^^"x^^^|y^^^""');
  });

  test("a command that is nowhere is passed as is (the spawn fails with ENOENT: exit 127 naming it)", () => {
    expect(resolveWindowsCommand(["no-such-server", "--flag"], env, isFile)).toEqual({
      argv: ["no-such-server", "--flag"],
      verbatim: false,
    });
  });
});

test("the tree is stopped with taskkill /T /F on the server's pid", () => {
  expect(treeKillCommand(4242)).toEqual(["taskkill", "/T", "/F", "/PID", "4242"]);
});
