// Unit: the child adapter carries the stop plan out on the whole tree (a recording OS seam, one short-lived real child).

import { describe, expect, test } from "bun:test";
import { chmodSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { childEnvironment, spawnChild, type ChildSystem } from "../src/transport/child-process.ts";
import { tempDir } from "./support/temp.ts";

function recordingSystem(platform: NodeJS.Platform) {
  const calls: string[] = [];
  const system: ChildSystem = {
    platform,
    kill: (pid, signal) => void calls.push(`kill ${pid} ${signal}`),
    run: (argv) => void calls.push(argv.join(" ")),
    groupAlive: () => false,
  };
  return { system, calls };
}

/** A child that exits when its stdin closes (like a well-behaved server), on every OS. */
const CAT = [process.execPath, "-e", "for await (const _ of Bun.stdin.stream()) {}"];

describe("the child adapter", () => {
  test("POSIX: signals go to the process group (negative pid), passed on as they come", async () => {
    const { system, calls } = recordingSystem(process.platform === "win32" ? "linux" : process.platform);
    const child = spawnChild(CAT, childEnvironment({ PATH: process.env.PATH }), undefined, system);
    child.signal("SIGINT");
    child.signal("SIGTERM");
    expect(calls).toEqual([`kill -${child.pid} SIGINT`, `kill -${child.pid} SIGTERM`]);
    // Signals leave its stdin open (the recording system delivers none, so it still runs): the
    // client's EOF is what closes it, and it exits by itself with nothing more sent.
    child.close();
    expect(await child.exited).toBe(0);
    await child.release();
    expect(calls).toHaveLength(2);
  });

  test("Windows: a third signal stops the tree with taskkill /T /F at once", async () => {
    const { system, calls } = recordingSystem("win32");
    const child = spawnChild(CAT, childEnvironment({ PATH: process.env.PATH }), undefined, system);
    child.signal("SIGINT");
    child.signal("SIGINT");
    child.signal("SIGINT");
    expect(calls).toEqual([`taskkill /T /F /PID ${child.pid}`]);
    await child.exited;
  });

  // The OS says ENOENT for a script whose "#!" interpreter is missing (a moved virtualenv, python3 elsewhere):
  // the message said the script itself was not in the working directory, and to give its absolute path.
  test.skipIf(process.platform === "win32")(
    "a script whose #! interpreter is missing: the message names the interpreter, not the script, as not found",
    () => {
      const script = join(tempDir(), "server.py");
      writeFileSync(script, "#!/nonexistent/venv/bin/python3 -u\nprint(1)\n");
      chmodSync(script, 0o755);
      for (const command of [script, relative(process.cwd(), script)]) {
        let message = "";
        try {
          spawnChild([command], childEnvironment({ PATH: process.env.PATH }));
        } catch (error) {
          message = (error as Error).message;
        }
        expect(message).toContain("the file is there");
        expect(message).toContain('"#!" line names /nonexistent/venv/bin/python3');
        expect(message).not.toContain("working directory");
      }
    },
  );

  test("the child's environment keeps everything but BATON_* variables", () => {
    expect(childEnvironment({ PATH: "/bin", BATON_API_KEY: "secret", HOME: "/h", EMPTY: undefined })).toEqual({
      PATH: "/bin",
      HOME: "/h",
    });
  });
});
