// Black-box, Windows only (the CI workflow's Windows job): a server started through a .cmd shim the way hosts start npx, and its whole tree stopped on stdin EOF.

import { afterAll, describe, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FIXTURES, INIT_PARAMS, isAlive, startProxy, tempDir } from "./support/proxy-process.ts";

const dirs: string[] = [];
const leftovers: number[] = [];
afterAll(() => {
  for (const pid of leftovers) if (isAlive(pid)) process.kill(pid, "SIGKILL");
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A directory holding `<name>.cmd` running `line`, and the environment that finds it by its bare name. */
function shim(name: string, line: string): Record<string, string> {
  const dir = tempDir();
  dirs.push(dir);
  writeFileSync(join(dir, `${name}.cmd`), `@echo off\r\n${line}\r\n`);
  // Windows programs need these beyond PATH; the test environment is otherwise clean.
  const keep = ["SystemRoot", "ComSpec", "PATHEXT", "TEMP", "TMP", "USERPROFILE"];
  const env: Record<string, string> = { PATH: `${dir};${process.env.PATH ?? ""}`, BATON_EVENT_SINK: "stderr:" };
  for (const key of keep) if (process.env[key] !== undefined) env[key] = process.env[key] as string;
  return env;
}

describe.skipIf(process.platform !== "win32")("Windows: launched like hosts launch, stopped as a tree", () => {
  test("a bare name resolves through PATHEXT to a .cmd shim (like npx.cmd); arguments with spaces arrive intact", async () => {
    const env = shim(
      "echo-shim",
      `echo shim arg: [%~1] [%2] 1>&2\r\n"${process.execPath}" "${join(FIXTURES, "echo-server.ts")}" %*`,
    );
    const p = await startProxy(["echo-shim", "an argument with spaces", "a&b"], { env });
    const init = await p.request(0, "initialize", INIT_PARAMS);
    await p.waitForStderr(`shim arg: [an argument with spaces] ["a&b"]`);
    expect(init.result.serverInfo.name).toBe("fixture");
    const echoed = await p.request(1, "tools/call", { name: "echo", arguments: { text: "through cmd.exe" } });
    expect(echoed.result.content[0].text).toBe("through cmd.exe");
    expect(await p.close()).toBe(0);
  });

  test("stdin EOF: a server behind a .cmd shim and a launcher that drops signals, ignoring EOF, is gone within 3 s", async () => {
    const launcher = join(FIXTURES, "signal-dropping-launcher.ts");
    const env = shim(
      "stubborn-shim",
      `"${process.execPath}" "${launcher}" "${process.execPath}" "${join(FIXTURES, "never-exits-server.ts")}"`,
    );
    const p = await startProxy(["stubborn-shim"], { env });
    leftovers.push(p.proc.pid);
    await p.request(0, "initialize", INIT_PARAMS);
    const match = p.stderr().match(/fixture pid (\d+)/);
    expect(match).not.toBeNull();
    const server = Number(match?.[1]);
    leftovers.push(server);
    const started = performance.now();
    p.proc.stdin.end();
    await Promise.race([p.proc.exited, Bun.sleep(5_000)]);
    expect(performance.now() - started).toBeLessThan(3_000);
    expect(isAlive(server)).toBe(false);
  });
});
