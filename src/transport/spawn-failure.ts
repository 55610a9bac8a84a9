// Why the server command could not start, said so the user can fix the host's config entry: the PATH searched, the directory a relative path was read from, a script without "#!" or whose "#!" interpreter is missing, a directory, a Windows command. Pure.

import { isAbsolutePath } from "../config-values.ts";

/** What is known about one failed start. */
export interface SpawnFailure {
  /** The command as the entry gives it (`npx`, `./server.sh`, `C:\…\npx.cmd`). */
  readonly command: string;
  /** The OS error code (`ENOENT`, `EACCES`, `ENOEXEC`), when there is one. */
  readonly code: string | undefined;
  /** The OS reason as the runtime worded it, for codes not explained here. */
  readonly reason: string;
  /** The PATH the command was looked up in (the proxy's, i.e. the host's). */
  readonly path: string | undefined;
  /** The working directory the host started the proxy in. */
  readonly cwd: string;
  readonly platform: NodeJS.Platform;
  /** What is at the command's path, for a command given as a path. */
  readonly kind: "file" | "directory" | "other" | "missing";
  /** The program a script's `#!` line names (its first word), when the command is such a file. */
  readonly interpreter?: string;
}

/**
 * One line: `cannot start "<command>": <what is wrong> (<code>): <what to do>`. The runtime's own
 * words are kept only for codes not explained here: Bun says "unknown error" for ENOEXEC and
 * "permission denied" for a directory, and neither names the PATH nor the directory it searched,
 * which is what a host-started proxy's user needs (hosts such as Claude Desktop start servers with
 * a short PATH and in the working directory `/`).
 */
export function describeSpawnFailure(failure: SpawnFailure): string {
  const { command, code } = failure;
  const head = `cannot start "${command}"`;
  const windowsShaped = failure.platform !== "win32" && isWindowsCommand(command);
  // `baton-proxy -- --url …`: our options written after the `--` that ends them.
  if (code === "ENOENT" && command.startsWith("-"))
    return `${head}: not found (ENOENT): everything after "--" is the server's command line, so this option was taken for a command; baton-proxy's own options go before "--" (baton-proxy --url URL, baton-proxy [options] -- <command> [args...])`;
  // `"args": ["--", "npx -y pkg"]`: a whole command line in one argument (a path with spaces is absolute).
  if (code === "ENOENT" && /\s/.test(command.trim()) && !isAbsolutePath(command, failure.platform) && !windowsShaped) {
    const words = command
      .trim()
      .split(/\s+/)
      .map((word) => JSON.stringify(word));
    return `${head}: not found (ENOENT): this is a whole command line in one argument; give the command and each argument as separate strings in the entry's args (${words.join(", ")})`;
  }
  if (code === "ENOENT" && windowsShaped)
    return `${head}: not found (ENOENT): it is a Windows command (a config entry copied from Windows?); on this system name the program itself (npx, node, uvx, python…) and its arguments`;
  // The file is there, so what was not found is what it needs to start: the interpreter its "#!" line
  // names (a moved virtualenv, python3 elsewhere) or, for a binary, its loader (built for glibc, run on musl).
  // Windows runs no "#!" line and resolves commands its own way (windows-command.ts): not said there.
  if (code === "ENOENT" && failure.kind === "file" && failure.platform !== "win32" && command.includes("/")) {
    const { interpreter } = failure;
    if (interpreter === undefined)
      return `${head}: the file is there, but something it needs to start was not found (ENOENT): a program built for another system (such as a glibc binary on a musl system like Alpine) fails so; use a build for this system`;
    const program = interpreter.split(/[\\/]/).pop() ?? "";
    const instead = program === "" || program === "env" ? "" : ` (${program} ${command})`;
    return `${head}: the file is there, but the interpreter its "#!" line names ${interpreter} was not found (ENOENT): correct that line, or put an interpreter this system has first in the entry${instead}`;
  }
  if (code === "ENOENT" && !hasSeparator(command, failure.platform))
    return `${head}: not found in PATH (ENOENT; PATH=${failure.path ?? "(not set)"}, the PATH the host started the proxy with, often shorter than a terminal's): give the command's absolute path in the entry (\`${failure.platform === "win32" ? "where" : "command -v"} ${command}\` in a terminal prints it), or set PATH in the entry's "env"`;
  if (code === "ENOENT" && !isAbsolutePath(command, failure.platform))
    return `${head}: no such file (ENOENT) in ${failure.cwd}, the working directory the host started the proxy in, which a relative path is read from: give the absolute path`;
  if (code === "ENOEXEC")
    return `${head}: the file is not a program this system can run (ENOEXEC): a script needs a first line such as "#!/usr/bin/env node", or put its interpreter first in the entry (node ${command})`;
  if (code === "EACCES" && failure.kind === "directory")
    return `${head}: it is a directory, not a program (EACCES): name the server's executable or script in it`;
  if (code === "EACCES" && failure.kind === "file")
    return `${head}: the file is not executable (EACCES): run "chmod +x ${command}", or put its interpreter first in the entry (node, python, sh…)`;
  return `${head}: ${failure.reason}`;
}

function hasSeparator(command: string, platform: NodeJS.Platform): boolean {
  return command.includes("/") || (platform === "win32" && command.includes("\\"));
}

/** `C:\…`, `npx.cmd`, `server.exe`, `cmd` (of `cmd /c npx …`): names only Windows runs. */
function isWindowsCommand(command: string): boolean {
  return /^[A-Za-z]:[\\/]/.test(command) || /\.(cmd|exe|bat)$/i.test(command) || command.toLowerCase() === "cmd";
}
