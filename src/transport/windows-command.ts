// How a server command is started and its tree stopped on Windows, the way hosts do it (PATHEXT lookup, .cmd/.bat shims through cmd.exe, taskkill /T). Pure: file checks come in as a parameter.

import { win32 } from "node:path";

/** Used when the environment has no PATHEXT (the Windows default). */
export const DEFAULT_PATHEXT = ".COM;.EXE;.BAT;.CMD";

/** cmd.exe metacharacters, escaped with `^` on a cmd.exe command line. */
const CMD_META = /([()\][%!^"`<>&|;, *?])/g;
/** npm's generated shims call another cmd line, which parses metacharacters a second time. */
const NPM_SHIM = /node_modules[\\/]\.bin[\\/][^\\/]+\.cmd$/i;

export interface WindowsLaunch {
  /** What to give Bun.spawn. */
  readonly argv: readonly string[];
  /** Pass as `windowsVerbatimArguments`: the cmd.exe line is already quoted. */
  readonly verbatim: boolean;
}

/** An environment variable by case-insensitive name (Windows has `Path`, not `PATH`). */
function envValue(env: Readonly<Record<string, string | undefined>>, name: string): string | undefined {
  const key = Object.keys(env).find((k) => k.toUpperCase() === name);
  return key === undefined ? undefined : env[key];
}

/**
 * The file `name` runs, searched like cmd.exe does: a name with a directory part is tried as is and
 * with each PATHEXT extension; a bare name in each PATH directory. Undefined when nothing matches
 * (the spawn then fails with ENOENT and the proxy exits 127 naming the command).
 */
export function findWindowsExecutable(
  name: string,
  env: Readonly<Record<string, string | undefined>>,
  isFile: (path: string) => boolean,
): string | undefined {
  const extensions = (envValue(env, "PATHEXT") ?? DEFAULT_PATHEXT).split(";").filter((e) => e !== "");
  const hasExtension = extensions.some((e) => name.toUpperCase().endsWith(e.toUpperCase()));
  const candidates = (base: string) => (hasExtension ? [base] : extensions.map((e) => base + e.toLowerCase()));
  const hasDirectory = /[\\/]/.test(name) || /^[a-zA-Z]:/.test(name);
  const bases = hasDirectory
    ? [name]
    : (envValue(env, "PATH") ?? "")
        .split(";")
        .filter((d) => d !== "")
        .map((dir) => win32.join(dir.replace(/^"(.*)"$/, "$1"), name));
  for (const base of bases) for (const candidate of candidates(base)) if (isFile(candidate)) return candidate;
  return undefined;
}

/**
 * The argv that starts `command` on Windows. An .exe/.com runs directly; a .cmd/.bat (npx.cmd,
 * generated shims) runs through `cmd.exe /d /s /c "<line>"` with every argument quoted for
 * CreateProcess and its metacharacters escaped for cmd.exe (twice for npm shims), so arguments
 * with spaces, quotes, `&` or `%` arrive intact and cannot run anything else.
 */
export function resolveWindowsCommand(
  command: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  isFile: (path: string) => boolean,
): WindowsLaunch {
  const [name, ...args] = command;
  if (name === undefined) return { argv: [], verbatim: false };
  const found = findWindowsExecutable(name, env, isFile);
  if (found === undefined) return { argv: command, verbatim: false };
  if (!/\.(cmd|bat)$/i.test(found)) return { argv: [found, ...args], verbatim: false };
  const twice = NPM_SHIM.test(found);
  const line = [win32.normalize(found).replace(CMD_META, "^$1"), ...args.map((a) => quoteForCmd(a, twice))].join(" ");
  return { argv: [envValue(env, "COMSPEC") ?? "cmd.exe", "/d", "/s", "/c", `"${line}"`], verbatim: true };
}

/** One argument: CreateProcess quoting (backslashes before quotes doubled), then cmd.exe escaping. */
export function quoteForCmd(arg: string, twice: boolean): string {
  let quoted = arg.replace(/(\\*)"/g, '$1$1\\"').replace(/(\\+)$/, "$1$1");
  quoted = `"${quoted}"`.replace(CMD_META, "^$1");
  return twice ? quoted.replace(CMD_META, "^$1") : quoted;
}

/** Stops the whole tree under `pid` at once (Windows has no signals to pass on): taskkill /T /F. */
export function treeKillCommand(pid: number): readonly string[] {
  return ["taskkill", "/T", "/F", "/PID", String(pid)];
}
