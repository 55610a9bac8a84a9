// describeSpawnFailure: each failed start names what to change in the host's entry, on every platform.

import { expect, test } from "bun:test";
import { describeSpawnFailure, type SpawnFailure } from "../src/transport/spawn-failure.ts";

const BASE: SpawnFailure = {
  command: "npx",
  code: "ENOENT",
  reason: "ENOENT: the runtime's words",
  path: "/usr/bin:/bin",
  cwd: "/",
  platform: "darwin",
  kind: "missing",
};

test.each<[Partial<SpawnFailure>, string[]]>([
  [{}, ["not found in PATH", "PATH=/usr/bin:/bin", "command -v npx"]],
  [{ path: undefined }, ["PATH=(not set)"]],
  [{ command: "./server.sh" }, ["in /, the working directory", "absolute path"]],
  [{ command: "bin/server" }, ["in /, the working directory"]],
  [{ command: "/opt/none/server" }, ["ENOENT: the runtime's words"]],
  [{ command: "--url" }, ['own options go before "--"']],
  [{ command: "npx -y @scope/pkg" }, ['"npx", "-y", "@scope/pkg"']],
  [{ command: "/Applications/My Server/run" }, ["ENOENT: the runtime's words"]],
  [{ command: "C:\\tools\\server.exe" }, ["Windows command"]],
  [{ command: "cmd" }, ["Windows command"]],
  [{ command: "C:\\tools\\server.exe", platform: "win32" }, ["ENOENT: the runtime's words"]],
  [{ command: "server", platform: "win32", path: "C:\\Windows" }, ["PATH=C:\\Windows", "`where server`"]],
  [
    { command: "tools\\server.exe", platform: "win32", cwd: "C:\\Users\\me" },
    ["in C:\\Users\\me, the working directory"],
  ],
  [{ command: "/srv/x.js", code: "ENOEXEC", kind: "file" }, ["#!/usr/bin/env node", "node /srv/x.js"]],
  [{ command: "/srv", code: "EACCES", kind: "directory" }, ["is a directory"]],
  [{ command: "/srv/x.sh", code: "EACCES", kind: "file" }, ["chmod +x /srv/x.sh"]],
  [{ command: "/srv/x.sh", code: "EPERM", kind: "file" }, ["ENOENT: the runtime's words"]],
  // The file is there: what was not found is the interpreter its "#!" line names (or a binary's loader).
  [
    { command: "./server.py", kind: "file", interpreter: "/opt/none/python3" },
    ["the file is there", '"#!" line names /opt/none/python3', "python3 ./server.py"],
  ],
  [{ command: "/srv/server", kind: "file", interpreter: "/usr/bin/env" }, ['"#!" line names /usr/bin/env']],
  [{ command: "bin/server", kind: "file" }, ["the file is there", "built for another system"]],
  [
    { command: "tools\\server.exe", kind: "file", platform: "win32", cwd: "C:\\me" },
    ["in C:\\me, the working directory"],
  ],
])("%j", (facts, parts) => {
  const text = describeSpawnFailure({ ...BASE, ...facts });
  expect(text.startsWith(`cannot start "${facts.command ?? BASE.command}": `)).toBe(true);
  for (const part of parts) expect(text).toContain(part);
  // A file that is there is never said to be missing from the working directory.
  if (facts.kind === "file" && facts.platform !== "win32") expect(text).not.toContain("working directory");
});
