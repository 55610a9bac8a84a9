// The I/O a subcommand may use, passed in by src/main.ts so commands stay testable without processes.

import { isAbsolutePath } from "./config-values.ts";
import { LocalError } from "./errors.ts";

/** What every subcommand gets from the entry point. Only main.ts builds one from the real process. */
export interface CommandContext {
  /** The environment (a plain object; never `process.env` itself in tests). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Writes to the command's stdout (reports, diffs, listings). */
  readonly stdout: (text: string) => void;
  /** Writes to stderr (errors, warnings). */
  readonly stderr: (text: string) => void;
  /** Absolute path of the running baton-proxy binary (what `wrap` writes into configs). */
  readonly execPath: string;
  readonly cwd: string;
  readonly platform: NodeJS.Platform;
  /** The user's home directory (see resolveHomeDir; reading it may throw its E_CONFIG). */
  readonly homeDir: string;
}

/**
 * The home directory: HOME (then USERPROFILE) when it is an absolute path, else the system's
 * (`systemHome`, the password database). On Windows only USERPROFILE, then the system's: hosts
 * (Node, Electron: libuv) never read HOME there, which Git for Windows or a domain profile may
 * point elsewhere, and `wrap` must edit the files they read. An empty or relative HOME is no home: `~/.claude.json`
 * would name a file in the current directory (wrap would edit it, the OAuth cache would be
 * written there). Throws LocalError E_CONFIG when there is none (a container user without a
 * passwd entry and no HOME), naming what to set.
 */
export function resolveHomeDir(
  env: Readonly<Record<string, string | undefined>>,
  platform: NodeJS.Platform,
  systemHome: () => string,
): string {
  const isAbsolute = (text: string): boolean => isAbsolutePath(text, platform);
  const candidates = platform === "win32" ? [env.USERPROFILE] : [env.HOME, env.USERPROFILE];
  for (const given of candidates) if (given !== undefined && isAbsolute(given)) return given;
  let system = "";
  try {
    system = systemHome();
  } catch {
    // No passwd entry for this user: said below.
  }
  if (isAbsolute(system)) return system;
  throw new LocalError(
    "E_CONFIG",
    "no home directory: HOME is not an absolute path and the system knows none for this user; set HOME (or BATON_CONFIG_DIR for the sign-in cache)",
  );
}
